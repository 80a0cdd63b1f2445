import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ensureKeyedOutbox,
  migrateLocal,
  openDatabaseFile,
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
