/**
 * What jdo relies on in @libsql/client itself (0.18): pooled `file:`
 * connections, per-connection PRAGMAs, the `timeout` option as busy timeout,
 * and a replica refusing work while a transaction is open. When the client is
 * upgraded, these say what changed before the rest of the suite does.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Client, createClient, LibsqlError } from "@libsql/client";
import { BUSY_TIMEOUT_MS, inTransaction, openDatabaseFile } from "../../src/db/database.ts";
import { startSqld } from "../helpers/sqld.ts";
import { openTempStore } from "../helpers/temp_store.ts";

async function tempDb(): Promise<{ path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "jdo-client-" });
  return {
    path: join(dir, "t.db"),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

async function pragma(ex: Pick<Client, "execute">, name: string): Promise<number> {
  return Number((await ex.execute(`PRAGMA ${name}`)).rows[0][0]);
}

async function rejectionCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof LibsqlError, `expected a LibsqlError, got ${error}`);
    return error.code;
  }
  throw new Error("expected a rejection");
}

Deno.test("client: a default file: client pools connections, and a PRAGMA set with execute() stays on one of them", async () => {
  await using db = await tempDb();
  const client = createClient({ url: `file:${db.path}` });
  try {
    // A transaction holds one connection; execute() meanwhile gets another.
    const tx = await client.transaction("read");
    await client.execute("PRAGMA cache_size = -1234");
    assert.equal(await pragma(client, "cache_size"), -1234);
    assert.notEqual(
      await pragma(tx, "cache_size"),
      -1234,
      "the transaction's connection missed it",
    );
    tx.close();
  } finally {
    client.close();
  }
});

Deno.test("client: BEGIN sent with execute() does not survive the call (the pool rolls it back)", async () => {
  await using db = await tempDb();
  const client = createClient({ url: `file:${db.path}`, concurrency: 1 });
  try {
    await client.execute("CREATE TABLE t (x)");
    await client.execute("BEGIN IMMEDIATE");
    await client.execute("INSERT INTO t VALUES (1)");
    // No transaction is open any more: the insert autocommitted on its own.
    assert.equal(await rejectionCode(client.execute("ROLLBACK")), "SQLITE_ERROR");
    assert.equal(Number((await client.execute("SELECT count(*) FROM t")).rows[0][0]), 1);
  } finally {
    client.close();
  }
});

Deno.test("client: jdo's working database has one connection, so PRAGMAs reach its write transaction", async () => {
  await using db = await tempDb();
  const client = await openDatabaseFile(db.path);
  try {
    assert.equal(await pragma(client, "foreign_keys"), 1);
    await client.execute("PRAGMA foreign_keys = OFF");
    await inTransaction(client, async (tx) => {
      assert.equal(await pragma(tx, "foreign_keys"), 0, "same connection as the PRAGMA");
      // The single connection is the transaction's: the client refuses rather than hangs.
      assert.equal(await rejectionCode(client.execute("SELECT 1")), "TRANSACTION_ACTIVE");
    });
    await client.execute("PRAGMA foreign_keys = ON");
    assert.equal(await pragma(client, "foreign_keys"), 1);
  } finally {
    client.close();
  }
});

Deno.test("client: inTransaction commits on success and rolls back on failure", async () => {
  await using db = await tempDb();
  const client = await openDatabaseFile(db.path);
  try {
    await client.execute("CREATE TABLE t (x)");
    await inTransaction(client, (tx) => tx.execute("INSERT INTO t VALUES (1)"));
    await assert.rejects(
      inTransaction(client, async (tx) => {
        await tx.execute("INSERT INTO t VALUES (2)");
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.equal(Number((await client.execute("SELECT count(*) FROM t")).rows[0][0]), 1);
  } finally {
    client.close();
  }
});

Deno.test("client: the timeout option is the busy timeout of every pooled connection", async () => {
  await using db = await tempDb();
  const holder = createClient({ url: `file:${db.path}` });
  const waiter = createClient({ url: `file:${db.path}`, timeout: 2_000 });
  const impatient = createClient({ url: `file:${db.path}` });
  try {
    await holder.execute("PRAGMA journal_mode = WAL");
    await holder.execute("CREATE TABLE t (x)");
    const tx = await waiter.transaction("read"); // holds one connection of `waiter`
    assert.equal(await pragma(tx, "busy_timeout"), 2_000);
    assert.equal(await pragma(waiter, "busy_timeout"), 2_000, "a second pooled connection");
    tx.close();

    const lock = await holder.transaction("write");
    let started = performance.now();
    assert.equal(await rejectionCode(waiter.execute("INSERT INTO t VALUES (1)")), "SQLITE_BUSY");
    const waited = performance.now() - started;
    assert.ok(waited >= 1_900, `waited ${waited} ms for the lock`);
    started = performance.now();
    assert.equal(await rejectionCode(impatient.execute("INSERT INTO t VALUES (1)")), "SQLITE_BUSY");
    // Without a timeout it does not wait: far less than the waiter's 2 s.
    const impatientWaited = performance.now() - started;
    assert.ok(impatientWaited < 1_000, `no timeout, yet waited ${impatientWaited} ms`);
    lock.close();

    const jdo = await openDatabaseFile(join(db.path + "-jdo"));
    try {
      assert.equal(await pragma(jdo, "busy_timeout"), BUSY_TIMEOUT_MS);
    } finally {
      jdo.close();
    }
  } finally {
    holder.close();
    waiter.close();
    impatient.close();
  }
});

Deno.test({
  name: "client: an embedded replica refuses sync() and execute() while a transaction is open",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using db = await tempDb();
    const replica = createClient({ url: `file:${db.path}`, syncUrl: server.url, authToken: token });
    try {
      await replica.sync();
      const tx = await replica.transaction("read");
      assert.equal(await rejectionCode(replica.sync()), "TRANSACTION_ACTIVE");
      assert.equal(await rejectionCode(replica.execute("SELECT 1")), "TRANSACTION_ACTIVE");
      tx.close();
      await replica.sync();
      assert.equal(Number((await replica.execute("SELECT 1")).rows[0][0]), 1);
    } finally {
      replica.close();
    }
  },
});

Deno.test("client: Store.write's foreignKeys:false and ATTACH reach its transaction's connection", async () => {
  await using t = await openTempStore();
  await t.client.execute("CREATE TABLE p (id TEXT PRIMARY KEY)");
  await t.client.execute("CREATE TABLE c (id TEXT, p TEXT REFERENCES p(id))");
  await assert.rejects(
    t.store.write((w) => w.tx.execute("INSERT INTO c VALUES ('1', 'missing')")),
    /FOREIGN KEY/,
  );
  await t.store.write((w) => w.tx.execute("INSERT INTO c VALUES ('2', 'missing')"), {
    foreignKeys: false,
  });
  assert.equal(await pragma(t.client, "foreign_keys"), 1, "back on afterwards");

  const other = join(t.dir, "other.db");
  const side = createClient({ url: `file:${other}` });
  await side.execute("CREATE TABLE x (v)");
  await side.execute("INSERT INTO x VALUES (42)");
  side.close();
  const seen = await t.store.write(
    async (w) => Number((await w.tx.execute("SELECT v FROM side.x")).rows[0][0]),
    { attach: { path: other, as: "side" } },
  );
  assert.equal(seen, 42);
});

Deno.test("client: Store reads during an open write run on that write's transaction", async () => {
  await using t = await openTempStore();
  await t.client.execute("CREATE TABLE n (v)");
  const inside = await t.store.write(async (w) => {
    await w.tx.execute("INSERT INTO n VALUES (1)");
    // Not TRANSACTION_ACTIVE: the single connection is the transaction's, and Store uses it.
    return Number((await t.store.one("SELECT count(*) AS k FROM n"))?.k);
  });
  assert.equal(inside, 1);
  assert.equal(Number((await t.store.one("SELECT count(*) AS k FROM n"))?.k), 1);
});
