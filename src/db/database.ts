import type { Client, InArgs, InStatement, ResultSet, Transaction } from "@libsql/client";
import { dirname } from "../config/file_path.ts";
import { ensurePrivateDir } from "../config/paths.ts";
import { JdoError } from "../errors.ts";
import { LATEST_SCHEMA_VERSION, MIGRATIONS, MIGRATIONS_TABLE } from "./migrations.ts";
import { ENTITIES, type Row } from "./schema.ts";
import { irregularIndexes } from "./row_shapes.ts";
import { plainRowOf } from "./plain_row.ts";
import { closesItsWal, openNodeSqlite } from "./node_sqlite.ts";
import type * as LibsqlPackages from "./libsql_packages.ts";
import { lazyModuleUrl } from "../lazy_module.ts";

/** A variable specifier (src/lazy_module.ts and src/db/libsql_packages.ts say why). */
export const LIBSQL_PACKAGES = lazyModuleUrl("db/libsql_packages.ts");

/** Anything that can run SQL: a client or an open transaction. */
export interface Executor {
  execute(stmt: InStatement): Promise<ResultSet>;
  /**
   * A SELECT's rows as plain objects straight from the engine, where it can
   * (node:sqlite: without first building @libsql/client's row shape, which
   * queryRows would only copy again).
   */
  plainRows?(sql: string, args: InArgs): Row[];
}

/**
 * Runs `fn` inside BEGIN IMMEDIATE … COMMIT (`client.transaction("write")`);
 * `fn` must run its statements on the transaction it is given. Since
 * @libsql/client 0.18 every `client.execute()` borrows a pooled connection
 * and rolls back whatever transaction it left open when it gives it back, so
 * a `BEGIN` sent with `execute()` ends with that very call. Callers must not
 * overlap transactions on one client; Store serialises its writes.
 */
export async function inTransaction<T>(
  client: Client,
  fn: (tx: Transaction) => Promise<T>,
): Promise<T> {
  const tx = await client.transaction("write");
  try {
    const result = await fn(tx);
    await tx.commit();
    return result;
  } catch (error) {
    await tx.rollback().catch(() => {});
    throw error;
  } finally {
    tx.close();
  }
}

export const BUSY_TIMEOUT_MS = 15_000;

/**
 * Which SQLite library a process opens the working database with: libSQL
 * (@libsql/client, and the `libsql` package for long reads) wherever the
 * process may sync, node:sqlite for the local-only commands of the fast path
 * (src/cli/fast_commands.ts). Never both in one process (docs/DESIGN.md).
 */
export type SqliteEngine = "libsql" | "node";

export async function queryRows(
  ex: Executor,
  sql: string,
  args: InArgs = [],
): Promise<Row[]> {
  if (ex.plainRows) return ex.plainRows(sql, args);
  const rs = await ex.execute({ sql, args });
  // Plain objects: libSQL rows carry array indexes as extra keys. Read by
  // index: by name, a column called "length" would read the row's length.
  return rs.rows.map((r) => plainRowOf(rs.columns, r));
}

export async function queryOne(
  ex: Executor,
  sql: string,
  args: InArgs = [],
): Promise<Row | undefined> {
  return (await queryRows(ex, sql, args))[0];
}

export function sqliteMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^SQLITE_[A-Z_]+: /, "").split("\n", 1)[0];
}

/**
 * Puts the file in WAL mode. Switching a new file needs it to itself, and
 * SQLite answers "database is locked" at once instead of waiting out the
 * busy timeout while another process is creating it (seen with eight jdo
 * processes started at once on a new home): try again until the timeout.
 */
