/**
 * Cloud sync when things go wrong: the server is down, the network is dead,
 * setup is given bad input, a connection is cut in the middle of a push.
 * Real jdo processes against a real sqld (JWT auth), through a fault proxy.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { freePort, isolatedFetch, startSqld } from "../helpers/sqld.ts";
import { startFaultProxy } from "../helpers/fault_proxy.ts";
import { startSplitProxy } from "../helpers/split_proxy.ts";
import {
  type Device,
  device,
  exists,
  ids,
  readJsonIfExists,
  type Row,
  setup,
  status,
  syncNow,
} from "../helpers/device.ts";

/** Nothing about sync was saved, and the local data is still there. */
async function assertNothingSaved(dev: Device, expectedIds: string[], label: string) {
  const settings = await readJsonIfExists<{ turso_enabled?: boolean; turso_db_url?: string }>(
    join(dev.home, "settings.json"),
  );
  assert.ok(!settings?.turso_enabled, `${label}: settings.json enables sync`);
  assert.ok(!settings?.turso_db_url, `${label}: settings.json has a URL`);
  const auth = await readJsonIfExists<Record<string, unknown>>(join(dev.home, "auth.json"));
  assert.equal(auth?.turso, undefined, `${label}: auth.json holds a token`);
  assert.equal(await exists(join(dev.home, "cloud")), false, `${label}: cloud/ exists`);
  assert.deepEqual(await ids(dev), expectedIds, `${label}: local data changed`);
}

/** An Ed25519-signed JWT from a key no server knows. */
async function foreignToken(): Promise<string> {
  const b64 = (bytes: Uint8Array) =>
    btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(
      /=+$/,
      "",
    );
  const json = (v: unknown) => b64(new TextEncoder().encode(JSON.stringify(v)));
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const now = Math.floor(Date.now() / 1000);
  const input = `${json({ alg: "EdDSA", typ: "JWT" })}.${
    json({ a: "rw", iat: now, exp: now + 3600 })
  }`;
  const sig = await crypto.subtle.sign("Ed25519", pair.privateKey, new TextEncoder().encode(input));
  return `${input}.${b64(new Uint8Array(sig))}`;
}

