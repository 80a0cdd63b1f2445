import assert from "node:assert/strict";
import { join } from "node:path";
import { JdoError } from "../errors.ts";
import { migrateLocal, openDatabaseFile, schemaStatus, schemaVersion } from "./database.ts";
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from "./migrations.ts";
import { ENTITIES } from "./schema.ts";

const now = () => new Date("2025-01-15T12:00:00Z");

async function tempDb(): Promise<{ dir: string; path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "jdo-migrations-" });
  return {
    dir,
    path: join(dir, "jdo.db"),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
  };
}

async function tables(client: { execute(sql: string): Promise<{ rows: unknown[] }> }) {
  const rs = await client.execute(
    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
  );
  return rs.rows.map((r) => String((r as Record<string, unknown>).name));
}

Deno.test("migrations are numbered 1..N without gaps", () => {
  assert.deepEqual(
    MIGRATIONS.map((m) => m.version),
    Array.from({ length: MIGRATIONS.length }, (_, i) => i + 1),
  );
  assert.equal(LATEST_SCHEMA_VERSION, MIGRATIONS.length);
});

Deno.test("a fresh database is migrated to the latest version with every table", async () => {
  await using db = await tempDb();
  const client = await openDatabaseFile(db.path);
  try {
    assert.equal(await schemaVersion(client), 0);
    const applied = await migrateLocal(client, now);
    assert.deepEqual(applied, MIGRATIONS.map((m) => m.version));
    assert.equal(await schemaVersion(client), LATEST_SCHEMA_VERSION);
    const status = await schemaStatus(client);
    assert.deepEqual(status, {
      current: LATEST_SCHEMA_VERSION,
      latest: LATEST_SCHEMA_VERSION,
      pending: [],
    });
    const names = await tables(client);
    for (const def of ENTITIES) assert.ok(names.includes(def.table), def.table);
    for (const t of ["_migrations", "_sync_outbox", "_sync_state", "_sync_conflicts"]) {
      assert.ok(names.includes(t), t);
    }
    const rs = await client.execute("SELECT version, applied_at FROM _migrations ORDER BY version");
    assert.equal(rs.rows.length, MIGRATIONS.length);
    assert.equal(rs.rows[0].applied_at, "2025-01-15T12:00:00.000Z");
    // WAL mode and foreign keys, as the SPEC requires.
    assert.equal(String((await client.execute("PRAGMA journal_mode")).rows[0][0]), "wal");
    assert.equal(Number((await client.execute("PRAGMA foreign_keys")).rows[0][0]), 1);
    assert.ok(Number((await client.execute("PRAGMA busy_timeout")).rows[0][0]) >= 5000);
  } finally {
    client.close();
  }
  if (Deno.build.os !== "windows") {
    assert.equal((await Deno.stat(db.path)).mode! & 0o777, 0o600);
  }
});

Deno.test("re-running migrations is a no-op and keeps the data", async () => {
  await using db = await tempDb();
  const client = await openDatabaseFile(db.path);
  try {
    await migrateLocal(client, now);
    await client.execute(
      `INSERT INTO inbox_items (id, created_at, updated_at, version, text, status)
       VALUES ('abcd', 'x', 'x', 'v', 'keep me', 'open')`,
    );
    assert.deepEqual(await migrateLocal(client, now), []);
    assert.deepEqual(await migrateLocal(client, now), []);
  } finally {
    client.close();
  }
  // And from a new connection, as the next jdo process would.
  const again = await openDatabaseFile(db.path);
  try {
    assert.deepEqual(await migrateLocal(again, now), []);
    const rs = await again.execute("SELECT count(*) AS n FROM _migrations");
    assert.equal(Number(rs.rows[0].n), MIGRATIONS.length);
    const item = await again.execute("SELECT text FROM inbox_items WHERE id = 'abcd'");
    assert.equal(item.rows[0].text, "keep me");
  } finally {
    again.close();
  }
});

Deno.test("a database from a newer jdo is refused with DB_TOO_NEW and left unchanged", async () => {
  await using db = await tempDb();
  const client = await openDatabaseFile(db.path);
  try {
    await migrateLocal(client, now);
    const future = LATEST_SCHEMA_VERSION + 1;
    await client.execute({
      sql: "INSERT INTO _migrations (version, name, applied_at) VALUES (?, 'from the future', 'x')",
      args: [future],
    });
    let error: unknown;
    try {
      await migrateLocal(client, now);
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof JdoError, `expected a JdoError, got ${error}`);
    assert.equal(error.code, "DB_TOO_NEW");
    assert.match(error.message, new RegExp(`version ${future}`));
    assert.ok(error.hint && /upgrade jdo/i.test(error.hint));
    assert.equal(await schemaVersion(client), future);
    const status = await schemaStatus(client);
    assert.equal(status.current, future);
    assert.deepEqual(status.pending, []);
  } finally {
    client.close();
  }
});

const WORKER_SOURCE = `
  import { migrateLocal, openDatabaseFile } from ${
  JSON.stringify(new URL("./database.ts", import.meta.url).href)
};
  self.onmessage = async (event) => {
    try {
      const client = await openDatabaseFile(event.data);
      try {
        const applied = await migrateLocal(client, () => new Date());
        self.postMessage({ ok: true, applied });
      } finally {
        client.close();
      }
    } catch (error) {
      self.postMessage({ ok: false, error: String(error?.message ?? error) });
    }
    self.close();
  };`;
let workerUrl: string | undefined;

/** Runs migrateLocal in a separate thread, with its own connection, like another process. */
function migrateInWorker(
  path: string,
): Promise<{ ok: boolean; applied?: number[]; error?: string }> {
  workerUrl ??= URL.createObjectURL(
    new Blob([WORKER_SOURCE], { type: "application/javascript" }),
  );
  const worker = new Worker(workerUrl, { type: "module" });
  return new Promise((resolve, reject) => {
    worker.onmessage = (event) => {
      worker.terminate();
      resolve(event.data);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      worker.terminate();
      reject(new Error(event.message));
    };
    worker.postMessage(path);
  });
}

Deno.test("concurrent migrations of one new file all succeed and apply each version once", async () => {
  for (let round = 0; round < 3; round++) {
    await using db = await tempDb();
    const results = await Promise.all([
      migrateInWorker(db.path),
      migrateInWorker(db.path),
      migrateInWorker(db.path),
    ]);
    for (const r of results) assert.ok(r.ok, `a migration failed: ${r.error}`);
    // Every version was applied by exactly one of them.
    const appliedAll = results.flatMap((r) => r.applied ?? []).sort();
    assert.deepEqual(appliedAll, MIGRATIONS.map((m) => m.version));
    const client = await openDatabaseFile(db.path);
    try {
      assert.equal(await schemaVersion(client), LATEST_SCHEMA_VERSION);
      const rs = await client.execute("SELECT count(*) AS n FROM _migrations");
      assert.equal(Number(rs.rows[0].n), MIGRATIONS.length);
    } finally {
      client.close();
    }
  }
});
