/**
 * Issue 18 (points 3 and 7): a URL that leads to another database never gets
 * jdo's tables, the generic TURSO_* variables of other apps are not read, and
 * `sync status` tells the last success from an old failure and exits 3 when
 * the cloud cannot be reached or refuses the token. Real jdo processes
 * against real sqld servers.
 */
import assert from "node:assert/strict";
import { device, setup, status, syncNow } from "../helpers/device.ts";
import { openRemote, startSqld } from "../helpers/sqld.ts";
import { TEST_TIMEZONE } from "../helpers/test_clock.ts";
import { localTime } from "../../src/output/local_time.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

async function tableNames(url: string, token: string): Promise<string[]> {
  using cloud = openRemote(url, token);
  const rows = await cloud.execute(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
  );
  return rows.rows.map((r) => String(r.name));
}

async function count(url: string, token: string, sql: string): Promise<number> {
  using cloud = openRemote(url, token);
  return Number((await cloud.execute(sql)).rows[0].n);
}

Deno.test({
  ...opts,
  name: "sync: TURSO_DATABASE_URL / TURSO_AUTH_TOKEN of other apps are not read",
  fn: async () => {
    await using mine = await startSqld({ auth: true });
    await using other = await startSqld({ auth: true });
    const token = await mine.token("rw");
    const otherToken = await other.token("rw");
    await using a = await device("A");
    assert.equal((await setup(a, mine.url, token)).code, 0);
    await a.ok(["capture", "stays in jdo's cloud"]);

    const generic = { TURSO_DATABASE_URL: other.url, TURSO_AUTH_TOKEN: otherToken };
    const report = await a.json<{ ok: boolean; pushed: number }>(["sync", "now", "--json"], {
      env: generic,
    });
    assert.deepEqual([report.ok, report.pushed], [true, 1]);
    assert.deepEqual(await tableNames(other.url, otherToken), [], "the other database untouched");
    assert.equal(
      await count(mine.url, token, "SELECT count(*) AS n FROM inbox_items"),
      1,
      "the capture went to jdo's own cloud",
    );
    const text = await a.ok(["sync", "status"], { env: generic });
    assert.match(text.stdout, /Database: +http:\/\/127\.0\.0\.1:\d+ \(settings\.json\)/);
    assert.ok(text.stdout.includes(`:${mine.port} `), text.stdout);
    assert.match(text.stdout, /Token: +auth store/);

    // jdo's own variable is named alone when it is the one in use.
    const env = await a.ok(["sync", "status"], { env: { JDO_TURSO_AUTH_TOKEN: token } });
    assert.match(env.stdout, /^Token: +env \(JDO_TURSO_AUTH_TOKEN\)$/m);
  },
});

Deno.test({
  ...opts,
  name:
    "sync: a URL leading to an empty database, another app's or another jdo cloud is refused, nothing written",
  fn: async () => {
    await using mine = await startSqld({ auth: true });
    await using elsewhere = await startSqld({ auth: true });
    const token = await mine.token("rw");
    const otherToken = await elsewhere.token("rw");
    await using a = await device("A");
    await using c = await device("C");
    assert.equal((await setup(a, mine.url, token)).code, 0);
    await a.ok(["capture", "A's private note"]);
    const redirect = { env: { JDO_TURSO_DB_URL: elsewhere.url, JDO_TURSO_AUTH_TOKEN: otherToken } };

    // An empty database: this device synced with another cloud before.
    const empty = await a.run(["sync", "now"], redirect);
    assert.equal(empty.code, 3, empty.stderr);
    assert.match(empty.stderr, /^jdo: The database at 127\.0\.0\.1:\d+ holds no jdo data/m);
    assert.match(empty.stderr, /nothing was written to it/);
    assert.deepEqual(await tableNames(elsewhere.url, otherToken), []);

    // Another app's tables.
    {
      using remote = openRemote(elsewhere.url, otherToken);
      await remote.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)");
    }
    const foreign = await a.run(["sync", "now", "--json"], redirect);
    assert.equal(foreign.code, 3, foreign.stderr);
    assert.match(JSON.parse(foreign.stdout).error, /holds another app's tables \(orders\)/);
    assert.deepEqual(await tableNames(elsewhere.url, otherToken), ["orders"]);

    // Another jdo cloud (C's): its id is not the one this device synced with.
    await using elsewhereOnly = await startSqld({ auth: true });
    const cToken = await elsewhereOnly.token("rw");
    assert.equal((await setup(c, elsewhereOnly.url, cToken)).code, 0);
    await c.ok(["capture", "C's note"]);
    await syncNow(c);
    const toC = { env: { JDO_TURSO_DB_URL: elsewhereOnly.url, JDO_TURSO_AUTH_TOKEN: cToken } };
    const other = await a.run(["sync", "now"], toC);
    assert.equal(other.code, 3, other.stderr);
    assert.match(other.stderr, /is not the cloud this device synced with/);
    assert.equal(
      await count(elsewhereOnly.url, cToken, "SELECT count(*) AS n FROM inbox_items"),
      1,
      "A's rows were not written to C's cloud",
    );
    // The same through repair, and status names it.
    const repair = await a.run(["sync", "repair", "--yes"], toC);
    assert.equal(repair.code, 3, repair.stderr);
    const st = await a.run(["sync", "status", "--json"], toC);
    assert.equal(st.code, 3, st.stderr);
    assert.equal(JSON.parse(st.stdout).state, "wrong_cloud");

    // Its own cloud still syncs.
    assert.deepEqual((await syncNow(a)).ok, true);
    assert.equal(await count(mine.url, token, "SELECT count(*) AS n FROM inbox_items"), 1);
  },
});