async function ensureWal(client: Client): Promise<void> {
  const deadline = performance.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      const mode = await client.execute("PRAGMA journal_mode");
      if (String(mode.rows[0]?.[0]).toLowerCase() === "wal") return;
      const set = await client.execute("PRAGMA journal_mode=WAL");
      if (String(set.rows[0]?.[0]).toLowerCase() === "wal") return;
      if (performance.now() > deadline) throw new Error("database is locked");
    } catch (error) {
      if (!/locked|busy/i.test(String(error)) || performance.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Opens (creating when absent) a libSQL file with WAL and a busy timeout.
 *
 * One connection (`concurrency: 1`): @libsql/client 0.18 pools up to 20
 * connections per `file:` client, and a PRAGMA or ATTACH sent with
 * `execute()` applies to whichever connection served that call. jdo sets
 * `foreign_keys` and ATTACHes around its write transactions (Store.write),
 * so they must all land on the one connection the transaction then uses.
 * The busy timeout is the client's `timeout` option, which the client
 * applies to every connection it opens.
 */
export async function openDatabaseFile(
  path: string,
  engine: SqliteEngine = "libsql",
  /** One attempt at opening (tests stand in for it). */
  openOnce: (path: string, engine: SqliteEngine) => Promise<Client> = openWithWal,
): Promise<Client> {
  let client: Client;
  try {
    client = await openOnce(path, engine);
  } catch {
    // The first run: the data directory is made when the open finds it
    // missing (a stat before every open cost every command ~0.2 ms). A
    // missing directory is created private; an existing one is never chmod-ed
    // (JDO_DATABASE_PATH may point into a shared directory such as /tmp).
    // Found there, the open is tried once more all the same: on a new home
    // another jdo process may have made it since this open failed (SQLite
    // says "unable to open" for a missing directory and for a forbidden one).
    const dir = dirname(path);
    if (!isDirectory(dir)) await ensurePrivateDir(dir);
    try {
      client = await openOnce(path, engine);
    } catch (again) {
      throw dbOpenError(path, again);
    }
  }
  if (Deno.build.os !== "windows") {
    try {
      Deno.chmodSync(path, 0o600);
    } catch {
      // not ours to change (a shared path): as it is
    }
  }
  return client;
}

/** A connection to `path` in WAL mode with foreign keys on; throws SQLite's own errors. */
async function openWithWal(path: string, engine: SqliteEngine): Promise<Client> {
  let client: Client | undefined;
  try {
    if (engine === "node") {
      client = await openNodeSqlite(path, BUSY_TIMEOUT_MS);
    } else {
      // Loaded on first use: commands that need no database never load libSQL.
      const { createClient }: typeof LibsqlPackages = await import(LIBSQL_PACKAGES);
      client = createClient({ url: `file:${path}`, timeout: BUSY_TIMEOUT_MS, concurrency: 1 });
    }
    await ensureWal(client);
    await client.execute("PRAGMA foreign_keys=ON");
    return client;
  } catch (error) {
    client?.close();
    throw error;
  }
}

function dbOpenError(path: string, error: unknown): JdoError {
  return new JdoError("DB_ERROR", `Cannot open the database ${path}: ${sqliteMessage(error)}`, {
    cause: error,
  });
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

export interface SchemaStatus {
  current: number;
  latest: number;
  pending: { version: number; name: string }[];
}

export async function schemaVersion(ex: Executor): Promise<number> {
  try {
    const row = await queryOne(
      ex,
      "SELECT coalesce(max(version), 0) AS v FROM _migrations",
    );
    return Number(row?.v ?? 0);
  } catch (error) {
    if (/no such table/.test(sqliteMessage(error))) return 0;
    throw error;
  }
}

export async function schemaStatus(ex: Executor): Promise<SchemaStatus> {
  const current = await schemaVersion(ex);
  return {
    current,
    latest: LATEST_SCHEMA_VERSION,
    pending: MIGRATIONS.filter((m) => m.version > current).map((m) => ({
      version: m.version,
      name: m.name,
    })),
  };
}

export function tooNewError(what: string, version: number): JdoError {
  return new JdoError(
    "DB_TOO_NEW",
    `The ${what} uses schema version ${version}, newer than this jdo supports (${LATEST_SCHEMA_VERSION})`,
  );
}

/**
 * Applies pending migrations to the working database, each in its own write
 * transaction that re-checks the version, so two processes never apply one twice.
 * Returns the versions applied.
 */
export async function migrateLocal(
  client: Client,
  now: () => Date,
): Promise<number[]> {
  const current = await schemaVersion(client);
  if (current > LATEST_SCHEMA_VERSION) throw tooNewError("database", current);
  if (current === LATEST_SCHEMA_VERSION) return [];
  await client.execute(MIGRATIONS_TABLE);
  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    try {
      const done = await inTransaction(client, async (tx) => {
        // Another process may have applied it while this one waited for the lock.
        if (await schemaVersion(tx) >= migration.version) return false;
        for (const sql of migration.statements("local")) await tx.execute(sql);
        await tx.execute({
          sql: "INSERT INTO _migrations (version, name, applied_at) VALUES (?, ?, ?)",
          args: [migration.version, migration.name, now().toISOString()],
        });
        return true;
      });
      if (done) applied.push(migration.version);
    } catch (error) {
      throw new JdoError(
        "DB_ERROR",
        `Cannot apply database migration ${migration.version} (${migration.name}): ${
          sqliteMessage(error)
        }`,
        { cause: error },
      );
    }
  }
  return applied;
}

/**
 * The working database at `path`, opened, migrated and in its local shape
 * (the keyed outbox, the local indexes); closed again when any of that fails.
 *
 * Once all of it was found in place, the file's header says so
 * (LOCAL_SHAPE_STAMP in `PRAGMA user_version`), and later opens read that
 * one number instead of checking the schema version, the outbox and the
 * indexes (three statements, ~0.5 ms of every command). A binary with
 * another schema or other local indexes has another stamp and checks again;
 * `db restore` brings a file with its own header; a bulk import drops and
 * rebuilds the indexes in one transaction.
 */
export async function openWorkingDatabase(
  path: string,
  now: () => Date,
  engine: SqliteEngine = "libsql",
): Promise<Client> {
  const client = await openDatabaseFile(path, engine);
  try {
    const stamp = await queryOne(client, "PRAGMA user_version");
    if (Number(stamp?.user_version) === LOCAL_SHAPE_STAMP) return client;
    await migrateLocal(client, now);
    const keyed = await ensureKeyedOutbox(client);
    const indexed = await ensureLocalIndexes(client);
    // Only a shape found whole is stamped (read-only or busy: checked again next time).
    if (keyed && indexed) {
      await withBusyTimeout(client, 50, async () => {
        await client.execute(`PRAGMA user_version = ${LOCAL_SHAPE_STAMP}`);
        return true;
      });
    }
  } catch (error) {
    client.close();
    throw error;
  }
  return client;
}

/** Above this many bytes of WAL, closing the database folds it back into the file. */
export const WAL_CHECKPOINT_BYTES = 0;

/**
 * Whether closing `client` may leave a WAL behind. A node:sqlite connection
 * that changed no row added nothing to it, and its close() folds the WAL back
 * when it is the last connection (closesItsWal): no stat of the WAL (the
 * first stat of a process costs ~0.2 ms, and most commands only read).
 */
async function mayLeaveWal(client: Client): Promise<boolean> {
  if (!closesItsWal(client)) return true;
  const row = await queryOne(client, "SELECT total_changes() AS n").catch(() => undefined);
  return Number(row?.n ?? 1) > 0;
}

function walSize(path: string): number {
  try {
    return Deno.statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
}

/**
 * Copies the WAL back into the database file and truncates it to zero bytes,
 * so the next process does not have to re-read (recover) it. Never waits long
 * for another process: when one is reading or writing, it returns false and
 * a later process's close does the work.
 */
export function checkpointWal(client: Client): Promise<boolean> {
  return withBusyTimeout(client, 50, async () => {
    const rs = await client.execute("PRAGMA wal_checkpoint(TRUNCATE)");
    return Number(rs.rows[0]?.[0] ?? 1) === 0;
  });
}

/**
 * Runs `fn` with a busy timeout of `waitMs` instead of BUSY_TIMEOUT_MS (the
 * usual one comes back after); a failure of `fn` answers false.
 */
async function withBusyTimeout(
  client: Client,
  waitMs: number,
  fn: () => Promise<boolean>,
): Promise<boolean> {
  try {
    await client.execute(`PRAGMA busy_timeout = ${waitMs}`);
    return await fn();
  } catch {
    return false;
  } finally {
    await client.execute(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`).catch(() => {});
  }
}

/**
 * Closes a database cleanly: empties a non-empty WAL first. (libSQL's close()
 * frees the native connection only when the garbage collector frees its
 * statements, which never happens before Deno.exit, so SQLite's own
 * checkpoint-on-last-close never runs.)
 */
export async function closeDatabase(client: Client, path: string): Promise<void> {
  try {
    if (
      !client.closed && await mayLeaveWal(client) && walSize(path) > WAL_CHECKPOINT_BYTES
    ) {
      await checkpointWal(client);
    }
  } finally {
    client.close();
  }
}

/**
 * Runs `fn`, a bulk load into empty tables, with a rollback journal instead
 * of the WAL: new pages then go to the database file once, where the WAL
 * would take them and the checkpoint copy them again (1.5 s of a 300k-row
 * first download, 20 s of a 1M-row import). Other processes cannot read
 * meanwhile (they wait, up to the busy timeout), which is why only loads
 * into an empty database use it. Changing the journal needs no other
 * connection in the middle of a read; when one is, `fn` runs in WAL mode as
 * usual. The WAL comes back afterwards (or, after a crash, when the next
 * process opens the database: openDatabaseFile).
 */
export async function withRollbackJournal<T>(client: Client, fn: () => Promise<T>): Promise<T> {
  const switched = await setJournalMode(client, "delete", 50);
  try {
    return await fn();
  } finally {
    if (switched) await setJournalMode(client, "wal", BUSY_TIMEOUT_MS);
  }
}

/** Whether none of these tables holds a row (deleted rows count: they are rows). */
export async function tablesEmpty(ex: Executor, tables: string[]): Promise<boolean> {
  for (const table of tables) {
    if (await queryOne(ex, `SELECT 1 AS any FROM ${table} LIMIT 1`)) return false;
  }
  return true;
}

function setJournalMode(client: Client, mode: string, waitMs: number): Promise<boolean> {
  return withBusyTimeout(client, waitMs, async () => {
    const rs = await client.execute(`PRAGMA journal_mode = ${mode}`);
    return String(rs.rows[0]?.[0]).toLowerCase() === mode;
  });
}

/**
 * After a bulk load (a large import or merge): refreshes the query planner's
 * statistics (sqlite_stat1) so lookups keep using the indexes. Sampled
 * (analysis_limit), so it costs tens of milliseconds even at a million rows.
 */
export async function optimizeAfterBulk(client: Client): Promise<void> {
  await client.execute("PRAGMA analysis_limit = 1000");
  await client.execute("ANALYZE");
  await client.execute("PRAGMA optimize");
}

let localIndexList: { name: string; sql: string }[] | undefined;

/**
 * Indexes that only make local queries fast (the dashboard's counts and the
 * integrity report read them instead of every row). They change no data and
 * no schema version, so they are created on open when missing rather than by
 * a migration; a database without them works the same, only slower. Built
 * once, when first asked for: an open whose stamp matches never asks.
 */
export function localIndexes(): { name: string; sql: string }[] {
  return localIndexList ??= [
    {
      name: "commitments_by_status",
      sql: `CREATE INDEX IF NOT EXISTS commitments_by_status ON commitments(
      status, due_date, due_time, marked_at_risk_at, completed_on_time, completed_at
    ) WHERE deleted_at IS NULL`,
    },
    {
      // Few rows: only commitments ever marked at risk (the integrity report's at-risk rate).
      name: "commitments_marked_at_risk",
      sql: `CREATE INDEX IF NOT EXISTS commitments_marked_at_risk ON commitments(
      status, marked_at_risk_at
    ) WHERE deleted_at IS NULL AND marked_at_risk_at IS NOT NULL`,
    },
    {
      // `jdo list`'s table: every column it reads (LIST_TABLE_FIELDS in
      // records.ts, the id, created_at, the stakeholder) in the order it
      // prints, so its rows come from this index alone, already sorted
      // (1,000 rows: ~2.9 → ~1.8 ms; commitments_due orders by day and time
      // only, and the rest was a sort).
      name: "commitments_listed",
      sql: `CREATE INDEX IF NOT EXISTS commitments_listed ON commitments(
      due_date, due_time, created_at, id, status, deliverable, timezone, stakeholder_id, deleted_at
    ) WHERE deleted_at IS NULL`,
    },
    // Rows `list` cannot take its shortcuts for (none, in practice): row_shapes.ts.
    ...irregularIndexes(),
    // Each kind's live ids: the short-id index (ShortIdIndex in ids.ts) reads
    // these instead of every row (a commitment row with its field versions
    // is ~0.5 KB, its id ~40 bytes).
    ...ENTITIES.map(({ table }) => ({
      name: `${table}_live_ids`,
      sql: `CREATE INDEX IF NOT EXISTS ${table}_live_ids ON ${table}(id) WHERE deleted_at IS NULL`,
    })),
  ];
}

/**
 * What `PRAGMA user_version` holds once a working database was found in this
 * binary's shape (openWorkingDatabase): localShapeStamp(), written out. Any
 * change to the schema version, the local indexes or the outbox's form makes
 * it stale, and database_test.ts fails, naming the new value. (Hashing ~3 KB
 * of index SQL at every start cost ~1.4 ms: V8 interprets a loop it has run
 * only once.)
 */
export const LOCAL_SHAPE_STAMP = 971231357;

/** A 31-bit FNV-1a hash of the schema version, the local indexes and the outbox's form. */
export function localShapeStamp(): number {
  return shapeHash(
    [
      `schema ${LATEST_SCHEMA_VERSION}`,
      ...localIndexes().map((index) => index.sql),
      "outbox WITHOUT ROWID",
    ].join("\n"),
  );
}

function shapeHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return (hash & 0x7fffffff) || 1;
}

/** Whether every local index is in place afterwards (one that cannot be made is left out). */
export async function ensureLocalIndexes(client: Executor): Promise<boolean> {
  const rs = await client.execute({
    sql: `SELECT name FROM sqlite_schema WHERE type = 'index' AND name IN (${
      localIndexes().map(() => "?").join(", ")
    })`,
    args: localIndexes().map((i) => i.name),
  });
  const present = new Set(rs.rows.map((r) => String(r.name)));
  let whole = true;
  for (const index of localIndexes()) {
    if (present.has(index.name)) continue;
    try {
      await client.execute(index.sql);
    } catch {
      // Read-only or busy: the queries still work, only without the index.
      whole = false;
    }
  }
  return whole;
}

/**
 * The sync outbox as a WITHOUT ROWID table (true when it is, afterwards):
 * one B-tree in (entity, id) order. A push reads and drops entries in id
 * order; in a rowid table the entries lie in the order they were queued, so
 * dropping a chunk of 1,000
 * rewrote nearly 1,000 pages (2.5 s of a 100k-row first upload, against 0.4 s
 * keyed). Like the local indexes this is local only and changes no schema
 * version: a database still holding the rowid table (migrations 1–2 create
 * it) is rebuilt once on open, in one write transaction that re-checks the
 * shape, keeping every column. Read-only or busy: it stays as it is, which
 * works the same, only slower.
 */
export async function ensureKeyedOutbox(client: Client): Promise<boolean> {
  const shape = "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = '_sync_outbox'";
  const keyed = (sql: unknown) => /WITHOUT\s+ROWID\s*$/i.test(String(sql ?? ""));
  const before = await queryOne(client, shape);
  if (!before || keyed(before.sql)) return true;
  try {
    await inTransaction(client, async (tx) => {
      const now = await queryOne(tx, shape);
      if (!now || keyed(now.sql)) return;
      const create = String(now.sql).replace(
        /^CREATE TABLE\s+(IF NOT EXISTS\s+)?"?_sync_outbox"?/i,
        "CREATE TABLE _sync_outbox_keyed",
      );
      await tx.execute(`${create} WITHOUT ROWID`);
      await tx.execute("INSERT INTO _sync_outbox_keyed SELECT * FROM _sync_outbox");
      await tx.execute("DROP TABLE _sync_outbox");
      await tx.execute("ALTER TABLE _sync_outbox_keyed RENAME TO _sync_outbox");
    });
    return true;
  } catch {
    // Read-only or busy: the rowid outbox keeps working.
    return false;
  }
}

/** Drops the local-only indexes (before a bulk load; ensureLocalIndexes rebuilds them). */
export async function dropLocalIndexes(ex: Executor): Promise<void> {
  for (const index of localIndexes()) await ex.execute(`DROP INDEX IF EXISTS ${index.name}`);
}
