// deno-lint-ignore-file no-console -- a benchmark prints its figures
/**
 * What the key guard (triggers on _jdo_rows refusing rows sealed under a key
 * other than the check record's) costs a first encrypted upload: N sealed
 * rows pushed in chunks of 1,000 with the sealed upsert, on a fresh sqld
 * with and without the guard, runs interleaved (alternating which goes
 * first). Prints the medians and their ratio.
 *
 *   deno run -A scripts/bench_key_guard.ts [--rows 100000] [--runs 3]
 */
import { parseArgs } from "node:util";
import { startSqld } from "../tests/helpers/sqld.ts";
import { openRemote } from "../tests/helpers/sqld.ts";
import { KEY_GUARD, SEALED_TABLE, sealedUpsertSql } from "../src/sync/e2e_schema.ts";
import { fmtMs, median } from "./bench_lib.ts";

const { values: flags } = parseArgs({
  options: { rows: { type: "string" }, runs: { type: "string" } },
});
const ROWS = Number(flags.rows ?? 100_000);
const RUNS = Number(flags.runs ?? 3);
const CHUNK = 1_000;
const KEY_ID = "0123456789abcdef";
const payload = `e1.${KEY_ID}.${"A".repeat(800)}`;

async function uploadMs(guard: boolean): Promise<number> {
  await using server = await startSqld();
  using client = openRemote(server.url, "");
  await client.batch([
    "CREATE TABLE _jdo_meta (key TEXT PRIMARY KEY, value TEXT)",
    "INSERT INTO _jdo_meta VALUES ('seq', '0'), ('e2e', json_object('v', 1, 'key_id', '" +
    KEY_ID + "'))",
    `CREATE TABLE ${SEALED_TABLE} (tbl TEXT NOT NULL, id TEXT NOT NULL, version TEXT NOT NULL,
      _fv TEXT, data TEXT NOT NULL, _seq INTEGER NOT NULL, _by TEXT, PRIMARY KEY (tbl, id))`,
    `CREATE INDEX ${SEALED_TABLE}_seq ON ${SEALED_TABLE} (tbl, _seq, id)`,
    ...(guard ? KEY_GUARD : []),
  ], "write");
  const started = performance.now();
  for (let from = 0; from < ROWS; from += CHUNK) {
    const rows = Array.from({ length: Math.min(CHUNK, ROWS - from) }, (_, i) => {
      const id = String(from + i).padStart(8, "0");
      return [id, "1781076601249-0000-52f0c657df1c", null, payload];
    });
    await client.batch([
      "UPDATE _jdo_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'seq'",
      { sql: sealedUpsertSql(), args: ["commitments", "dev", JSON.stringify(rows), 0, "dev"] },
    ], "write");
  }
  return performance.now() - started;
}

const times: Record<"plain" | "guard", number[]> = { plain: [], guard: [] };
for (let run = 0; run < RUNS; run++) {
  const order = run % 2 === 0 ? [false, true] : [true, false];
  for (const guard of order) times[guard ? "guard" : "plain"].push(await uploadMs(guard));
}
const [a, b] = [median(times.plain), median(times.guard)];
console.log(`${ROWS} sealed rows, ${RUNS} runs each, interleaved`);
console.log(`  without the guard: ${fmtMs(a)}  (${times.plain.map(fmtMs).join(", ")})`);
console.log(`  with the guard:    ${fmtMs(b)}  (${times.guard.map(fmtMs).join(", ")})`);
console.log(`  ratio: ${(b / a).toFixed(2)}×`);
