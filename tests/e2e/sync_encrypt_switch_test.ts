/**
 * `sync encrypt on` for a cloud that holds data, killed (SIGKILL) at several
 * moments and run again until it finishes; the other device pauses with
 * SYNC_KEY_MISSING, keeps its edit queued, and resumes once it imports the
 * phrase; afterwards the plain tables are empty and no cloud table holds
 * the users' text. Then `sync key rotate` (the old key is refused, the new
 * phrase works) and `sync encrypt off` (rows back in the clear, both
 * devices still converge).
 */
import assert from "node:assert/strict";
import { openRemote, startSqld } from "../helpers/sqld.ts";
import { join } from "node:path";
import {
  type Device,
  device,
  encryptedSetup,
  phraseOf,
  type Row,
  setup,
  syncNow,
  writePhrase,
} from "../helpers/device.ts";
import { EncryptingCloud } from "../../src/sync/encrypting_cloud.ts";
import { LibsqlCloud } from "../../src/sync/libsql_cloud.ts";
import { type DataKey, keyFromPhrase } from "../../src/sync/e2e_key.ts";
import { pull } from "../../src/sync/pull.ts";
import { readSyncState } from "../../src/sync/state.ts";
import { JdoError } from "../../src/errors.ts";
import { openTempStore } from "../helpers/temp_store.ts";

const MARKER = "Marmalade-93b1-secret";

async function count(url: string, token: string, sql: string): Promise<number> {
  using client = openRemote(url, token);
  return Number((await client.execute(sql)).rows[0].n);
}

async function cloudText(url: string, token: string): Promise<string> {
  using client = openRemote(url, token);
  const tables = await client.execute(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'",
  );
  const parts: string[] = [];
  for (const t of tables.rows) {
    parts.push(JSON.stringify((await client.execute(`SELECT * FROM "${t.name}"`)).rows));
  }
  return parts.join("\n");
}

/** "record:plain rows:sealed rows" of the cloud. */
async function cloudState(url: string, token: string): Promise<string> {
  using client = openRemote(url, token);
  const [meta, plain, sealed] = await client.batch([
    "SELECT count(*) AS n FROM _jdo_meta WHERE key = 'e2e'",
    "SELECT count(*) AS n FROM commitments",
    "SELECT count(*) AS n FROM sqlite_master WHERE name = '_jdo_rows'",
  ], "read");
  const hasSealed = Number(sealed.rows[0].n) > 0;
  const sealedRows = hasSealed
    ? Number((await client.execute("SELECT count(*) AS n FROM _jdo_rows")).rows[0].n)
    : 0;
  return `${meta.rows[0].n}:${plain.rows[0].n}:${sealedRows}`;
}

async function titles(dev: Device): Promise<string[]> {
  const rows = await dev.json<Row[]>(["list", "commitments", "--all", "--json"]);
  return rows.map((r) => String(r.deliverable)).sort();
}

