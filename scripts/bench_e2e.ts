// deno-lint-ignore-file no-console -- a benchmark prints its figures
/**
 * End-to-end encryption's cost, plain and encrypted runs interleaved on
 * fresh sqld servers:
 *
 *   upload    device A imports N rows, then `sync setup [--encrypt]` uploads them
 *   download  device B `sync setup` (with the phrase) downloads them
 *   one edit  A edits one row and syncs; B syncs and pulls it
 *
 * Prints the median of each and the encrypted/plain ratio.
 *
 *   deno run -A scripts/bench_e2e.ts [--rows 100000] [--runs 3]
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { startSqld } from "../tests/helpers/sqld.ts";
import { phraseOf } from "../tests/helpers/device.ts";
import { fmtCount, fmtMs, jdoOk, makeDataset, median, renderTable } from "./bench_lib.ts";

const { values: flags } = parseArgs({
  options: { rows: { type: "string" }, runs: { type: "string" } },
});
const ROWS = Number(flags.rows ?? 100_000);
const RUNS = Number(flags.runs ?? 3);

type Mode = "plain" | "e2e";
const figures: Record<
  Mode,
  { upload: number[]; download: number[]; editPush: number[]; editPull: number[] }
> = {
  plain: { upload: [], download: [], editPush: [], editPull: [] },
  e2e: { upload: [], download: [], editPush: [], editPull: [] },
};

const work = await Deno.makeTempDir({ prefix: "jdo-bench-e2e-" });
const input = join(work, "data.json");
await Deno.writeTextFile(input, makeDataset(ROWS).json);

async function oneRun(mode: Mode, run: number): Promise<void> {
  const sqld = await startSqld();
  const a = join(work, `${mode}-${run}-a`);
  const b = join(work, `${mode}-${run}-b`);
  try {
    await jdoOk(a, ["import", input, "--json"]);
    const setupArgs = ["sync", "setup", "--url", sqld.url, "--token-stdin", "--yes", "--no-backup"];
    const up = await jdoOk(a, [...setupArgs, ...(mode === "e2e" ? ["--encrypt"] : [])], {
      stdin: "x\n",
    });
    const env: Record<string, string> = mode === "e2e" ? { JDO_SYNC_KEY: phraseOf(up.stdout) } : {};
    const down = await jdoOk(b, setupArgs, { stdin: "x\n", env });
    if (!/↓ \d+ downloaded/.test(down.stdout)) throw new Error(`download: ${down.stdout}`);
    const list = JSON.parse((await jdoOk(a, ["list", "--json"])).stdout) as { id: string }[];
    await jdoOk(a, ["edit", list[0].id, "--notes", `edited in run ${run}`]);
    const push = await jdoOk(a, ["sync", "now", "--json"], { env });
    const pull = await jdoOk(b, ["sync", "now", "--json"], { env });
    if (JSON.parse(pull.stdout).pulled !== 1) throw new Error(`one-edit pull: ${pull.stdout}`);
    const f = figures[mode];
    f.upload.push(up.wallMs);
    f.download.push(down.wallMs);
    f.editPush.push(push.wallMs);
    f.editPull.push(pull.wallMs);
    console.error(
      `${mode} run ${run + 1}/${RUNS}: upload ${fmtMs(up.wallMs)}, download ${
        fmtMs(down.wallMs)
      }, one edit ${fmtMs(push.wallMs)} + ${fmtMs(pull.wallMs)}`,
    );
  } finally {
    await sqld[Symbol.asyncDispose]();
    await Deno.remove(a, { recursive: true }).catch(() => {});
    await Deno.remove(b, { recursive: true }).catch(() => {});
  }
}

try {
  for (let run = 0; run < RUNS; run++) {
    // Interleaved, alternating which mode goes first.
    const order: Mode[] = run % 2 === 0 ? ["plain", "e2e"] : ["e2e", "plain"];
    for (const mode of order) await oneRun(mode, run);
  }
  const row = (name: string, key: keyof (typeof figures)["plain"]) => {
    const p = median(figures.plain[key]);
    const e = median(figures.e2e[key]);
    return [name, fmtMs(p), fmtMs(e), `${(e / p).toFixed(2)}x`];
  };
  console.log(`${fmtCount(ROWS)} rows, ${RUNS} interleaved runs each, medians (wall time of jdo)`);
  console.log(renderTable(["", "plain", "encrypted", "ratio"], [
    row(`first upload (setup, ${fmtCount(ROWS)} rows)`, "upload"),
    row(`first download (setup on a new device)`, "download"),
    row("one-edit sync: push (sync now)", "editPush"),
    row("one-edit sync: pull (sync now)", "editPull"),
  ]));
} finally {
  await Deno.remove(work, { recursive: true }).catch(() => {});
}
