/**
 * `sync encrypt off` and `sync key rotate` killed (SIGKILL) at each of their
 * steps in turn, with both devices writing while the switch is half done:
 * running the command again finishes it, the second device converges and no
 * edit is lost. Off: the cloud ends readable and complete (rows and device
 * names in the clear, no sealed row left). Rotate: the old phrase no longer
 * opens the cloud, the new one does, no device name is left sealed under the
 * old key, and no cloud table holds the users' text.
 */
import assert from "node:assert/strict";
import { openRemote, startSqld } from "../helpers/sqld.ts";
import {
  type Device,
  device,
  encryptedSetup,
  type Row,
  setup,
  syncNow,
  writePhrase,
} from "../helpers/device.ts";
import { cloudText, plainRows, sealedRows } from "../helpers/cloud_scan.ts";
import type { DeviceList } from "../../src/sync/devices.ts";

const MARKER = "Persimmon-5e07-private";

async function titles(dev: Device): Promise<string[]> {
  const rows = await dev.json<Row[]>(["list", "commitments", "--all", "--json"]);
  return rows.map((r) => String(r.deliverable)).sort();
}

async function deviceNames(dev: Device): Promise<string[]> {
  const list = await dev.json<DeviceList>(["sync", "devices", "--json"]);
  return list.devices.map((d) => d.name).sort();
}

/** Two devices on a cloud set up with --encrypt, holding a few commitments. */
async function encryptedPair(url: string, token: string, laptop: Device, desktop: Device) {
  const phrase = await encryptedSetup(laptop, url, token, ["--name", "laptop"]);
  const joined = await setup(desktop, url, token, [
    "--no-backup",
    "--name",
    "desktop",
    "--key-file",
    await writePhrase(desktop, phrase),
  ]);
  assert.equal(joined.code, 0, joined.stderr);
  for (let i = 0; i < 3; i++) {
    await laptop.ok(["commit", `Before ${i} ${MARKER}`, "--to", "Alice", "--due", "2027-05-01"]);
  }
  await syncNow(laptop);
  await syncNow(desktop);
  return phrase;
}

/**
 * Kills `args` at steps 1..steps in turn; after each kill both devices write
 * (the desktop syncs, whatever the cloud's state). Returns what was written.
 */
async function killAtEachStep(
  laptop: Device,
  desktop: Device,
  args: string[],
  steps: number,
  firstMarked = 1,
): Promise<string[]> {
  const written: string[] = [];
  for (let step = 1; step <= steps; step++) {
    const r = await laptop.run(args, { env: { JDO_TEST_SWITCH_CRASH: String(step) } });
    assert.notEqual(r.code, 0, `step ${step} was not reached: ${r.stdout} ${r.stderr}`);
    // The half-switched device refuses to sync until the command is run again.
    if (step >= firstMarked) {
      const now = await laptop.run(["sync", "now"]);
      assert.notEqual(now.code, 0, `step ${step}: sync now ran on a half-switched cloud`);
    }
    const mine = `Laptop after step ${step} ${MARKER}`;
    const theirs = `Desktop after step ${step} ${MARKER}`;
    await laptop.ok(["commit", mine, "--to", "Bob", "--due", "2027-06-01"]);
    await desktop.ok(["commit", theirs, "--to", "Carol", "--due", "2027-06-02"]);
    await desktop.run(["sync", "now"]); // pushed, refused or paused: nothing may be lost
    written.push(mine, theirs);
  }
  return written;
}

