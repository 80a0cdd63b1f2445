/**
 * `jdo sync repair` on an end-to-end encrypted cloud against a real sqld: the
 * laptop lost its outbox (the cloud is behind on an edit, a delete and a new
 * row) and its replica, while the desktop added a task under a commitment
 * the laptop deleted. Repair sends what the cloud lacks, tombstones the
 * orphan, and everything goes up sealed: no plain row in any synced table,
 * the marker in no cloud table and in none of sqld's files. The desktop keeps
 * syncing with the laptop afterwards.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { startSqld } from "../helpers/sqld.ts";
import {
  type Device,
  device,
  encryptedSetup,
  ids,
  type Row,
  setup,
  syncNow,
  writePhrase,
} from "../helpers/device.ts";
import { cloudText, filesHolding, plainRows, sealedRows } from "../helpers/cloud_scan.ts";

const MARKER = "Kumquat-2d9a-confidential";

/** Runs SQL on the device's working database while jdo is not running. */
async function onLocal(dev: Device, sql: string): Promise<void> {
  const db = createClient({ url: `file:${join(dev.home, "jdo.db")}` });
  try {
    await db.execute(sql);
  } finally {
    db.close();
  }
}

Deno.test({
  name: "sync repair on an encrypted cloud: repaired, nothing plain in the cloud, others sync on",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using laptop = await device("laptop");
    await using desktop = await device("desktop");
    const keyFile = await writePhrase(desktop, await encryptedSetup(laptop, server.url, token));
    const joined = await setup(desktop, server.url, token, ["--no-backup", "--key-file", keyFile]);
    assert.equal(joined.code, 0, joined.stderr);

    const commit = (dev: Device, title: string) =>
      dev.json<Row>(["commit", title, "--to", "Alice", "--due", "2027-05-01", "--json"]);
    const parent = await commit(laptop, `Parent ${MARKER}`);
    const kept = await commit(laptop, `Kept ${MARKER}`);
    await syncNow(laptop);
    await syncNow(desktop);

    // The laptop edits, deletes and adds, then loses its outbox and its replica.
    await laptop.ok(["edit", kept.id, "--notes", `notes ${MARKER} never queued`]);
    await laptop.ok(["delete", parent.id, "--yes"]);
    const added = await laptop.json<Row>(["capture", `idea ${MARKER} never queued`, "--json"]);
    await onLocal(laptop, "DELETE FROM _sync_outbox");
    await Deno.remove(join(laptop.home, "cloud"), { recursive: true });
    // Meanwhile the desktop adds a task under the parent the laptop deleted.
    const task = await desktop.json<Row>(["task", "add", parent.id, `task ${MARKER}`, "--json"]);
    await syncNow(desktop);

    const repaired = await laptop.json<{ ok: boolean; requeued: number; pushed: number }>(
      ["sync", "repair", "--yes", "--json"],
    );
    assert.equal(repaired.ok, true);
    assert.ok(repaired.requeued >= 3, JSON.stringify(repaired));
    for (const d of [desktop, laptop, desktop]) await syncNow(d);

    for (const d of [laptop, desktop]) {
      const shown = await d.json<Row>(["show", kept.id, "--json"]);
      assert.equal(shown.notes, `notes ${MARKER} never queued`, d.name);
      assert.equal((await d.run(["show", parent.id, "--json"])).code === 0, false, d.name);
      assert.deepEqual(await ids(d, "tasks"), [], `${d.name}: orphan task ${task.id}`);
      assert.deepEqual(await ids(d, "inbox"), [added.id], d.name);
    }

    // The desktop keeps syncing with the laptop.
    await desktop.ok(["edit", kept.id, "--deliverable", `Kept, renamed ${MARKER}`]);
    await syncNow(desktop);
    await syncNow(laptop);
    assert.equal(
      (await laptop.json<Row>(["show", kept.id, "--json"])).deliverable,
      `Kept, renamed ${MARKER}`,
    );

    assert.equal(await plainRows(server.url, token), 0, "plain rows in the cloud");
    assert.ok(await sealedRows(server.url, token) >= 4);
    assert.ok(!(await cloudText(server.url, token)).includes(MARKER), "plain text in the cloud");
    assert.deepEqual(await filesHolding(server.dbPath, [MARKER]), []);
  },
});
