/**
 * Plain rows another device pushed just before `sync encrypt on` — before the
 * command ran, and while it was stopped (killed) between its steps before the
 * cloud took the key — with edits to the same rows on both sides: once the
 * switch finishes, no plain row is left in the cloud; the other device
 * pauses with SYNC_KEY_MISSING (its later edit waiting) until it imports the
 * phrase, then both converge with every edit kept.
 */
import assert from "node:assert/strict";
import { startSqld } from "../helpers/sqld.ts";
import { type Device, device, type Row, setup, syncNow, writePhrase } from "../helpers/device.ts";
import { cloudText, plainRows, sealedRows } from "../helpers/cloud_scan.ts";

const MARKER = "Tamarind-81c4-private";

async function titles(dev: Device): Promise<string[]> {
  const rows = await dev.json<Row[]>(["list", "commitments", "--all", "--json"]);
  return rows.map((r) => String(r.deliverable)).sort();
}

Deno.test({
  name: "sync encrypt on: plain rows pushed just before it are sealed, no edit lost",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using laptop = await device("laptop");
    await using desktop = await device("desktop");
    for (const d of [laptop, desktop]) {
      assert.equal((await setup(d, server.url, token, ["--no-backup"])).code, 0);
    }
    const shared = await laptop.json<Row>(
      ["commit", `Shared ${MARKER}`, "--to", "Alice", "--due", "2027-05-01", "--json"],
    );
    await syncNow(laptop);
    await syncNow(desktop);

    const expected = [`Shared ${MARKER}`];
    const pushPlain = async (label: string) => {
      const title = `Desktop ${label} ${MARKER}`;
      await desktop.ok(["commit", title, "--to", "Bob", "--due", "2027-06-01"]);
      expected.push(title);
      const pushed = await syncNow(desktop);
      assert.ok(pushed.pushed >= 1, `${label}: the desktop pushed in the clear`);
    };
    // Just before the switch: the desktop has not seen it coming.
    await desktop.ok(["edit", shared.id, "--notes", `desktop notes ${MARKER}`]);
    await pushPlain("before");
    // The laptop's own edit of another field of the same row, not yet synced.
    await laptop.ok(["edit", shared.id, "--due", "2027-05-20"]);
    // Stopped after each step before the cloud takes the key; the desktop pushes meanwhile.
    for (const step of [1, 2, 3]) {
      const r = await laptop.run(["sync", "encrypt", "on", "--yes"], {
        env: { JDO_TEST_SWITCH_CRASH: String(step) },
      });
      assert.notEqual(r.code, 0, `step ${step}: ${r.stderr}`);
      await pushPlain(`after step ${step}`);
    }
    const on = await laptop.run(["sync", "encrypt", "on", "--yes"]);
    assert.equal(on.code, 0, on.stderr);
    const phrase = (await laptop.ok(["sync", "key", "show", "--yes"])).stdout.trim();
    assert.equal(await plainRows(server.url, token), 0, "plain rows left in the cloud");
    assert.ok(await sealedRows(server.url, token) >= expected.length);

    // The desktop pauses, its next edit waiting, until it imports the phrase.
    await desktop.ok(["commit", `Desktop paused ${MARKER}`, "--to", "Bob", "--due", "2027-07-01"]);
    expected.push(`Desktop paused ${MARKER}`);
    const paused = await desktop.run(["sync", "now"]);
    assert.equal(paused.code, 3, paused.stderr);
    assert.match(paused.stderr, /end-to-end encrypted/);
    const keyFile = await writePhrase(desktop, phrase);
    await desktop.ok(["sync", "key", "import", "--key-file", keyFile]);
    for (const d of [desktop, laptop, desktop]) await syncNow(d);

    expected.sort();
    for (const d of [laptop, desktop]) {
      assert.deepEqual(await titles(d), expected, d.name);
      const row = await d.json<Row>(["show", shared.id, "--json"]);
      assert.equal(row.notes, `desktop notes ${MARKER}`, d.name);
      assert.equal(row.due_date, "2027-05-20", d.name);
    }
    assert.equal(await plainRows(server.url, token), 0, "plain rows left in the cloud");
    assert.ok(!(await cloudText(server.url, token)).includes(MARKER), "plain text in the cloud");
  },
});