Deno.test({
  name: "sync encrypt off killed at each step: resumed, readable and complete, nothing lost",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using laptop = await device("laptop");
    await using desktop = await device("desktop");
    await encryptedPair(server.url, token, laptop, desktop);

    const written = await killAtEachStep(laptop, desktop, ["sync", "encrypt", "off", "--yes"], 6);
    await laptop.ok(["sync", "encrypt", "off", "--yes"]);
    for (const d of [desktop, laptop, desktop]) await syncNow(d);

    const expected = [...written, ...[0, 1, 2].map((i) => `Before ${i} ${MARKER}`)].sort();
    assert.deepEqual(await titles(laptop), expected, "laptop");
    assert.deepEqual(await titles(desktop), expected, "desktop");
    // The cloud: every row in the clear, nothing sealed, no check record.
    assert.equal(await sealedRows(server.url, token), 0);
    using client = openRemote(server.url, token);
    const inCloud = await client.execute("SELECT deliverable FROM commitments");
    assert.deepEqual(inCloud.rows.map((r) => String(r.deliverable)).sort(), expected);
    const record = await client.execute("SELECT count(*) AS n FROM _jdo_meta WHERE key = 'e2e'");
    assert.equal(Number(record.rows[0].n), 0);
    const names = await client.execute("SELECT name FROM _jdo_devices ORDER BY name");
    assert.deepEqual(names.rows.map((r) => String(r.name)), ["desktop", "laptop"]);
    assert.deepEqual(await deviceNames(desktop), ["desktop", "laptop"]);

    // A new device with no key reads all of it.
    await using third = await device("third");
    const joined = await setup(third, server.url, token, ["--no-backup"]);
    assert.equal(joined.code, 0, joined.stderr);
    assert.deepEqual(await titles(third), expected, "third");
  },
});

Deno.test({
  name: "sync key rotate killed at each step: resumed, only the new key opens the cloud",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using laptop = await device("laptop");
    await using desktop = await device("desktop");
    const oldPhrase = await encryptedPair(server.url, token, laptop, desktop);
    using client = openRemote(server.url, token);
    const keyOf = async () =>
      String((await client.execute("SELECT substr(data, 4, 16) AS k FROM _jdo_rows")).rows[0].k);
    const oldKeyId = await keyOf();

    const written = await killAtEachStep(laptop, desktop, ["sync", "key", "rotate", "--yes"], 6, 2);
    const finished = await laptop.run(["sync", "key", "rotate", "--yes"]);
    assert.equal(finished.code, 0, finished.stderr);
    const newPhrase = (await laptop.ok(["sync", "key", "show", "--yes"])).stdout.trim();
    assert.notEqual(newPhrase, oldPhrase);
    await syncNow(laptop);

    // The desktop pauses with the old key, then converges with the new one.
    const wrong = await desktop.run(["sync", "now"]);
    assert.equal(wrong.code, 3, wrong.stderr);
    await desktop.ok([
      "sync",
      "key",
      "import",
      "--key-file",
      await writePhrase(desktop, newPhrase),
    ]);
    for (const d of [desktop, laptop, desktop]) await syncNow(d);
    const expected = [...written, ...[0, 1, 2].map((i) => `Before ${i} ${MARKER}`)].sort();
    assert.deepEqual(await titles(laptop), expected, "laptop");
    assert.deepEqual(await titles(desktop), expected, "desktop");
    assert.deepEqual(await deviceNames(laptop), ["desktop", "laptop"]);
    assert.deepEqual(await deviceNames(desktop), ["desktop", "laptop"]);

    // The old phrase is refused; the new one opens every row.
    await using stale = await device("stale");
    const refused = await setup(stale, server.url, token, [
      "--no-backup",
      "--key-file",
      await writePhrase(stale, oldPhrase),
    ]);
    assert.equal(refused.code, 3, refused.stderr);
    await using fresh = await device("fresh");
    const opened = await setup(fresh, server.url, token, [
      "--no-backup",
      "--key-file",
      await writePhrase(fresh, newPhrase),
    ]);
    assert.equal(opened.code, 0, opened.stderr);
    assert.deepEqual(await titles(fresh), expected, "fresh");
    assert.equal(await plainRows(server.url, token), 0);
    assert.ok(!(await cloudText(server.url, token)).includes(MARKER), "plain text in the cloud");

    // A device that checked the old record just before the rotation cannot
    // leave rows sealed under the old key behind it: the cloud refuses them.
    assert.notEqual(await keyOf(), oldKeyId);
    await assert.rejects(
      client.execute({
        sql: `INSERT INTO _jdo_rows (tbl, id, version, _fv, data, _seq, _by)
              VALUES ('commitments', 'late', '1', NULL, ?, 0, 'x')`,
        args: [`e1.${oldKeyId}.AAAA`],
      }),
      /sealed under another key refused/,
    );
    await assert.rejects(
      client.execute({
        sql: "UPDATE _jdo_rows SET data = ? WHERE rowid = (SELECT min(rowid) FROM _jdo_rows)",
        args: [`e1.${oldKeyId}.AAAA`],
      }),
      /sealed under another key refused/,
    );
  },
});
