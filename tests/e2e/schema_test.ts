/**
 * The cloud schema against a real sqld: a cloud newer than this binary
 * (schema_mismatch: sync refuses, local use continues), an empty cloud (setup
 * creates the schema), and moving a device to another cloud database (every
 * row goes to the new one; the old cloud's watermark means nothing there).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Client, createClient } from "@libsql/client";
import { type JdoResult, runJdo, runJson, tempHome } from "../helpers/cli.ts";
import { openRemote, startSqld } from "../helpers/sqld.ts";
import { LATEST_SCHEMA_VERSION } from "../../src/db/migrations.ts";
import { ENTITIES } from "../../src/db/schema.ts";

/** Every table whose rows travel through the cloud. */
const SYNCED_TABLES = [...ENTITIES.map((e) => e.table), "_sync_conflicts"];

interface Settings {
  turso_enabled?: boolean;
  turso_db_url?: string | null;
}

interface Status {
  enabled: boolean;
  state: string;
  url: string | null;
  last_result: string | null;
  pending_changes: number;
}

/** The device's working database, opened directly (no jdo process is running). */
function openLocal(home: string): Client & Disposable {
  const client = createClient({ url: `file:${join(home, "jdo.db")}` });
  return Object.assign(client, { [Symbol.dispose]: () => client.close() });
}

/** For each synced table, the ids of all its rows (live and tombstoned), sorted. */
async function idsByTable(db: Client): Promise<Record<string, string[]>> {
  const result: Record<string, string[]> = {};
  for (const table of SYNCED_TABLES) {
    const rs = await db.execute(`SELECT id FROM ${table} ORDER BY id`);
    result[table] = rs.rows.map((r) => String(r.id));
  }
  return result;
}

const total = (ids: Record<string, string[]>) =>
  Object.values(ids).reduce((n, list) => n + list.length, 0);

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

async function setup(home: string, url: string, token: string): Promise<JdoResult> {
  return await runJdo(home, ["sync", "setup", "--url", url, "--token-stdin", "--yes"], {
    stdin: `${token}\n`,
  });
}