Deno.test({
  name: "sync encrypt on (killed and resumed), key rotate and encrypt off on a cloud with data",
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
    for (let i = 0; i < 4; i++) {
      await laptop.ok(["commit", `Item ${i} ${MARKER}`, "--to", "Alice", "--due", "2027-05-01"]);
    }
    await syncNow(laptop);
    await syncNow(desktop);

    // Killed (SIGKILL) at each of its steps in turn; each run resumes the last one.
    const states: string[] = [];
    for (let step = 1; step <= 8; step++) {
      const r = await laptop.run(["sync", "encrypt", "on", "--yes"], {
        env: { JDO_TEST_SWITCH_CRASH: String(step) },
      });
      states.push(`${step}→${r.code === 0 ? "done" : await cloudState(server.url, token)}`);
      assert.ok(r.code !== 0 || step > 4, `step ${step}: ${r.code} ${r.stderr}`);
      // Meanwhile sync waits for the switch to finish.
      if (r.code !== 0) {
        const now = await laptop.run(["sync", "now"]);
        assert.equal(
          now.code,
          1,
          `step ${step}: ${r.code} ${r.stderr} / ${now.stdout} ${now.stderr}`,
        );
      }
    }
    await laptop.ok(["sync", "encrypt", "on", "--yes"]);
    // Each step was reached once: the cloud went through every half state.
    assert.deepEqual(states.map((s) => s.split("→")[1]), [
      "0:4:0", // marked
      "0:4:0", // synced in the clear
      "0:4:0", // key saved here
      "1:4:0", // record and triggers
      "1:4:0", // plain rows pulled
      "1:4:5", // sealed rows up
      "1:0:5", // plain rows gone
      "1:0:5", // device names sealed
    ]);
    const phrase = (await laptop.ok(["sync", "key", "show", "--yes"])).stdout.trim();
    assert.equal(phrase.split(" ").length, 24);
    await syncNow(laptop);

    assert.equal(await count(server.url, token, "SELECT count(*) AS n FROM commitments"), 0);
    assert.ok(await count(server.url, token, "SELECT count(*) AS n FROM _jdo_rows") >= 5);
    assert.ok(
      !(await cloudText(server.url, token)).includes(MARKER),
      "plain text left in the cloud",
    );

    // The other device pauses, its edit waiting, until it imports the key.
    await desktop.ok(["commit", `Desktop ${MARKER}`, "--to", "Bob", "--due", "2027-06-01"]);
    const paused = await desktop.run(["sync", "now"]);
    assert.equal(paused.code, 3, paused.stderr);
    assert.match(paused.stderr, /end-to-end encrypted/);
    const keyFile = await writePhrase(desktop, phrase);
    await desktop.ok(["sync", "key", "import", "--key-file", keyFile]);
    await syncNow(desktop);
    await syncNow(laptop);
    assert.deepEqual(await titles(laptop), await titles(desktop));
    assert.equal((await titles(laptop)).length, 5);
    assert.ok(!(await cloudText(server.url, token)).includes(MARKER));

    // Rotation: the old phrase stops working, the new one works.
    const rotated = await laptop.ok(["sync", "key", "rotate", "--yes"]);
    const newPhrase = phraseOf(rotated.stdout);
    assert.ok(newPhrase && newPhrase !== phrase);
    const wrong = await desktop.run(["sync", "now"]);
    assert.equal(wrong.code, 3, wrong.stderr);
    assert.match(wrong.stderr, /not this cloud's/);
    await Deno.writeTextFile(keyFile, newPhrase);
    await desktop.ok(["sync", "key", "import", "--key-file", keyFile]);
    await desktop.ok([
      "edit",
      (await desktop.json<Row[]>(["list", "--json"]))[0].id,
      "--notes",
      "after rotation",
    ]);
    await syncNow(desktop);
    await syncNow(laptop);
    assert.deepEqual(await titles(laptop), await titles(desktop));
    assert.ok(!(await cloudText(server.url, token)).includes(MARKER));

    // Off: back in the clear; both devices keep syncing.
    await laptop.ok(["sync", "encrypt", "off", "--yes"]);
    await syncNow(desktop);
    await desktop.ok(["commit", "After off", "--to", "Carol", "--due", "2027-07-01"]);
    await syncNow(desktop);
    await syncNow(laptop);
    assert.deepEqual(await titles(laptop), await titles(desktop));
    assert.equal((await titles(laptop)).length, 6);
    assert.equal(await count(server.url, token, "SELECT count(*) AS n FROM _jdo_rows"), 0);
    assert.equal(await count(server.url, token, "SELECT count(*) AS n FROM commitments"), 6);
  },
});

/**
 * The cloud as one device's sync sees it (the encrypting layer over the
 * libSQL store, with `key` or none), its replica in a directory of its own
 * that goes when disposed.
 */
