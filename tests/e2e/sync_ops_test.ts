/**
 * Sync as a new user first meets it (issue 11): the URL that was checked is
 * the one that syncs, setup saves nothing until a sync really worked,
 * disable can always be finished, status tells success from failure, and
 * files jdo cannot read are named. Real jdo processes against a real sqld.
 */
import assert from "node:assert/strict";
import { localTime } from "../../src/output/local_time.ts";
import { TEST_TIMEZONE } from "../helpers/test_clock.ts";
import { join } from "node:path";
import { startSqld } from "../helpers/sqld.ts";
import { startSplitProxy } from "../helpers/split_proxy.ts";
import {
  type Device,
  device,
  exists,
  readJsonIfExists,
  setup,
  status,
  syncNow,
} from "../helpers/device.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

interface Settings {
  turso_enabled?: boolean;
  turso_db_url?: string | null;
}

const settingsOf = (dev: Device) => readJsonIfExists<Settings>(join(dev.home, "settings.json"));

/** The parenthesised remarks on a `jdo:` error line (at most one hint). */
function remarks(stderr: string): string[] {
  const line = stderr.split("\n").find((l) => l.startsWith("jdo:")) ?? "";
  return line.match(/\([^()]*\)/g) ?? [];
}

/** An instant as `sync status` shows it: on the test world's clock, with the zone. */
const onTestClock = (iso: unknown) => `${localTime(iso, TEST_TIMEZONE)} ${TEST_TIMEZONE}`;

Deno.test({
  ...opts,
  name: "sync setup --url ws://…: the replica uses the same server, pulls work",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using a = await device("A");
    await using b = await device("B");
    const wsUrl = server.url.replace(/^http:/, "ws:");
    assert.equal((await setup(a, server.url, token)).code, 0);
    await a.ok(["capture", "from A"]);
    assert.equal((await syncNow(a)).pushed, 1);

    const r = await setup(b, wsUrl, token);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /↓ 1 downloaded/);
    assert.equal((await settingsOf(b))?.turso_db_url, server.url, "saved as http://");
    await a.ok(["capture", "second from A"]);
    await syncNow(a);
    const pulled = await syncNow(b);
    assert.deepEqual([pulled.ok, pulled.pulled], [true, 1]);

    // A ws:// URL from the environment (or an older settings.json) works too.
    const envB = await b.json<{ ok: boolean }>(["sync", "now", "--json"], {
      env: { JDO_TURSO_DB_URL: wsUrl },
    });
    assert.equal(envB.ok, true);
  },
});

Deno.test({
  ...opts,
  name: "sync setup: when the first sync fails, nothing is saved and the old configuration stays",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    await using proxy = startSplitProxy(server.port);
    const token = await server.token("rw");
    await using a = await device("A");
    await a.ok(["capture", "local"]);

    // The SQL check passes; the replica's pull never gets an answer.
    proxy.stall("replication");
    const first = await setup(a, proxy.url, token, [], { timeoutMs: 60_000 });
    assert.equal(first.code, 3, first.stderr);
    assert.match(first.stderr, /✓ Connected/);
    assert.match(first.stderr, /nothing was saved/);
    assert.equal(remarks(first.stderr).length, 1, first.stderr);
    assert.ok(!(await settingsOf(a))?.turso_enabled, "settings.json does not enable sync");
    const auth = await readJsonIfExists<Record<string, unknown>>(join(a.home, "auth.json"));
    assert.equal(auth?.turso, undefined, "no token saved");
    assert.equal(await exists(join(a.home, "cloud")), false);
    assert.equal((await status(a)).state, "disabled");

    // Set up for real, then a failed replacement leaves that configuration as it was.
    assert.equal((await setup(a, server.url, token)).code, 0);
    const before = await Deno.readTextFile(join(a.home, "settings.json"));
    const authBefore = await Deno.readTextFile(join(a.home, "auth.json"));
    const again = await setup(a, proxy.url, token, [], { timeoutMs: 60_000 });
    assert.equal(again.code, 3, again.stderr);
    assert.equal(await Deno.readTextFile(join(a.home, "settings.json")), before);
    assert.equal(await Deno.readTextFile(join(a.home, "auth.json")), authBefore);
    const ok = await syncNow(a);
    assert.equal(ok.ok, true);
  },
});

