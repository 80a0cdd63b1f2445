import { type Client, createClient, LibsqlError } from "@libsql/client";
import assert from "node:assert/strict";
import { freePort, type IsolatedFetch, isolatedFetch, sqldBinaryPath, startSqld } from "./sqld.ts";
import { startFaultProxy } from "./fault_proxy.ts";

/** A remote client with its own connection pool, closed together. */
function openClient(
  url: string,
  opts: { authToken?: string; timeoutMs?: number } = {},
): Client & Disposable {
  const http: IsolatedFetch = isolatedFetch({ timeoutMs: opts.timeoutMs });
  const client = createClient({
    url,
    authToken: opts.authToken,
    fetch: http.fetch,
  });
  return Object.assign(client, {
    [Symbol.dispose]() {
      client.close();
      http.close();
    },
  });
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof Error, `expected an Error, got ${String(err)}`);
    return err;
  }
  throw new Error("Expected the promise to reject, but it resolved");
}

async function assertHttpStatus(
  promise: Promise<unknown>,
  status: number,
): Promise<void> {
  const err = await rejection(promise);
  assert.ok(err instanceof LibsqlError, `expected LibsqlError, got ${err}`);
  assert.equal(err.code, "SERVER_ERROR");
  assert.match(err.message, new RegExp(`HTTP status ${status}\\b`));
}

