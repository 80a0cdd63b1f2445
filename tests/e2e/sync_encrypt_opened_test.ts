/**
 * An encrypted cloud's rows are opened once, and only those a merge reads:
 * a device that joins (empty tables) takes them straight into jdo.db, with
 * no opened copy (cloud/opened.db) written, and the device that uploaded
 * them opens into that copy only what others changed since (its watermark
 * is past its own rows). A larger first download runs while the replica's
 * sync replays the cloud's pushes, rows changed since included, and ends
 * with the uploader's rows exactly.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import Database from "libsql";
import { startSqld } from "../helpers/sqld.ts";
import { device, encryptedSetup, exists, type Row, setup } from "../helpers/device.ts";
import { makeDataset } from "../../scripts/bench_lib.ts";

const ROWS = 12;

/** Commitments held by a device's opened copy (0 when it has none). */
async function openedCommitments(home: string): Promise<number> {
  const path = join(home, "cloud", "opened.db");
  if (!await exists(path)) return 0;
  const db = new Database(path, { readonly: true });
  try {
    return Number((db.prepare("SELECT count(*) FROM commitments").raw(true).get() as unknown[])[0]);
  } finally {
    db.close();
  }
}

Deno.test({
  name: "e2e opened rows: a joining device takes them straight in, the uploader opens only changes",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using laptop = await device("laptop");
    await using desktop = await device("desktop");
    const deliverables = Array.from({ length: ROWS }, (_, i) => `Deliverable ${i}`);
    for (const d of deliverables) {
      await laptop.ok(["commit", d, "--to", "Alice", "--due", "2027-03-01"]);
    }

    const phrase = await encryptedSetup(laptop, server.url, token);
    laptop.env.JDO_SYNC_KEY = phrase;

    const joined = await setup(desktop, server.url, token, ["--no-backup"], {
      env: { JDO_SYNC_KEY: phrase },
    });
    assert.equal(joined.code, 0, joined.stderr);
    assert.equal(await openedCommitments(desktop.home), 0, "a first download wrote the copy");
    desktop.env.JDO_SYNC_KEY = phrase;
    const listed = await desktop.json<Row[]>(["list", "--json"]);
    assert.deepEqual(
      listed.map((r) => String(r.deliverable)).sort(),
      [...deliverables].sort(),
    );

    // The other device edits one row; the uploader's next pull through the
    // replica (a re-run of setup) opens that row, not its own twelve.
    const edited = listed[0];
    await desktop.ok(["edit", String(edited.id), "--notes", "from the desktop"]);
    await desktop.ok(["sync", "now"]);
    const again = await setup(laptop, server.url, token, ["--no-backup"]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await openedCommitments(laptop.home), 1, "the uploader opened its own rows");
    const seen = await laptop.json<Row>(["show", String(edited.id), "--json"]);
    assert.equal(seen.notes, "from the desktop");
  },
});

Deno.test({
  name:
    "e2e first download while the replica syncs: many pushes, rows changed since, the uploader's rows exactly",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using laptop = await device("laptop");
    await using desktop = await device("desktop");
    const file = join(await Deno.makeTempDir(), "export.json");
    await Deno.writeTextFile(file, makeDataset(6_000).json);
    await laptop.ok(["import", file, "--json"]);
    const phrase = await encryptedSetup(laptop, server.url, token);
    laptop.env.JDO_SYNC_KEY = phrase;
    // Changed after the upload: the replica's replay shows them twice, at two sequences.
    const changed = (await laptop.json<Row[]>(["list", "--json"])).slice(0, 5);
    for (const r of changed) {
      await laptop.ok(["edit", String(r.id), "--notes", `changed after the upload ${r.id}`]);
    }
    await laptop.ok(["sync", "now"]);

    const joined = await setup(desktop, server.url, token, ["--no-backup"], {
      env: { JDO_SYNC_KEY: phrase },
    });
    assert.equal(joined.code, 0, joined.stderr);
    assert.match(joined.stdout, /↓ 6050 downloaded/, "each row once (with its stakeholders)");
    desktop.env.JDO_SYNC_KEY = phrase;
    const mine = await laptop.run(["list", "--all", "--json"]);
    const theirs = await desktop.run(["list", "--all", "--json"]);
    assert.equal(theirs.stdout, mine.stdout, "the new device lists what the uploader lists");
    const seen = await desktop.json<Row>(["show", String(changed[0].id), "--json"]);
    assert.equal(seen.notes, `changed after the upload ${changed[0].id}`);
  },
});