Deno.test({
  ...opts,
  name: "sync status: repair counts as a success, an old failure is history",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using a = await device("A");
    assert.equal((await setup(a, server.url, token)).code, 0);
    const before = await status(a) as unknown as Record<string, unknown>;

    await server.stop();
    const failed = await a.run(["sync", "now"]);
    assert.equal(failed.code, 3, failed.stderr);
    await server.restart();
    const repaired = await a.run(["sync", "repair", "--yes"]);
    assert.equal(repaired.code, 0, repaired.stderr);
    const st = await status(a) as unknown as Record<string, string>;
    assert.equal(st.last_result, "ok");
    assert.equal(st.last_success_at, st.last_sync_at, "the repair is the last success");
    assert.ok(st.last_success_at > String(before.last_success_at));
    assert.ok(st.last_failure_at < st.last_success_at, "the failure is dated before it");
    assert.match(String(st.last_error), /connection refused/, "the failure keeps its own message");
    const text = await a.ok(["sync", "status"]);
    assert.doesNotMatch(text.stdout, /Last fail/);
    const lastOk = `${localTime(st.last_success_at, TEST_TIMEZONE)} ${TEST_TIMEZONE}`;
    assert.match(text.stdout, new RegExp(`^Last ok: +${lastOk}$`, "m"));
  },
});

Deno.test({
  ...opts,
  name: "sync status: exit 3 when the cloud cannot be reached or refuses the token",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using a = await device("A");
    assert.equal((await setup(a, server.url, token)).code, 0);
    const online = await a.ok(["sync", "status"]);
    assert.match(online.stdout, /^Cloud view: \d+ s old$/m);
    const st = await status(a) as unknown as Record<string, unknown>;
    assert.equal(st.cloud_view_at, st.last_success_at);
    assert.equal(typeof st.cloud_view_age_s, "number");

    await server.stop();
    // Unreachable: status prints its JSON and exits 3, nothing more on stderr.
    const offline = await a.run(["sync", "status", "--json"]);
    assert.equal(offline.code, 3, offline.stderr);
    assert.equal(offline.stderr, "");
    assert.equal(JSON.parse(offline.stdout).state, "offline");
    const offlineText = await a.run(["sync", "status"]);
    assert.equal(offlineText.code, 3, offlineText.stderr);
    assert.match(offlineText.stdout, /offline \(.*connection refused/);
    await server.restart();

    // A token the cloud refuses: exit 3 as well, the JSON still printed.
    await using strangers = await startSqld({ auth: true });
    const stranger = await strangers.token("rw");
    const refused = await a.run(["sync", "status", "--json"], {
      env: { JDO_TURSO_AUTH_TOKEN: stranger },
    });
    assert.equal(refused.code, 3, refused.stderr);
    assert.equal(JSON.parse(refused.stdout).state, "auth_error");
  },
});