/** Fails the test instead of hanging when a promise takes too long. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Hung for over ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitUntil(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("Condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const SLOW_QUERY = "WITH RECURSIVE c(x) AS " +
  "(SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 5000000) SELECT sum(x) FROM c";

Deno.test("sqldBinaryPath points at an existing file", () => {
  assert.ok(Deno.statSync(sqldBinaryPath()).isFile);
});

Deno.test("freePort returns a bindable port", async () => {
  const port = await freePort();
  assert.ok(port > 0);
  Deno.listen({ hostname: "127.0.0.1", port }).close();
});

Deno.test("sqld starts and answers /health", async () => {
  await using server = await startSqld();
  assert.equal(server.url, `http://127.0.0.1:${server.port}`);
  using http = isolatedFetch();
  const res = await http.fetch(`${server.url}/health`);
  await res.body?.cancel();
  assert.equal(res.status, 200);
  await assert.rejects(server.token(), /auth: true/);
});

Deno.test("remote client creates, inserts and reads back", async () => {
  await using server = await startSqld();
  using db = openClient(server.url);
  await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)");
  await db.execute({ sql: "INSERT INTO t (name) VALUES (?)", args: ["alpha"] });
  const rs = await db.execute("SELECT id, name FROM t");
  assert.deepEqual(rs.rows.map((r) => [r.id, r.name]), [[1, "alpha"]]);
});

Deno.test("auth: rw writes, ro cannot write, bad tokens are rejected", async () => {
  await using server = await startSqld({ auth: true });
  {
    using rw = openClient(server.url, { authToken: await server.token("rw") });
    await rw.execute("CREATE TABLE t (x)");
    await rw.execute("INSERT INTO t VALUES (1)");
  }
  {
    using ro = openClient(server.url, { authToken: await server.token("ro") });
    assert.equal(
      (await ro.execute("SELECT count(*) AS n FROM t")).rows[0].n,
      1,
    );
    await assertHttpStatus(ro.execute("INSERT INTO t VALUES (2)"), 403);
  }
  // sqld allows 60 s of clock leeway on exp, so expire well beyond it.
  const expired = await server.token("rw", { expiresInSec: -120 });
  for (const authToken of [undefined, "not.a.jwt", expired]) {
    using db = openClient(server.url, { authToken });
    await assertHttpStatus(db.execute("SELECT 1"), 401);
  }
});

Deno.test("auth: plain HTTP shows status codes and error bodies", async () => {
  await using server = await startSqld({ auth: true });
  using http = isolatedFetch();
  const post = async (token?: string) => {
    const res = await http.fetch(`${server.url}/v2/pipeline`, {
      method: "POST",
      headers: token ? { authorization: `Bearer ${token}` } : {},
      body: JSON.stringify({
        requests: [{ type: "execute", stmt: { sql: "CREATE TABLE t (x)" } }],
      }),
    });
    return { status: res.status, body: await res.json() };
  };
  const none = await post();
  assert.equal(none.status, 401);
  assert.match(none.body.error, /^Unauthorized/);
  const ro = await post(await server.token("ro"));
  assert.equal(ro.status, 403);
  assert.match(ro.body.error, /^Authorization forbidden/);
  assert.equal((await post(await server.token("rw"))).status, 200);
});

Deno.test("restart keeps data on the same port", async () => {
  await using server = await startSqld();
  const port = server.port;
  {
    using db = openClient(server.url);
    await db.batch(["CREATE TABLE t (x)", "INSERT INTO t VALUES (42)"]);
  }
  await server.restart();
  assert.equal(server.port, port);
  using db = openClient(server.url);
  assert.equal((await db.execute("SELECT x FROM t")).rows[0].x, 42);
});

Deno.test("a non-libSQL HTTP server gives SERVER_ERROR with its status", async () => {
  const abort = new AbortController();
  const web = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: abort.signal, onListen() {} },
    () =>
      new Response("<html>nope</html>", {
        status: 404,
        headers: { "content-type": "text/html" },
      }),
  );
  try {
    using db = openClient(`http://127.0.0.1:${web.addr.port}`);
    await assertHttpStatus(db.execute("SELECT 1"), 404);
  } finally {
    abort.abort();
    await web.finished;
  }
});

Deno.test("proxy passes traffic through", async () => {
  await using server = await startSqld();
  await using proxy = await startFaultProxy(server.port);
  using db = openClient(proxy.url);
  assert.equal((await db.execute("SELECT 7 AS n")).rows[0].n, 7);
  assert.ok(proxy.bytesForwarded() > 0);
});

Deno.test("proxy refuse mode fails requests quickly", async () => {
  await using server = await startSqld();
  await using proxy = await startFaultProxy(server.port);
  proxy.setMode("refuse");
  using db = openClient(proxy.url, { timeoutMs: 5_000 });
  const err = await within(2_000, rejection(db.execute("SELECT 1")));
  assert.notEqual(err.name, "TimeoutError");
  proxy.setMode("pass");
  assert.equal((await db.execute("SELECT 1 AS n")).rows[0].n, 1);
});

Deno.test("proxy blackhole makes a client with a timeout fail", async () => {
  await using server = await startSqld();
  await using proxy = await startFaultProxy(server.port);
  proxy.setMode("blackhole");
  using db = openClient(proxy.url, { timeoutMs: 300 });
  const started = Date.now();
  const err = await within(3_000, rejection(db.execute("SELECT 1")));
  assert.equal(err.name, "TimeoutError");
  assert.ok(Date.now() - started >= 250);
  assert.equal(proxy.bytesForwarded(), 0);
});

Deno.test("cutAll during a request gives an error, not a hang", async () => {
  await using server = await startSqld();
  await using proxy = await startFaultProxy(server.port);
  // No warm-up request: on a reused keep-alive connection Deno's fetch would
  // silently resend the request instead of failing.
  using db = openClient(proxy.url, { timeoutMs: 10_000 });
  const pending = rejection(db.execute(SLOW_QUERY));
  await waitUntil(() => proxy.bytesForwarded() > 0, 2_000);
  proxy.cutAll();
  const err = await within(2_000, pending);
  assert.notEqual(err.name, "TimeoutError");
});

Deno.test("cutAfterBytes cuts a response midway, then passes again", async () => {
  await using server = await startSqld();
  await using proxy = await startFaultProxy(server.port);
  using db = openClient(proxy.url, { timeoutMs: 5_000 });
  await db.execute("SELECT 1");
  proxy.cutAfterBytes(1_000);
  const before = proxy.bytesForwarded();
  // Random bytes, because sqld gzips responses and zeros would shrink to nothing.
  const big = "SELECT hex(randomblob(100000)) AS b";
  await within(2_000, rejection(db.execute(big)));
  assert.ok(proxy.bytesForwarded() - before < 10_000);
  const rs = await db.execute(big);
  assert.equal(String(rs.rows[0].b).length, 200_000);
});