async function ok(home: string, args: string[]): Promise<JdoResult> {
  const r = await runJdo(home, args);
  assert.equal(r.code, 0, `jdo ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r;
}

async function commit(home: string, what: string, to: string): Promise<string> {
  const row = await runJson<{ id: string }>(home, [
    "commit",
    what,
    "--to",
    to,
    "--due",
    "2026-12-01",
    "--json",
  ]);
  return row.id;
}

/** Nothing of the cloud configuration was saved on this device. */
async function assertNothingSaved(home: string): Promise<void> {
  const settings = await readJson<Settings>(join(home, "settings.json"));
  assert.ok(
    settings === undefined || settings.turso_enabled === false,
    `settings.json: ${JSON.stringify(settings)}`,
  );
  assert.equal(settings?.turso_db_url ?? null, null);
  const auth = await readJson<Record<string, unknown>>(join(home, "auth.json"));
  assert.equal(auth?.turso, undefined, "no token in auth.json");
}

Deno.test("schema: a cloud newer than this jdo pauses sync; local use continues", async () => {
  await using server = await startSqld({ auth: true });
  const token = await server.token("rw");
  await using a = await tempHome();
  await using b = await tempHome();

  await commit(a.home, "Quarterly report", "Alice");
  const first = await setup(a.home, server.url, token);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /↑ 2 uploaded, ↓ 0 downloaded/);

  // A newer jdo elsewhere upgraded the cloud.
  {
    using remote = openRemote(server.url, token);
    await remote.execute({
      sql: "INSERT INTO _migrations (version, name, applied_at) VALUES (999, 'future', ?)",
      args: [new Date().toISOString()],
    });
  }

  // `sync now` refuses: exit 1 (not a network/auth failure), one line saying to upgrade.
  const now = await runJdo(a.home, ["sync", "now"]);
  assert.equal(now.code, 1, `sync now: ${now.stderr}`);
  assert.equal(now.stdout, "");
  const lines = now.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line on stderr:\n${now.stderr}`);
  assert.match(lines[0], /^jdo: The cloud database uses schema version 999, newer than/);
  assert.match(lines[0], /[Uu]pgrade jdo/);

  const nowJson = await runJdo(a.home, ["sync", "now", "--json"]);
  assert.equal(nowJson.code, 1);
  const report = JSON.parse(nowJson.stdout);
  assert.deepEqual([report.ok, report.error_code], [false, "SYNC_SCHEMA_MISMATCH"]);

  // Local commands work as before, with nothing printed about the cloud.
  const captured = await runJson<{ id: string }>(a.home, ["capture", "call the plumber", "--json"]);
  const inbox = await runJson<{ id: string }[]>(a.home, ["list", "inbox", "--json"]);
  assert.deepEqual(inbox.map((i) => i.id), [captured.id]);
  const list = await ok(a.home, ["list"]);
  assert.match(list.stdout, /Quarterly report/);
  assert.equal(list.stderr, "");

  const status = await runJson<Status>(a.home, ["sync", "status", "--json"]);
  assert.deepEqual(
    [status.enabled, status.state, status.last_result, status.pending_changes],
    [true, "schema_mismatch", "SYNC_SCHEMA_MISMATCH", 1],
  );

  // The refused syncs wrote nothing to the cloud.
  {
    using remote = openRemote(server.url, token);
    const rs = await remote.execute(
      "SELECT (SELECT count(*) FROM inbox_items) AS inbox, (SELECT max(version) FROM _migrations) AS v",
    );
    assert.deepEqual([Number(rs.rows[0].inbox), Number(rs.rows[0].v)], [0, 999]);
  }

  // A fresh device cannot be set up against it, and keeps nothing of the attempt.
  await commit(b.home, "Budget draft", "Bob");
  const refused = await setup(b.home, server.url, token);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /schema version 999/);
  assert.match(refused.stderr, /nothing was saved/);
  assert.equal(refused.stderr.trim().split("\n").length, 1, refused.stderr);
  await assertNothingSaved(b.home);
  assert.equal(await Deno.stat(join(b.home, "cloud")).then(() => true, () => false), false);
  const bList = await runJson<{ deliverable: string }[]>(b.home, ["list", "--json"]);
  assert.deepEqual(bList.map((c) => c.deliverable), ["Budget draft"]);
});

Deno.test("schema: setup on an empty cloud creates the whole schema", async () => {
  await using server = await startSqld({ auth: true });
  const token = await server.token("rw");
  await using a = await tempHome();
  using remote = openRemote(server.url, token);

  const before = await remote.execute(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
  );
  assert.equal(before.rows.length, 0, "the cloud starts empty");

  await commit(a.home, "Quarterly report", "Alice");
  const r = await setup(a.home, server.url, token);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /↑ 2 uploaded, ↓ 0 downloaded/);

  const migrations = await remote.execute(
    "SELECT max(version) AS v, count(*) AS n FROM _migrations",
  );
  assert.equal(Number(migrations.rows[0].v), LATEST_SCHEMA_VERSION);
  assert.equal(Number(migrations.rows[0].n), LATEST_SCHEMA_VERSION, "one row per migration");

  const meta = await remote.execute("SELECT key, value FROM _jdo_meta ORDER BY key");
  const values = Object.fromEntries(meta.rows.map((row) => [String(row.key), String(row.value)]));
  assert.deepEqual(Object.keys(values), ["cloud_id", "seq"]);
  assert.match(values.cloud_id, /^[0-9a-f]{32}$/);
  assert.ok(Number(values.seq) >= 1, `seq advanced by the upload: ${values.seq}`);

  for (const table of SYNCED_TABLES) {
    const columns = await remote.execute(`SELECT name, type, "notnull" FROM pragma_table_info(?)`, [
      table,
    ]);
    assert.ok(columns.rows.length > 0, `${table} exists in the cloud`);
    const seq = columns.rows.find((c) => c.name === "_seq");
    assert.ok(seq, `${table} has a _seq column`);
    assert.deepEqual([String(seq.type), Number(seq.notnull)], ["INTEGER", 1]);
  }

  // Uploaded rows carry the sequence number of their push.
  const stamped = await remote.execute(
    "SELECT _seq FROM commitments UNION ALL SELECT _seq FROM stakeholders",
  );
  assert.equal(stamped.rows.length, 2);
  for (const row of stamped.rows) {
    assert.ok(Number(row._seq) >= 1 && Number(row._seq) <= Number(values.seq), String(row._seq));
  }

  // The local database records which cloud it follows.
  using local = openLocal(a.home);
  const state = await local.execute("SELECT value FROM _sync_state WHERE key = 'cloud_id'");
  assert.equal(String(state.rows[0]?.value), values.cloud_id);
});