async function cloudView(url: string, token: string, key?: DataKey) {
  const dir = await Deno.makeTempDir({ prefix: "jdo-cloud-view-" });
  const cloud = new EncryptingCloud(
    new LibsqlCloud({ url, token, replicaDir: join(dir, "cloud") }),
    key,
  );
  return {
    cloud,
    async [Symbol.asyncDispose]() {
      await cloud.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A first pull into an empty store fails with SYNC_FAILED and keeps no row and no watermark. */
async function assertPullKeepsNothing(cloud: EncryptingCloud): Promise<void> {
  await using joiner = await openTempStore();
  await assert.rejects(
    pull(joiner.store, cloud, {}),
    (error) => error instanceof JdoError && error.code === "SYNC_FAILED",
  );
  const held = await joiner.client.execute("SELECT count(*) AS n FROM commitments");
  assert.equal(Number(held.rows[0].n), 0);
  assert.equal((await readSyncState(joiner.store)).watermark, 0, "past rows it never read");
}

Deno.test({
  name:
    "e2e switch: a sync that began encrypted and whose snapshot shows encryption off says so (modeKept)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using laptop = await device("laptop");
    await laptop.ok(["commit", "Report", "--to", "Ann", "--due", "2027-03-01"]);
    const phrase = await encryptedSetup(laptop, server.url, token);
    laptop.env.JDO_SYNC_KEY = phrase;
    await using began = await cloudView(server.url, token, keyFromPhrase(phrase));
    assert.equal((await began.cloud.info()).encryption !== null, true);
    await laptop.ok(["sync", "encrypt", "off", "--yes"]);
    await began.cloud.snapshot();
    assert.equal(await began.cloud.modeKept(), false, "began encrypted, the snapshot is plain");
    await using after = await cloudView(server.url, token, keyFromPhrase(phrase));
    await after.cloud.info();
    await after.cloud.snapshot();
    assert.equal(await after.cloud.modeKept(), true, "began and ended plain");
  },
});

Deno.test({
  name:
    "e2e switch: a first download that began encrypted and whose snapshot came after encrypt off keeps nothing and can run again",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using laptop = await device("laptop");
    for (const title of ["Report", "Budget", "Slides"]) {
      await laptop.ok(["commit", title, "--to", "Ann", "--due", "2027-03-01"]);
    }
    const phrase = await encryptedSetup(laptop, server.url, token);
    laptop.env.JDO_SYNC_KEY = phrase;
    {
      await using joiner = await cloudView(server.url, token, keyFromPhrase(phrase));
      // The joiner's sync begins: the cloud is encrypted, under this key.
      assert.notEqual((await joiner.cloud.info()).encryption, null);
      // Before its replica syncs, another device turns encryption off (all
      // rows pushed in the clear, the sealed table emptied).
      await laptop.ok(["sync", "encrypt", "off", "--yes"]);
      await assertPullKeepsNothing(joiner.cloud);
    }
    // A device joining now sees a plain cloud and takes every row.
    await using phone = await device("phone");
    const again = await setup(phone, server.url, token, ["--no-backup"]);
    assert.equal(again.code, 0, again.stderr);
    const titles = (await phone.json<Row[]>(["list", "--json"])).map((r) => String(r.deliverable));
    assert.deepEqual(titles.sort(), ["Budget", "Report", "Slides"]);
  },
});

Deno.test({
  name:
    "e2e switch: a pull that began on a plain cloud and whose snapshot came after encrypt on keeps nothing",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using laptop = await device("laptop");
    await laptop.ok(["commit", "Report", "--to", "Ann", "--due", "2027-03-01"]);
    const first = await setup(laptop, server.url, token, ["--no-backup"]);
    assert.equal(first.code, 0, first.stderr);
    // A device without a key: the cloud is plain when its sync begins.
    await using joiner = await cloudView(server.url, token);
    assert.equal((await joiner.cloud.info()).encryption ?? null, null);
    await laptop.ok(["sync", "encrypt", "on", "--yes"]);
    await assertPullKeepsNothing(joiner.cloud);
  },
});
