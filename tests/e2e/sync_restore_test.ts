/**
 * `db restore` with sync on (issue 18.2): every device ends up looking like
 * the backup. Rows created after it (a bad import, here and on another
 * device) are deleted everywhere, edits synced after it are overwritten and
 * kept in the conflict log, restorable; the device keeps its id. Real jdo
 * processes against a real sqld.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSqld } from "../helpers/sqld.ts";
import { type Device, device, setup, status, syncNow } from "../helpers/device.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

interface Listed {
  id: string;
  deliverable: string;
  notes?: string | null;
}

interface Conflict {
  conflict_id: string;
  id: string;
  field: string | null;
  kind: string;
  lost: Record<string, unknown> | null;
}

const commitments = async (dev: Device) =>
  (await dev.json<Listed[]>(["list", "--all", "--json"]))
    .map((r) => [r.id, r.deliverable, r.notes ?? null])
    .sort((x, y) => String(x[0]).localeCompare(String(y[0])));

Deno.test({
  ...opts,
  name:
    "db restore with sync on: junk imported after the backup is gone on every device, edits synced since are overwritten, logged and restorable",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using a = await device("A");
    await using b = await device("B");
    assert.equal((await setup(a, server.url, token)).code, 0);
    const one = await a.json<Listed>([
      "commit",
      "Report",
      "--to",
      "Ann",
      "--due",
      "2031-03-14",
      "--notes",
      "first",
      "--json",
    ]);
    const two = await a.json<Listed>([
      "commit",
      "Slides",
      "--to",
      "Ann",
      "--due",
      "2031-03-15",
      "--json",
    ]);
    assert.equal((await syncNow(a)).ok, true);
    assert.equal((await setup(b, server.url, token)).code, 0);
    const deviceA = (await status(a)).device_id;

    const backup = join(a.home, "..", "before-import.db");
    await a.ok(["db", "backup", "--out", backup]);
    const expected = await commitments(a);

    // B edits after the backup and syncs; A pulls it while syncing its junk.
    await b.ok(["edit", one.id, "--deliverable", "Report (B's edit)"]);
    assert.equal((await syncNow(b)).ok, true);
    const junk = join(a.home, "..", "junk.json");
    await Deno.writeTextFile(
      junk,
      JSON.stringify([
        { deliverable: "Junk 1", stakeholder: "Zed", due_date: "2031-04-01" },
        { deliverable: "Junk 2", stakeholder: "Zed", due_date: "2031-04-02" },
      ]),
    );
    await a.ok(["import", junk]);
    await a.ok(["edit", one.id, "--notes", "A's later note"]);
    assert.equal((await syncNow(a)).ok, true);
    // B edits another row and adds one after A's last pull: A has not seen them.
    await b.ok(["edit", two.id, "--notes", "B's unseen note"]);
    await b.ok(["commit", "B junk", "--to", "Zed", "--due", "2031-04-03"]);
    assert.equal((await syncNow(b)).ok, true);

    const restored = await a.run(["db", "restore", backup, "--yes"]);
    assert.equal(restored.code, 0, restored.stderr);
    assert.equal((await status(a)).device_id, deviceA, "the device keeps its id");
    assert.equal((await syncNow(a)).ok, true);
    assert.equal((await syncNow(b)).ok, true);
    assert.equal((await syncNow(a)).ok, true);

    assert.deepEqual(await commitments(b), expected, "B looks like the backup");
    assert.deepEqual(await commitments(a), expected, "A looks like the backup");
    const stakeholders = (await b.json<{ name: string }[]>(["list", "stakeholders", "--json"]))
      .map((s) => s.name);
    assert.deepEqual(stakeholders, ["Ann"], "the junk's stakeholder is gone too");

    // Both overwritten edits are in the log, on both devices.
    const log = await b.json<Conflict[]>(["sync", "conflicts", "--json"]);
    const edit = log.find((c) => c.id === one.id && c.field === "deliverable");
    assert.ok(edit, JSON.stringify(log));
    assert.equal(edit.lost?.deliverable, "Report (B's edit)");
    const note = log.find((c) => c.id === two.id && c.field === "notes");
    assert.ok(note, JSON.stringify(log));
    assert.equal(note.lost?.notes, "B's unseen note");
    const own = log.find((c) => c.id === one.id && c.field === "notes");
    assert.ok(own, `A's own edit synced after the backup is logged too: ${JSON.stringify(log)}`);
    assert.equal(own.lost?.notes, "A's later note");
    assert.ok(
      (await a.json<Conflict[]>(["sync", "conflicts", "--json"]))
        .some((c) => c.conflict_id === edit.conflict_id),
    );

    // Restoring the lost edit brings it back everywhere.
    await b.ok(["sync", "conflicts", "restore", edit.conflict_id]);
    assert.equal((await syncNow(b)).ok, true);
    assert.equal((await syncNow(a)).ok, true);
    const back = (await commitments(a)).find((r) => r[0] === one.id);
    assert.equal(back?.[1], "Report (B's edit)");
  },
});