Deno.test({
  ...opts,
  name:
    "sync disable with a corrupt auth.json: does every other step, names the file, can be finished",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using a = await device("A");
    assert.equal((await setup(a, server.url, token)).code, 0);
    const authPath = join(a.home, "auth.json");
    await Deno.writeTextFile(authPath, '{"turso": {"token": "cut', { mode: 0o600 });

    const first = await a.run(["sync", "disable", "--yes"]);
    assert.equal(first.code, 1, first.stderr);
    assert.ok(first.stderr.includes(authPath), first.stderr);
    assert.match(first.stderr, /Sync is off, but could not remove the token from the auth store/);
    assert.match(first.stderr, /run jdo sync disable again/);
    assert.equal(first.stderr.trim().split("\n").length, 1, "one line");
    assert.equal((await settingsOf(a))?.turso_enabled, false);
    assert.equal(await exists(join(a.home, "cloud")), false, "cloud/ removed anyway");

    // Not "already off": the token is still to be removed.
    const second = await a.run(["sync", "disable", "--yes"]);
    assert.equal(second.code, 1, second.stderr);
    assert.doesNotMatch(second.stdout, /already off/);

    // Repaired by hand (here: the file holds the token again), the next run finishes.
    await Deno.writeTextFile(authPath, JSON.stringify({ turso: { token, saved_at: "" } }));
    const third = await a.run(["sync", "disable", "--yes"]);
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.stdout, /Sync is off/);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(authPath)), {});
    const fourth = await a.ok(["sync", "disable", "--yes"]);
    assert.match(fourth.stdout, /already off/);
  },
});

Deno.test({
  ...opts,
  name:
    "sync status and now: refused connection said so, last success and failure apart, real duration",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using a = await device("A");
    assert.equal((await setup(a, server.url, token)).code, 0);
    const okStatus = await status(a) as unknown as Record<string, unknown>;
    assert.equal(okStatus.last_result, "ok");
    assert.equal(okStatus.last_failure_at, null);
    const success = okStatus.last_success_at as string;
    assert.ok(success);

    await server.stop();
    const failed = await a.run(["sync", "now", "--json"]);
    assert.equal(failed.code, 3, failed.stderr);
    const report = JSON.parse(failed.stdout);
    assert.equal(report.ok, false);
    assert.ok(report.duration_ms > 0, `duration_ms ${report.duration_ms}`);
    const port = new URL(server.url).port;
    assert.match(
      report.error,
      new RegExp(`connection refused: nothing is listening at 127\\.0\\.0\\.1:${port}`),
    );
    assert.doesNotMatch(report.error, /cut/);
    assert.equal(remarks(failed.stderr).length, 0, failed.stderr);

    const st = await status(a) as unknown as Record<string, unknown>;
    assert.equal(st.last_result, "SYNC_UNREACHABLE");
    assert.equal(st.last_success_at, success, "the last success is kept");
    assert.ok(st.last_failure_at);
    assert.equal(st.last_sync_at, st.last_failure_at, "last_sync_at is the last attempt");
    assert.match(String(st.last_error), /connection refused/);
    const text = await a.run(["sync", "status"]);
    assert.equal(text.code, 3, "the cloud cannot be reached: exit 3");
    assert.match(
      text.stdout,
      new RegExp(`Last fail: ${onTestClock(st.last_failure_at)} \\(.*connection refused`),
    );
    // Times on the viewer's clock (JDO_TIMEZONE), naming the zone.
    assert.match(text.stdout, new RegExp(`Last ok: +${onTestClock(success)}\n`));
    const tokyo = await a.run(["sync", "status"], { env: { JDO_TIMEZONE: "Asia/Tokyo" } });
    assert.equal(tokyo.code, 3, "still unreachable: exit 3");
    assert.match(
      tokyo.stdout,
      new RegExp(`Last ok: +${localTime(success, "Asia/Tokyo")} Asia/Tokyo`),
    );
    assert.match(text.stdout, /Token: +auth store/);

    await server.restart();
    await syncNow(a);
    const back = await status(a) as unknown as Record<string, unknown>;
    assert.equal(back.last_result, "ok");
    assert.equal(
      back.last_failure_at,
      st.last_failure_at,
      "the last failure is kept after a success",
    );
  },
});

Deno.test("corrupt auth.json or settings.json is named, with sync off too", async () => {
  await using a = await device("A");
  await a.ok(["capture", "x"]);
  const authPath = join(a.home, "auth.json");
  await Deno.writeTextFile(authPath, "{oops", { mode: 0o600 });
  const st = await a.run(["sync", "status"]);
  assert.equal(st.code, 0, st.stderr);
  assert.match(st.stdout, /Sync: off/);
  assert.ok(st.stderr.includes(authPath), `names auth.json: ${st.stderr}`);
  assert.match(st.stderr, /^jdo: warning: .*not valid JSON/m);
  const json = await a.run(["sync", "status", "--json"]);
  assert.equal(json.code, 0);
  assert.equal(JSON.parse(json.stdout).warnings.length, 1);
  assert.ok(json.stderr.includes(authPath));
  await Deno.remove(authPath);

  const settingsPath = join(a.home, "settings.json");
  await Deno.writeTextFile(settingsPath, "{oops");
  const statusBad = await a.run(["sync", "status"]);
  assert.equal(statusBad.code, 1);
  assert.ok(statusBad.stderr.includes(settingsPath), statusBad.stderr);
  // A write would start an automatic sync, which reads settings.json: it says so.
  const capture = await a.run(["capture", "y"], { env: { JDO_SYNC_AUTO: undefined } });
  assert.equal(capture.code, 0, capture.stderr);
  assert.ok(
    capture.stderr.includes(settingsPath),
    `capture names settings.json: ${capture.stderr}`,
  );
  assert.match(capture.stderr, /automatic sync was skipped/);
});