Deno.test("sync setup: every failure says what is wrong and saves nothing", async () => {
  await using server = await startSqld({ auth: true });
  await using a = await device("A");
  const c = await a.json<Row>([
    "commit",
    "Stay local",
    "--to",
    "Gus",
    "--due",
    "2026-12-09",
    "--json",
  ]);
  const closedPort = await freePort();
  const notLibsql = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () =>
      new Response("<html><body><h1>404 Not Found</h1></body></html>", {
        status: 404,
        headers: { "content-type": "text/html" },
      }),
  );
  try {
    const [rw, ro, expired, foreign] = await Promise.all([
      server.token("rw"),
      server.token("ro"),
      server.token("rw", { expiresInSec: -120 }),
      foreignToken(),
    ]);
    const garbage = "eyJhbGciOiJFZERTQSJ9.eyJhIjoicncifQ.bm90LWEtc2lnbmF0dXJl";
    const cases: { label: string; url: string; token: string; code: number; message: RegExp }[] = [
      {
        label: "closed port",
        url: `http://127.0.0.1:${closedPort}`,
        token: rw,
        code: 3,
        message: /reach/i,
      },
      { label: "random JWT", url: server.url, token: garbage, code: 3, message: /token/i },
      { label: "foreign key", url: server.url, token: foreign, code: 3, message: /token/i },
      { label: "expired", url: server.url, token: expired, code: 3, message: /token/i },
      { label: "read-only", url: server.url, token: ro, code: 3, message: /read-only/i },
      {
        label: "not libSQL",
        url: `http://127.0.0.1:${notLibsql.addr.port}`,
        token: rw,
        code: 3,
        message: /not (answer like )?a libSQL/i,
      },
      { label: "ftp scheme", url: "ftp://x", token: rw, code: 2, message: /scheme/i },
      {
        label: "remote http",
        url: "http://example.com",
        token: rw,
        code: 2,
        message: /http:\/\//i,
      },
    ];
    const results = await Promise.all(
      cases.map((k) => setup(a, k.url, k.token, [], { timeoutMs: 60_000 })),
    );
    // The token is never an argument: no --token-stdin and no env token → usage error.
    const noStdin = await a.run(["sync", "setup", "--url", server.url, "--yes"]);
    results.push(noStdin);
    cases.push({ label: "no --token-stdin", url: "", token: "", code: 2, message: /token-stdin/ });

    for (const [i, k] of cases.entries()) {
      const r = results[i];
      assert.equal(r.code, k.code, `${k.label}: exit ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, k.message, `${k.label}: ${r.stderr}`);
      assert.equal(r.stderr.trimEnd().split("\n").filter((l) => l.startsWith("jdo:")).length, 1);
      if (k.code === 3) assert.match(r.stderr, /nothing was saved/, k.label);
      // Bounded: well before the 60 s after which the test would kill it.
      assert.ok(r.ms < 30_000, `${k.label}: took ${r.ms} ms`);
      if (k.token) {
        const sig = k.token.split(".")[2];
        assert.ok(!r.stdout.includes(sig) && !r.stderr.includes(sig), `${k.label}: token echoed`);
      }
    }
    await assertNothingSaved(a, [c.id], "after failed setups");
    assert.equal((await status(a)).state, "disabled");

    // The same device then sets up fine.
    const good = await setup(a, server.url, rw);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /↑ 2 uploaded/);
  } finally {
    await notLibsql.shutdown();
  }
});

Deno.test("sync: offline writes wait in the queue and go up after reconnecting", async () => {
  await using server = await startSqld({ auth: true });
  const token = await server.token("rw");
  await using a = await device("A");
  await using b = await device("B");
  await Promise.all([setup(a, server.url, token), setup(b, server.url, token)]);

  await server.stop();
  const captured = await Promise.all(
    ["offline one", "offline two", "offline three"].map((text) =>
      a.run(["capture", text, "--json"])
    ),
  );
  for (const r of captured) {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
  }
  const offlineIds = captured.map((r) => (JSON.parse(r.stdout) as Row).id).sort();
  const st = await status(a);
  assert.equal(st.state, "offline");
  assert.ok(st.pending_changes >= 3, `pending ${st.pending_changes}`);
  const failed = await a.run(["sync", "now"]);
  assert.equal(failed.code, 3, failed.stderr);
  assert.match(failed.stderr, /reach/i);
  assert.equal((await status(a)).last_result, "SYNC_UNREACHABLE");
  assert.deepEqual(await ids(a, "inbox"), offlineIds);

  await server.restart();
  const ok = await syncNow(a);
  assert.deepEqual([ok.ok, ok.pushed], [true, 3]);
  assert.equal((await status(a)).pending_changes, 0);
  assert.equal((await syncNow(b)).pulled, 3);
  assert.deepEqual(await ids(b, "inbox"), offlineIds);
});

Deno.test("sync: a dead network fails sync in bounded time, never slows ordinary commands", async () => {
  await using server = await startSqld({ auth: true });
  await using proxy = await startFaultProxy(server.port);
  const token = await server.token("rw");
  await using a = await device("A");
  assert.equal((await setup(a, proxy.url, token)).code, 0);
  await a.ok(["capture", "before the outage"]);

  proxy.setMode("blackhole");
  proxy.cutAll();
  // The black hole never answers; each command gets 60 s before the test
  // kills it, and must finish well before: bounded timeouts for sync, no
  // wait at all for ordinary commands. Never a few-second bound: a loaded
  // machine is slow to start Deno.
  const DEAD_NETWORK_KILL_MS = 60_000;
  const WELL_BEFORE_MS = 25_000;
  const [now, st, list, capture] = await Promise.all([
    a.run(["sync", "now", "--json"], { timeoutMs: DEAD_NETWORK_KILL_MS }),
    a.run(["sync", "status", "--json"], { timeoutMs: DEAD_NETWORK_KILL_MS }),
    a.run(["list", "inbox", "--json"], { timeoutMs: DEAD_NETWORK_KILL_MS }),
    a.run(["capture", "during the outage", "--json"], { timeoutMs: DEAD_NETWORK_KILL_MS }),
  ]);
  assert.equal(now.code, 3, now.stderr);
  assert.ok(now.ms < WELL_BEFORE_MS, `sync now took ${now.ms} ms on a dead network`);
  const report = JSON.parse(now.stdout);
  assert.equal(report.ok, false);
  assert.match(report.error, /reach/i);
  assert.equal(st.code, 3, st.stderr);
  assert.ok(st.ms < WELL_BEFORE_MS, `sync status took ${st.ms} ms`);
  assert.equal(JSON.parse(st.stdout).state, "offline");
  for (const r of [list, capture]) {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.ok(r.ms < WELL_BEFORE_MS, `an ordinary command took ${r.ms} ms`);
  }
  assert.equal(JSON.parse(list.stdout).length >= 1, true);
  assert.ok((await status(a)).pending_changes >= 2);

  proxy.setMode("pass");
  proxy.cutAll();
  const back = await syncNow(a);
  assert.deepEqual([back.ok, back.pushed], [true, 2]);
});

Deno.test("sync: a push cut in the middle converges on the next sync, without duplicates", async () => {
  await using server = await startSqld({ auth: true });
  await using proxy = await startFaultProxy(server.port);
  const token = await server.token("rw");
  await using a = await device("A");
  await using c = await device("C");
  assert.equal((await setup(a, proxy.url, token)).code, 0);
  using cloudFetch = isolatedFetch({ timeoutMs: 10_000 });
  const cloud = createClient({ url: server.url, authToken: token, fetch: cloudFetch.fetch });
  const cloudCount = async () =>
    Number((await cloud.execute("SELECT count(*) AS n FROM commitments")).rows[0].n);

  // Each attempt imports 500 new commitments, then cuts the connection after
  // `budget` bytes from the server. Different budgets land in different steps
  // (schema check, replica pull, push response); the interesting one is the
  // lost acknowledgement: the cloud applied the push, the device never heard.
  let total = 0;
  let failures = 0;
  let lostAck = false;
  for (const [round, budget] of [5_000, 6_000, 4_500, 7_000, 1_300].entries()) {
    const items = Array.from({ length: 500 }, (_, i) => ({
      deliverable: `Round ${round} item ${i}`,
      stakeholder: `Person ${i % 5}`,
      due_date: "2026-12-15",
    }));
    const file = join(a.home, `import-${round}.json`);
    await Deno.writeTextFile(file, JSON.stringify(items));
    const imported = await a.json<{ imported: number }>(["import", file, "--json"]);
    assert.equal(imported.imported, 500);
    total += 500;

    const before = await cloudCount();
    proxy.cutAfterBytes(budget);
    const cut = await a.run(["sync", "now", "--json"]);
    proxy.cutAfterBytes(Number.MAX_SAFE_INTEGER); // disarm if it never fired
    if (cut.code !== 0) {
      // A cut connection is a network failure: exit 3, whichever step it hit.
      assert.equal(cut.code, 3, cut.stderr);
      assert.match(cut.stderr, /Cannot reach .*connection was cut/);
      failures++;
      const report = JSON.parse(cut.stdout);
      assert.equal(report.ok, false);
      const pending = (await status(a)).pending_changes;
      if (await cloudCount() === before + 500 && pending >= 500) lostAck = true;
    }
    const next = await syncNow(a);
    assert.equal(next.ok, true);
    assert.equal(await cloudCount(), total);
    assert.equal((await status(a)).pending_changes, 0);
    if (lostAck) break;
  }
  assert.ok(failures >= 1, "no cut made a sync fail: the test did not exercise anything");
  assert.ok(lostAck, "no cut landed between the cloud applying a push and its answer");

  // The cloud holds each commitment once; a fresh device gets exactly A's set.
  const distinct = await cloud.execute(
    "SELECT count(DISTINCT deliverable) AS n, count(*) AS total FROM commitments",
  );
  assert.deepEqual([Number(distinct.rows[0].n), Number(distinct.rows[0].total)], [total, total]);
  cloud.close();
  const joined = await setup(c, server.url, token);
  assert.equal(joined.code, 0, joined.stderr);
  const [aIds, cIds, aPeople, cPeople] = await Promise.all([
    ids(a),
    ids(c),
    ids(a, "stakeholders"),
    ids(c, "stakeholders"),
  ]);
  assert.equal(aIds.length, total);
  assert.deepEqual(cIds, aIds);
  assert.deepEqual(cPeople, aPeople);
  assert.equal(aPeople.length, 5);
  assert.equal((await status(a)).pending_changes, 0);
});

Deno.test("sync: killed (kill -9) in the middle, the next sync converges", async () => {
  await using server = await startSqld({ auth: true });
  const token = await server.token("rw");
  await using a = await device("A");
  await using b = await device("B");
  await Promise.all([setup(a, server.url, token), setup(b, server.url, token)]);
  using cloudFetch = isolatedFetch({ timeoutMs: 10_000 });
  const cloud = createClient({ url: server.url, authToken: token, fetch: cloudFetch.fetch });
  const cloudCount = async () =>
    Number((await cloud.execute("SELECT count(*) AS n FROM commitments")).rows[0].n);

  // SIGKILL `sync now` after growing delays until one run completes; a batch
  // of 5,000 commitments goes up in five chunks (a few hundred ms in all), so
  // some kill lands after the cloud took a chunk and before the device
  // finished recording them.
  const BATCH = 5_000;
  let total = 0;
  let killedMidway = false;
  for (let batch = 0; batch < 3 && !killedMidway; batch++) {
    const items = Array.from({ length: BATCH }, (_, i) => ({
      deliverable: `Batch ${batch} killed ${i}`,
      stakeholder: `Person ${i % 3}`,
      due_date: "2026-12-20",
    }));
    const file = join(a.home, `items-${batch}.json`);
    await Deno.writeTextFile(file, JSON.stringify(items));
    await a.ok(["import", file]);
    total += BATCH;
    for (let ms = 150 + batch * 10; ms < 5_000; ms += 30) {
      const r = await a.run(["sync", "now", "--json"], { timeoutMs: ms });
      if (r.code === 0) break;
      assert.equal(r.code, -1, r.stderr); // only ever killed, never failed
      const [inCloud, pending] = [await cloudCount(), (await status(a)).pending_changes];
      if (inCloud > total - BATCH && pending > 0) killedMidway = true;
    }
  }
  assert.ok(killedMidway, "no kill landed in the middle of a push");
  // The dead processes' lock is taken over; the sync converges.
  const next = await a.run(["sync", "now", "--json"], { timeoutMs: 30_000 });
  assert.equal(next.code, 0, next.stderr);
  assert.equal((await status(a)).pending_changes, 0);
  assert.equal(await cloudCount(), total);
  cloud.close();
  assert.equal((await syncNow(b)).ok, true);
  const [aIds, bIds] = await Promise.all([ids(a), ids(b)]);
  assert.equal(aIds.length, total);
  assert.deepEqual(bIds, aIds);
});

Deno.test({
  name: "sync: a stalled replication stream fails sync in bounded time",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using proxy = startSplitProxy(server.port);
    await using a = await device("A");
    assert.equal((await setup(a, proxy.url, token)).code, 0);
    await a.ok(["capture", "stuck"]);
    proxy.stall("replication");
    const r = await a.run(["sync", "now"], { timeoutMs: 40_000 });
    assert.notEqual(r.code, -1, `sync now still hung after ${r.ms} ms`);
    assert.equal(r.code, 3, r.stderr);
    assert.ok(r.ms < 20_000, `sync now took ${r.ms} ms`);
    assert.ok(proxy.seen.includes("replication"));
  },
});