Deno.test("schema: set up again with another database sends every row there", async () => {
  await using cloud1 = await startSqld({ auth: true });
  await using cloud2 = await startSqld({ auth: true });
  const token1 = await cloud1.token("rw");
  const token2 = await cloud2.token("rw");
  await using a = await tempHome();
  await using b = await tempHome();

  // Device A with live rows and a tombstone, fully synced with cloud 1.
  await commit(a.home, "Quarterly report", "Alice");
  const gone = await commit(a.home, "Budget draft", "Bob");
  await commit(a.home, "Team offsite", "Carol");
  await runJson(a.home, ["capture", "call the plumber", "--json"]);
  const first = await setup(a.home, cloud1.url, token1);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /↑ 7 uploaded, ↓ 0 downloaded/);
  await ok(a.home, ["delete", gone, "--yes"]);
  const synced = await ok(a.home, ["sync", "now"]);
  assert.match(synced.stdout, /↑ 1 pushed/);

  let aIds: Record<string, string[]>;
  {
    using local = openLocal(a.home);
    aIds = await idsByTable(local);
    const dead = await local.execute("SELECT id FROM commitments WHERE deleted_at IS NOT NULL");
    assert.deepEqual(dead.rows.map((r) => String(r.id)), [gone]);
  }
  // 3 commitments (one tombstoned), 3 stakeholders, 1 inbox item.
  assert.equal(total(aIds), 7);
  {
    using remote1 = openRemote(cloud1.url, token1);
    assert.deepEqual(await idsByTable(remote1), aIds, "cloud 1 has all of A's rows");
  }

  // Point A at cloud 2 (empty): everything goes there, the tombstone too.
  const moved = await setup(a.home, cloud2.url, token2);
  assert.equal(moved.code, 0, moved.stderr);
  assert.match(moved.stdout, /↑ 7 uploaded, ↓ 0 downloaded/);
  {
    using remote2 = openRemote(cloud2.url, token2);
    const cloud2Ids = await idsByTable(remote2);
    assert.equal(total(cloud2Ids), total(aIds));
    assert.deepEqual(cloud2Ids, aIds);
    const dead = await remote2.execute("SELECT id FROM commitments WHERE deleted_at IS NOT NULL");
    assert.deepEqual(dead.rows.map((r) => String(r.id)), [gone]);
    const unstamped = await remote2.execute(
      "SELECT count(*) AS n FROM commitments WHERE _seq < 1",
    );
    assert.equal(Number(unstamped.rows[0].n), 0);
  }
  const settings = await readJson<Settings>(join(a.home, "settings.json"));
  assert.equal(settings?.turso_db_url, cloud2.url);
  const auth = await readJson<Record<string, { token: string }>>(join(a.home, "auth.json"));
  assert.equal(auth?.turso?.token, token2);
  const status = await runJson<Status>(a.home, ["sync", "status", "--json"]);
  assert.deepEqual([status.state, status.url, status.pending_changes], ["online", cloud2.url, 0]);
  const again = await ok(a.home, ["sync", "now"]);
  assert.match(again.stdout, /↑ 0 pushed\s+↓ 0 pulled/);

  // A new device on cloud 2 gets exactly A's rows, with the same ids.
  const joined = await setup(b.home, cloud2.url, token2);
  assert.equal(joined.code, 0, joined.stderr);
  assert.match(joined.stdout, /↑ 0 uploaded, ↓ 7 downloaded/);
  {
    using local = openLocal(b.home);
    assert.deepEqual(await idsByTable(local), aIds);
  }
  const listA = await runJson<{ id: string }[]>(a.home, ["list", "--json"]);
  const listB = await runJson<{ id: string }[]>(b.home, ["list", "--json"]);
  assert.equal(listA.length, 2);
  assert.deepEqual(listB.map((c) => c.id), listA.map((c) => c.id));
});
