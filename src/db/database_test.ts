import assert from "node:assert/strict";
import { join } from "node:path";
import {
  closeDatabase,
  ensureKeyedOutbox,
  LOCAL_SHAPE_STAMP,
  localIndexes,
  localShapeStamp,
  migrateLocal,
  openDatabaseFile,
  openWorkingDatabase,
  queryOne,
  queryRows,
  withRollbackJournal,
} from "./database.ts";

async function outboxSql(client: Awaited<ReturnType<typeof openDatabaseFile>>): Promise<string> {
  const row = await queryOne(
    client,
    "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = '_sync_outbox'",
  );
  return String(row?.sql);
}

Deno.test("keyed outbox: a rowid outbox is rebuilt WITHOUT ROWID once, every entry and column kept", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jdo-test-" });
  const client = await openDatabaseFile(join(dir, "jdo.db"));
  try {
    await migrateLocal(client, () => new Date());
    assert.doesNotMatch(
      await outboxSql(client),
      /WITHOUT ROWID/i,
      "migrations create a rowid table",
    );
    const entries = Array.from({ length: 300 }, (_, i) => ({
      entity: i % 2 ? "task" : "commitment",
      id: crypto.randomUUID(),
      version: `v${i}`,
      base: i % 3 ? "{}" : null,
    }));
    await client.execute({
      sql: `INSERT INTO _sync_outbox (entity, id, version, base)
            SELECT json_extract(value, '$.entity'), json_extract(value, '$.id'),
                   json_extract(value, '$.version'), json_extract(value, '$.base') FROM json_each(?)`,
      args: [JSON.stringify(entries)],
    });
    const before = await queryRows(client, "SELECT * FROM _sync_outbox ORDER BY entity, id");
    const columns = await queryRows(client, "PRAGMA table_info(_sync_outbox)");
    await ensureKeyedOutbox(client);
    assert.match(await outboxSql(client), /WITHOUT ROWID$/i);
    assert.deepEqual(
      await queryRows(client, "SELECT * FROM _sync_outbox ORDER BY entity, id"),
      before,
    );
    assert.deepEqual(await queryRows(client, "PRAGMA table_info(_sync_outbox)"), columns);
    // The primary key still refuses a second entry for one row.
    await assert.rejects(client.execute({
      sql: "INSERT INTO _sync_outbox (entity, id, version) VALUES (?, ?, 'x')",
      args: [entries[0].entity, entries[0].id],
    }));
    const sql = await outboxSql(client);
    await ensureKeyedOutbox(client);
    assert.equal(await outboxSql(client), sql, "a second open changes nothing");
  } finally {
    client.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("local shape stamp: LOCAL_SHAPE_STAMP is the hash of today's shape", () => {
  assert.equal(
    LOCAL_SHAPE_STAMP,
    localShapeStamp(),
    `the local shape changed: set LOCAL_SHAPE_STAMP in database.ts to ${localShapeStamp()}`,
  );
});

Deno.test("local shape stamp: a working database found whole is stamped, and then only the stamp is read", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jdo-test-" });
  const path = join(dir, "jdo.db");
  const now = () => new Date();
  const stamp = async (client: Awaited<ReturnType<typeof openDatabaseFile>>) =>
    Number((await queryOne(client, "PRAGMA user_version"))?.user_version);
  const indexes = async (client: Awaited<ReturnType<typeof openDatabaseFile>>) =>
    (await queryRows(client, "SELECT name FROM sqlite_schema WHERE type = 'index'"))
      .map((r) => String(r.name)).filter((n) => localIndexes().some((i) => i.name === n)).sort();
  const all = localIndexes().map((i) => i.name).sort();
  try {
    // An old file: migrated by an earlier jdo, rowid outbox, no local indexes, no stamp.
    const old = await openDatabaseFile(path);
    await migrateLocal(old, now);
    assert.equal(await stamp(old), 0);
    old.close();

    let client = await openWorkingDatabase(path, now);
    assert.equal(await stamp(client), LOCAL_SHAPE_STAMP);
    assert.match(await outboxSql(client), /WITHOUT ROWID$/i);
    assert.deepEqual(await indexes(client), all);
    // Stamped: the next open trusts it (an index dropped by hand stays dropped)…
    await client.execute(`DROP INDEX ${localIndexes()[0].name}`);
    client.close();
    client = await openWorkingDatabase(path, now);
    assert.deepEqual(await indexes(client), all.filter((n) => n !== localIndexes()[0].name));
    // …and any other stamp (another binary's shape, none at all) checks everything again.
    await client.execute(`PRAGMA user_version = ${LOCAL_SHAPE_STAMP ^ 1}`);
    client.close();
    client = await openWorkingDatabase(path, now);
    assert.deepEqual(await indexes(client), all);
    assert.equal(await stamp(client), LOCAL_SHAPE_STAMP);
    client.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("local shape stamp: node:sqlite stamps and reads it the same", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jdo-test-" });
  const path = join(dir, "jdo.db");
  try {
    const client = await openWorkingDatabase(path, () => new Date(), "node");
    assert.equal(
      Number((await queryOne(client, "PRAGMA user_version"))?.user_version),
      LOCAL_SHAPE_STAMP,
    );
    client.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rollback journal: a bulk load runs without the WAL and the WAL comes back; a reader keeps it WAL", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jdo-test-" });
  const path = join(dir, "jdo.db");
  const client = await openDatabaseFile(path);
  const mode = async () => String((await client.execute("PRAGMA journal_mode")).rows[0][0]);
  try {
    await migrateLocal(client, () => new Date());
    const inside = await withRollbackJournal(client, async () => {
      await client.execute("INSERT INTO _sync_state (key, value) VALUES ('a', '1')");
      return await mode();
    });
    assert.equal(inside, "delete");
    assert.equal(await mode(), "wal");
    // Another process in the middle of a read: the load runs in WAL mode, and waits for nobody.
    const reader = await openDatabaseFile(path);
    const tx = await reader.transaction("read");
    await tx.execute("SELECT count(*) FROM _sync_state");
    const started = performance.now();
    const during = await withRollbackJournal(client, async () => {
      await client.execute("INSERT INTO _sync_state (key, value) VALUES ('b', '2')");
      return await mode();
    });
    assert.equal(during, "wal");
    assert.ok(performance.now() - started < 5_000, "it did not wait for the reader");
    tx.close();
    reader.close();
    const rows = await queryRows(
      client,
      "SELECT key FROM _sync_state WHERE key IN ('a', 'b') ORDER BY key",
    );
    assert.deepEqual(rows.map((r) => r.key), ["a", "b"]);
  } finally {
    client.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("open on a new home: the directory another process made meanwhile is opened, not reported", async () => {
  const root = await Deno.makeTempDir({ prefix: "jdo-test-" });
  try {
    const dir = join(root, "data");
    const path = join(dir, "jdo.db");
    let attempts = 0;
    // The first attempt finds no directory; another jdo process makes it
    // before this one looks (3 processes starting on a new JDO_HOME).
    const client = await openDatabaseFile(path, "node", async (p, engine) => {
      if (++attempts === 1) {
        await Deno.mkdir(dir, { mode: 0o700 });
        throw new Error("unable to open database file");
      }
      return await openDatabaseFile(p, engine);
    });
    assert.equal(attempts, 2);
    assert.equal((await queryOne(client, "PRAGMA journal_mode"))?.journal_mode, "wal");
    client.close();
    // A directory that really cannot be opened is still reported, once retried.
    attempts = 0;
    await assert.rejects(
      openDatabaseFile(path, "node", () => {
        attempts++;
        return Promise.reject(new Error("unable to open database file"));
      }),
      /Cannot open the database .*unable to open database file/,
    );
    assert.equal(attempts, 2);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("open and close: a missing directory is made private; either engine leaves no WAL", async () => {
  const root = await Deno.makeTempDir({ prefix: "jdo-test-" });
  try {
    for (const engine of ["libsql", "node"] as const) {
      const dir = join(root, engine, "data");
      const path = join(dir, "jdo.db");
      const client = await openWorkingDatabase(path, () => new Date(), engine);
      assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700, engine);
      await client.execute(
        "INSERT INTO stakeholders (id, created_at, updated_at, version, name, type)" +
          " VALUES ('s1', 'now', 'now', 'v', 'Ann', 'person')",
      );
      assert.ok((await Deno.stat(`${path}-wal`)).size > 0, `${engine}: the write went to the WAL`);
      await closeDatabase(client, path);
      const wal = await Deno.stat(`${path}-wal`).then((info) => info.size, () => 0);
      assert.equal(wal, 0, `${engine}: WAL left behind`);
      const again = await openDatabaseFile(path, engine);
      assert.equal((await queryOne(again, "SELECT name FROM stakeholders"))?.name, "Ann");
      // With another connection open, SQLite's own checkpoint on close does
      // not run: a connection that wrote empties the WAL itself.
      const writer = await openDatabaseFile(path, engine);
      await writer.execute("UPDATE stakeholders SET name = 'Bo'");
      assert.ok((await Deno.stat(`${path}-wal`)).size > 0, `${engine}: the update went to the WAL`);
      await closeDatabase(writer, path);
      const left = await Deno.stat(`${path}-wal`).then((info) => info.size, () => 0);
      assert.equal(left, 0, `${engine}: WAL left behind by a writer beside a reader`);
      again.close();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
