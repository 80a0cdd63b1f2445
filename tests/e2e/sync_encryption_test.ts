/**
 * End-to-end encryption through the CLI against a real sqld: `setup
 * --encrypt` shows a recovery phrase once, a second device joins with it,
 * and neither sqld's data files nor any cloud table holds a byte of what
 * the users wrote (titles, notes, names, device names); a device without the
 * key or with another key is refused before anything is saved or pushed;
 * edits of different fields of one encrypted row on two devices both
 * survive.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
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
import { cloudText, filesHolding } from "../helpers/cloud_scan.ts";

const MARKER = "Zanzibar-7f3c-plaintext";
const PLAIN_NAME = "Ottoline-Quimby";
const DEVICE_MARKER = "Quokka-laptop-4411";

interface StatusJson {
  state: string;
  encryption?: { mode: string | null; key_id: string | null; key_source: string };
}

async function statusOf(dev: Device): Promise<StatusJson> {
  const r = await dev.run(["sync", "status", "--json"]);
  return JSON.parse(r.stdout) as StatusJson;
}

Deno.test({
  name:
    "e2e encryption: setup --encrypt, a second device with the phrase, no readable text in sqld",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using laptop = await device("laptop");
    await using desktop = await device("desktop");
    await using stranger = await device("stranger");

    // Data written before sync (uploaded sealed) and after it.
    const before = await laptop.json<Row>([
      "commit",
      `Return the ladder ${MARKER}`,
      "--to",
      PLAIN_NAME,
      "--due",
      "2027-03-01",
      "--json",
    ]);
    const phrase = await encryptedSetup(laptop, server.url, token, ["--name", DEVICE_MARKER]);
    await laptop.ok(["edit", before.id, "--notes", `notes ${MARKER} after setup`]);
    await syncNow(laptop);

    const laptopStatus = await statusOf(laptop);
    assert.equal(laptopStatus.encryption?.mode, "e2e");
    assert.match(laptopStatus.encryption?.key_id ?? "", /^[0-9a-f]{16}$/);
    const text = (await laptop.ok(["sync", "status"])).stdout;
    assert.match(text, /Encryption: end-to-end \(key [0-9a-f]{4}…/);

    // A device without the key: refused, nothing saved, nothing pushed.
    await stranger.ok(["commit", `Stranger's ${MARKER}`, "--to", "Nobody", "--due", "2027-01-01"]);
    using remote = openRemote(server.url, token);
    const seq = async () =>
      String((await remote.execute("SELECT value FROM _jdo_meta WHERE key = 'seq'")).rows[0].value);
    const seqBefore = await seq();
    const missing = await setup(stranger, server.url, token, ["--no-backup"]);
    assert.equal(missing.code, 3, missing.stderr);
    assert.match(missing.stderr, /end-to-end encrypted/);
    assert.match(missing.stderr, /nothing was pushed/);
    // With another (valid) key: refused too, and never a new key for this cloud.
    const other = join(stranger.home, "..", "other.key");
    const otherPhrase = (await laptop.run(["sync", "key", "show", "--yes"])).stdout.trim();
    assert.equal(otherPhrase, phrase, "key show prints the phrase setup showed");
    await Deno.writeTextFile(
      other,
      "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon " +
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon " +
        "abandon art\n",
    );
    const wrong = await setup(stranger, server.url, token, ["--no-backup", "--key-file", other]);
    assert.equal(wrong.code, 3, wrong.stderr);
    assert.match(wrong.stderr, /not this cloud's/);
    const wrongEncrypt = await setup(stranger, server.url, token, ["--no-backup", "--encrypt"]);
    assert.equal(wrongEncrypt.code, 3, "--encrypt on an encrypted cloud never makes a new key");
    assert.equal(await seq(), seqBefore, "nothing was pushed by the refused device");
    assert.equal((await statusOf(stranger)).state, "disabled", "nothing was saved");

    // The second device joins with the phrase in a file, and reads everything.
    const keyFile = await writePhrase(desktop, phrase.split(" ").join("\n") + "\n");
    const joined = await setup(desktop, server.url, token, ["--no-backup", "--key-file", keyFile]);
    assert.equal(joined.code, 0, joined.stderr);
    const seen = await desktop.json<Row>(["show", before.id, "--json"]);
    assert.match(String(seen.deliverable), new RegExp(MARKER));
    assert.match(String(seen.notes), new RegExp(MARKER));
    const devices = (await desktop.ok(["sync", "devices"])).stdout;
    assert.match(devices, new RegExp(DEVICE_MARKER), "device names read in clear here");

    // JDO_SYNC_KEY with a wrong phrase on a set-up device: exit 3, nothing pushed.
    await desktop.ok(["edit", before.id, "--due", "2027-04-01"]);
    const seqNow = await seq();
    const bad = await desktop.run(["sync", "now"], {
      env: { JDO_SYNC_KEY: await Deno.readTextFile(other) },
    });
    assert.equal(bad.code, 3, bad.stderr);
    assert.match(bad.stderr, /not this cloud's/);
    assert.equal(await seq(), seqNow);

    // Conflicts are sealed too: the same field edited on both devices.
    await syncNow(desktop);
    await syncNow(laptop);
    await laptop.ok(["edit", before.id, "--notes", `laptop ${MARKER} conflict`]);
    await desktop.ok(["edit", before.id, "--notes", `desktop ${MARKER} conflict`]);
    await syncNow(laptop);
    const conflicted = await syncNow(desktop);
    assert.equal(conflicted.conflicts, 1);
    await syncNow(laptop);

    // Nothing anyone wrote is readable in the cloud: not in a table, not in sqld's files.
    const needles = [MARKER, PLAIN_NAME, DEVICE_MARKER, "Return the ladder"];
    const tables = await cloudText(server.url, token);
    for (const n of needles) assert.ok(!tables.includes(n), `cloud tables hold "${n}"`);
    assert.match(tables, /_jdo_rows/, "the sealed rows are there");
    assert.deepEqual(await filesHolding(server.dbPath, needles), []);
  },
});

Deno.test({
  name: "e2e encryption: two devices editing different fields of one encrypted row keep both edits",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using laptop = await device("laptop");
    await using desktop = await device("desktop");
    const phrase = await encryptedSetup(laptop, server.url, token);
    const joined = await setup(desktop, server.url, token, ["--no-backup"], {
      env: { JDO_SYNC_KEY: phrase },
    });
    assert.equal(joined.code, 0, joined.stderr);
    desktop.env.JDO_SYNC_KEY = phrase;
    assert.equal((await statusOf(desktop)).encryption?.key_source, "env");

    const c = await laptop.json<Row>([
      "commit",
      "Quarterly report",
      "--to",
      "Alice",
      "--due",
      "2027-03-01",
      "--json",
    ]);
    await syncNow(laptop);
    await syncNow(desktop);
    await laptop.ok(["edit", c.id, "--notes", "numbers from finance"]);
    await desktop.ok(["edit", c.id, "--due", "2027-03-15"]);
    const reports = [await syncNow(laptop), await syncNow(desktop), await syncNow(laptop)];
    assert.deepEqual(reports.map((r) => r.conflicts), [0, 0, 0]);
    for (const d of [laptop, desktop]) {
      const row = await d.json<Row>(["show", c.id, "--json"]);
      assert.equal(row.notes, "numbers from finance", d.name);
      assert.equal(row.due_date, "2027-03-15", d.name);
    }
  },
});
