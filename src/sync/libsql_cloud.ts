import { type Client, createClient, type InStatement, type ResultSet } from "@libsql/client";
import { join } from "node:path";
import { ensurePrivateDir, privateFilesIn } from "../config/paths.ts";
import { BUSY_TIMEOUT_MS, LIBSQL_PACKAGES, queryOne, queryRows } from "../db/database.ts";
import type * as LibsqlPackages from "../db/libsql_packages.ts";
import {
  LATEST_SCHEMA_VERSION,
  MIGRATIONS,
  MIGRATIONS_TABLE,
  SYNCED_TABLES,
} from "../db/migrations.ts";
import { ENTITIES, groupsOfTable, q, type Row } from "../db/schema.ts";
import { bulkRowsJson } from "../db/bulk.ts";
import { fieldMergeSql, someGroupNewer } from "../db/field_versions.ts";
import { JdoError } from "../errors.ts";
import type {
  CloudInfo,
  Cursor,
  EncodedChunk,
  PushResult,
  PushRow,
  QuickChanges,
  QuickPrefetch,
  RowVersion,
  SealedChunk,
  SealedPageRow,
  SealedRowStore,
} from "./cloud_store.ts";
import {
  E2E_META_KEY,
  E2E_SCHEMA,
  SEALED_HELD_SQL,
  SEALED_TABLE,
  sealedUpsertSql,
} from "./e2e_schema.ts";
import { QUICK_PULL_LIMIT } from "./cloud_store.ts";
import {
  DEVICE_FIELDS,
  type DeviceEntry,
  type DeviceReading,
  type DeviceRecord,
  deviceRecord,
} from "./devices.ts";
import { hostOf } from "./config.ts";
import { classifyCloudError, connectionCut } from "./cloud_errors.ts";
import { ReplicaSyncer, ReplicaTimeout } from "./replica.ts";

export interface LibsqlCloudOptions {
  url: string;
  token: string | null;
  /** Directory of the embedded replica (cloud/); no replica when undefined. */
  replicaDir?: string;
  /** Timeout of one HTTP request that writes or reads many rows. */
  requestTimeoutMs?: number;
  /**
   * Added to every reading of the cloud's clock. 0 but in tests, where the
   * whole test world (jdo's clock and the cloud's as jdo reads it) runs at a
   * fixed instant instead of the machine's time (JDO_TEST_WORLD_OFFSET_MS).
   */
  clockOffsetMs?: number;
  /** Timeout of the first check, which tells a dead network quickly. */
  probeTimeoutMs?: number;
  /** Timeout of one replica sync (run in a worker that is stopped at the limit). */
  replicaTimeoutMs?: number;
  /** Rows per table a pull reads over HTTP before it uses the replica; 0: always the replica. */
  quickPullLimit?: number;
}

/** The libSQL HTTP API wants http(s); libsql:// means https. */
function httpUrl(url: string): string {
  return url.replace(/^libsql:\/\//, "https://").replace(/^wss:\/\//, "https://").replace(
    /^ws:\/\//,
    "http://",
  );
}

const REPLICA_RETRIES = 4;

/** What replica work meets after abort() (Ctrl-C). */
function abortedError(): JdoError {
  return new JdoError("CANCELLED", "Interrupted");
}

function quickKey(tables: string[], after: number, sealed: boolean): string {
  return `${sealed ? "sealed:" : ""}${after}:${tables.join(",")}`;
}

/** The columns a sealed row is read with. */
const SEALED_COLUMNS = "id, version, _fv, data, _seq, _by";

/** The server's wall clock, Unix milliseconds. */
const SERVER_TIME_SQL =
  "SELECT CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER) AS ms";

/** A statement on the replica file that reads pages of sealed rows as tuples. */
interface TupleReader {
  /** At most `limit` sealed rows of `table` after `after`, up to sequence `upTo`. */
  page(table: string, after: Cursor, upTo: number, limit: number): SealedPageRow[];
  close(): void;
}

/**
 * The cloud through @libsql/client: a remote HTTP client (with timeouts) for
 * checks and pushes, and an embedded replica in cloud/ that pulls the cloud's
 * changes as WAL frames and serves reads of them locally.
 */
export class LibsqlCloud implements SealedRowStore {
  readonly host: string;
  /**
   * One HTTP client for every request (each client negotiates the protocol
   * and opens its own connection: two would cost a round trip more per
   * sync); its timeout is the probe's for quick checks, the request's else.
   */
  #http: Client;
  #timeoutMs: number;
  #syncer?: ReplicaSyncer;
  #reader?: Client;
  /** sealedTuples()'s statement on the replica file. */
  #tupleReader?: TupleReader;
  #options: LibsqlCloudOptions;
  /** Set by abort(): no replica work starts again, so nothing recreates cloud/. */
  #aborted = false;
  /** The snapshot() under way, settled or not: abort() waits for it. */
  #replicaWork?: Promise<unknown>;
  /** Ends the backoff of a retrying snapshot() early. */
  #wake?: () => void;
  /** The directory as read by this sync's quick pull, until readDevices() takes it. */
  #devices?: DeviceReading;
  /** quickChanges() read ahead by info(), for that (tables, after) only, used once. */
  #prefetched?: { key: string; answer: QuickChanges | null };

  constructor(options: LibsqlCloudOptions) {
    this.#options = options;
    this.host = hostOf(options.url);
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#http = createClient({
      url: httpUrl(options.url),
      authToken: options.token ?? undefined,
      fetch: (input: Request | URL | string, init?: RequestInit) =>
        fetch(input, { ...init, signal: AbortSignal.timeout(this.#timeoutMs) }),
    });
  }

  /** The client, with the short timeout of a first check (tells a dead network quickly). */
  get #probe(): Client {
    this.#timeoutMs = this.#options.probeTimeoutMs ?? 5_000;
    return this.#http;
  }

  /** The client, with the timeout of a request that writes or reads many rows. */
  get #remote(): Client {
    this.#timeoutMs = this.#options.requestTimeoutMs ?? 30_000;
    return this.#http;
  }

  #serverTime(ms: unknown): number {
    return Number(ms ?? 0) + (this.#options.clockOffsetMs ?? 0);
  }

  async #call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw classifyCloudError(error, this.host, what);
    }
  }

  /**
   * Schema version and cloud id in one request (a read batch). With
   * `prefetch`, the same request also reads what quickChanges() would (the
   * sync's pull then costs no round trip of its own). A cloud without jdo's
   * tables (or an older schema lacking some) fails that batch; then the
   * tables are looked up one by one, which only a new, half-created or
   * outdated cloud ever needs.
   */
  async info(prefetch?: QuickPrefetch): Promise<CloudInfo> {
    return await this.#call("read the cloud database", async () => {
      try {
        const started = performance.now();
        const statements = [
          "SELECT coalesce(max(version), 0) AS v FROM _migrations",
          "SELECT value FROM _jdo_meta WHERE key = 'cloud_id'",
          `SELECT value FROM _jdo_meta WHERE key = '${E2E_META_KEY}'`,
          ...(prefetch
            ? this.#quickStatements(prefetch.tables, prefetch.after, prefetch.sealed === true)
            : []),
        ];
        // The first request of a sync: a connection kept alive since an
        // earlier one (the REPL's loop, a long process) may have died while
        // idle (sleep, a new network). A read, so it is asked again once.
        const results = await this.#probe.batch(statements, "read").catch((error) => {
          if (!connectionCut(error)) throw error;
          return this.#probe.batch(statements, "read");
        });
        const info = {
          schemaVersion: Number(results[0].rows[0]?.v ?? 0),
          cloudId: results[1].rows[0]?.value ? String(results[1].rows[0].value) : null,
          encryption: results[2].rows[0]?.value ? String(results[2].rows[0].value) : null,
        };
        if (prefetch && info.schemaVersion === LATEST_SCHEMA_VERSION) {
          this.#prefetched = {
            key: quickKey(prefetch.tables, prefetch.after, prefetch.sealed === true),
            answer: this.#quickAnswer(prefetch.tables, results.slice(3), started),
          };
        }
        return info;
      } catch (error) {
        if (!/no such table/i.test(String(error))) throw error;
      }
      const tables = await queryRows(
        this.#probe,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('_migrations', '_jdo_meta')",
      );
      const names = new Set(tables.map((t) => String(t.name)));
      if (!names.has("_migrations")) return { schemaVersion: 0, cloudId: null };
      const version = await queryOne(
        this.#probe,
        "SELECT coalesce(max(version), 0) AS v FROM _migrations",
      );
      const id = names.has("_jdo_meta")
        ? await queryOne(this.#probe, "SELECT value FROM _jdo_meta WHERE key = 'cloud_id'")
        : undefined;
      const e2e = names.has("_jdo_meta")
        ? await queryOne(this.#probe, "SELECT value FROM _jdo_meta WHERE key = ?", [E2E_META_KEY])
        : undefined;
      return {
        schemaVersion: Number(version?.v ?? 0),
        cloudId: id?.value ? String(id.value) : null,
        encryption: e2e?.value ? String(e2e.value) : null,
      };
    });
  }

  /** The change sequence, the server's clock, the directory, and each table's changes. */
  #quickStatements(tables: string[], after: number, sealed: boolean): InStatement[] {
    return [
      "SELECT CAST(value AS INTEGER) AS seq FROM _jdo_meta WHERE key = 'seq'",
      SERVER_TIME_SQL,
      `SELECT ${DEVICE_FIELDS} FROM _jdo_devices ORDER BY first_sync_at, id`,
      ...tables.map((table) =>
        sealed
          ? {
            sql: `SELECT ${SEALED_COLUMNS} FROM ${SEALED_TABLE}
                  WHERE tbl = ? AND _seq > ? ORDER BY _seq, id LIMIT ?`,
            args: [table, after, this.#quickLimit() + 1],
          }
          : {
            sql: `SELECT * FROM ${table} WHERE _seq > ? ORDER BY _seq, id LIMIT ?`,
            args: [after, this.#quickLimit() + 1],
          }
      ),
    ];
  }

  #quickLimit(): number {
    return this.#options.quickPullLimit ?? QUICK_PULL_LIMIT;
  }

  /** Reads the answers of #quickStatements; keeps the directory for readDevices(). */
  #quickAnswer(tables: string[], results: ResultSet[], started: number): QuickChanges | null {
    this.#devices = {
      serverTimeMs: this.#serverTime(results[1].rows[0]?.ms),
      devices: results[2].rows.map((r) => deviceRecord(r as unknown as Row)),
      midpoint: (started + performance.now()) / 2,
    };
    const limit = this.#quickLimit();
    const rows = new Map<string, Row[]>();
    for (let i = 0; i < tables.length; i++) {
      const result = results[3 + i];
      if (result.rows.length > limit) return null;
      rows.set(tables[i], result.rows.map((r) => ({ ...r }) as unknown as Row));
    }
    return { seq: Number(results[0].rows[0]?.seq ?? 0), rows };
  }

  /**
   * A small pull straight from the primary, in one request: the change
   * sequence and, per table, the rows changed after `after` (one read
   * transaction, so they are consistent). Null when some table has more than
   * the limit: the embedded replica then pulls them as frames. The same
   * request reads the server's clock and the device directory, which the
   * sync's device record then reuses (readDevices). Answered without a
   * request when info() prefetched it.
   */
  async quickChanges(
    tables: string[],
    after: number,
    sealed = false,
  ): Promise<QuickChanges | null> {
    if (this.#quickLimit() <= 0) return null;
    const prefetched = this.#prefetched;
    this.#prefetched = undefined;
    if (prefetched && prefetched.key === quickKey(tables, after, sealed)) return prefetched.answer;
    const started = performance.now();
    const results = await this.#call(
      "pull from the cloud database",
      () => this.#remote.batch(this.#quickStatements(tables, after, sealed), "read"),
    );
    return this.#quickAnswer(tables, results, started);
  }

  /** quickChanges() of the sealed rows (an encrypted cloud). */
  sealedQuickChanges(tables: string[], after: number): Promise<QuickChanges | null> {
    return this.quickChanges(tables, after, true);
  }

  /** changes() of the sealed rows, read from the replica. */
  async sealedChanges(table: string, after: Cursor, upTo: number, limit: number): Promise<Row[]> {
    if (!this.#reader) throw new Error("sealedChanges() before snapshot()");
    return await queryRows(
      this.#reader,
      `SELECT ${SEALED_COLUMNS} FROM ${SEALED_TABLE}
       WHERE tbl = ? AND (_seq > ? OR (_seq = ? AND id > ?)) AND _seq <= ?
       ORDER BY tbl, _seq, id LIMIT ?`,
      [table, after.seq, after.seq, after.id, upTo, limit],
    );
  }

  /**
   * sealedChanges() as tuples [id, version, _fv, data, _seq, _by], read
   * from the replica with the `libsql` package's statements (no row objects:
   * ~3.5 µs a row against ~13 through @libsql/client).
   */
  async sealedTuples(
    table: string,
    after: Cursor,
    upTo: number,
    limit: number,
  ): Promise<SealedPageRow[]> {
    if (!this.#reader) throw new Error("sealedTuples() before snapshot()");
    const reader = await this.#openTupleReader();
    return reader!.page(table, after, upTo, limit);
  }

  /**
   * sealedTuples() of what the replica holds so far, while a snapshot() is
   * under way: its sync commits the cloud's changes in their order, one push
   * (one sequence number) at a time, so what a read sees is every row up to
   * some sequence and none after. [] before the sync's first rows arrive.
   */
  async sealedTuplesSoFar(table: string, after: Cursor, limit: number): Promise<SealedPageRow[]> {
    const reader = await this.#openTupleReader();
    try {
      return reader?.page(table, after, Number.MAX_SAFE_INTEGER, limit) ?? [];
    } catch (error) {
      if (this.#reader) throw error;
      // A file the sync is still setting up (its WAL, a reset): read it again next time.
      this.#tupleReader?.close();
      this.#tupleReader = undefined;
      return [];
    }
  }

  /** How many sealed rows of `table` the replica holds up to `upTo` (after a snapshot()). */
  async sealedCount(table: string, upTo: number): Promise<number> {
    if (!this.#reader) throw new Error("sealedCount() before snapshot()");
    const row = await queryOne(
      this.#reader,
      `SELECT count(*) AS n FROM ${SEALED_TABLE} WHERE tbl = ? AND _seq <= ?`,
      [table, upTo],
    );
    return Number(row?.n ?? 0);
  }

  async replicaMeta(key: string): Promise<string | null | undefined> {
    if (!this.#reader) return undefined;
    try {
      const row = await queryOne(this.#reader, "SELECT value FROM _jdo_meta WHERE key = ?", [key]);
      return row?.value === undefined || row.value === null ? null : String(row.value);
    } catch (error) {
      if (/no such table/i.test(String(error))) return null; // a cloud jdo never set up
      throw error;
    }
  }

  /** The tuple reader on the replica file; undefined while the file or its tables do not exist. */
  async #openTupleReader(): Promise<TupleReader | undefined> {
    if (this.#tupleReader) return this.#tupleReader;
    const { Database }: typeof LibsqlPackages = await import(LIBSQL_PACKAGES);
    let db: InstanceType<typeof LibsqlPackages.Database> | undefined;
    try {
      // A read-only URI (the package ignores `readonly`): it never creates
      // the file, which the replica's sync must create itself.
      db = new Database(`file:${this.#replicaPath()}?mode=ro`, { timeout: BUSY_TIMEOUT_MS });
      const statement = db.prepare(
        `SELECT ${SEALED_COLUMNS} FROM ${SEALED_TABLE}
         WHERE tbl = ? AND (_seq > ? OR (_seq = ? AND id > ?)) AND _seq <= ?
         ORDER BY tbl, _seq, id LIMIT ?`,
      ).raw(true);
      const opened = db;
      this.#tupleReader = {
        page: (table, after, upTo, limit) =>
          statement.all(table, after.seq, after.seq, after.id, upTo, limit) as SealedPageRow[],
        close: () => opened.close(),
      };
      return this.#tupleReader;
    } catch (error) {
      db?.close();
      if (this.#reader) throw error;
      return undefined; // the sync has not written the file or the table yet
    }
  }

  /** versions() of the sealed rows. */
  async sealedVersions(table: string, afterId: string, limit: number): Promise<RowVersion[]> {
    const client = this.#reader ?? this.#remote;
    const rows = await this.#call("read the cloud database", () =>
      queryRows(
        client,
        `SELECT id, version, _fv FROM ${SEALED_TABLE} WHERE tbl = ? AND id > ? ORDER BY id LIMIT ?`,
        [table, afterId, limit],
      ));
    return rows.map((r) => ({
      id: String(r.id),
      version: String(r.version),
      fields: r._fv === null ? null : String(r._fv),
    }));
  }

  /** One atomic batch of sealed rows, like push(). */
  async pushSealed(rows: PushRow[], watermark: number, deviceId: string): Promise<PushResult> {
    const byTable = new Map<string, Row[]>();
    for (const { table, row } of rows) {
      const list = byTable.get(table) ?? [];
      list.push(row);
      byTable.set(table, list);
    }
    const chunks = [...byTable].map(([table, list]) => ({
      table,
      rowsJson: JSON.stringify(list.map((r) => [r.id, r.version, r._fv, r.data])),
      keysJson: JSON.stringify(list.map((r) => [r.id, r.version, r._fv])),
    }));
    const { applied, seq } = await this.#pushSealedChunks(chunks, watermark, deviceId);
    return { applied: rows.map(({ table, row }) => applied.has(`${table}:${row.id}`)), seq };
  }

  /** One table's rows sealed as JSON (sealChunk), pushed like pushSealed(); answers the ids applied. */
  async pushSealedJson(
    table: string,
    sealed: SealedChunk,
    watermark: number,
    deviceId: string,
  ): Promise<{ applied: Set<string>; seq: number }> {
    const { applied, seq } = await this.#pushSealedChunks(
      [{ table, ...sealed }],
      watermark,
      deviceId,
    );
    return { applied: new Set([...applied].map((key) => key.slice(table.length + 1))), seq };
  }

  async #pushSealedChunks(
    chunks: ({ table: string } & SealedChunk)[],
    watermark: number,
    deviceId: string,
  ): Promise<{ applied: Set<string>; seq: number }> {
    const statements: InStatement[] = [
      "UPDATE _jdo_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'seq'",
      ...chunks.map((c) => ({
        sql: sealedUpsertSql(),
        args: [c.table, deviceId, c.rowsJson, watermark, deviceId],
      })),
      // Held whole now (written here, or an earlier push of the same version): accepted.
      // The check needs no payloads: half the bytes of a push.
      ...chunks.map((c) => ({ sql: SEALED_HELD_SQL, args: [c.keysJson, c.table] })),
      "SELECT CAST(value AS INTEGER) AS seq FROM _jdo_meta WHERE key = 'seq'",
    ];
    const results = await this.#call(
      "push to the cloud database",
      () => this.#remote.batch(statements, "write"),
    );
    const applied = new Set<string>();
    results.slice(1 + chunks.length, -1).forEach((result, i) => {
      for (const r of result.rows) applied.add(`${chunks[i].table}:${r.id}`);
    });
    return { applied, seq: Number(results[results.length - 1].rows[0]?.seq ?? 0) };
  }

  async hasPlainRows(): Promise<boolean> {
    const rows = await this.#call("read the cloud database", () =>
      queryRows(
        this.#probe,
        SYNCED_TABLES.map((t) => `SELECT 1 AS x FROM ${t} WHERE _seq >= 0`).join(" UNION ALL ") +
          " LIMIT 1",
      ));
    return rows.length > 0;
  }

  /** Runs statements in one write batch (`sync encrypt on|off`, `sync key rotate`). */
  async writeBatch(statements: InStatement[]): Promise<void> {
    await this.#call("write to the cloud database", () => this.#remote.batch(statements, "write"));
  }

  /** Every plain table emptied (children first): encrypt on, once every row is sealed. */
  async dropPlainRows(): Promise<void> {
    await this.writeBatch([...SYNCED_TABLES].reverse().map((t) => `DELETE FROM ${t}`));
  }

  /** New names for devices of the directory (sealed, or back in the clear). */
  async renameDevices(names: Map<string, string>): Promise<void> {
    await this.writeBatch(
      [...names].map(([id, name]) => ({
        sql: "UPDATE _jdo_devices SET name = ? WHERE id = ?",
        args: [name, id],
      })),
    );
  }

  async enableEncryption(record: string): Promise<string> {
    const results = await this.#call("write to the cloud database", () =>
      this.#remote.batch([
        ...E2E_SCHEMA,
        {
          sql: `INSERT INTO _jdo_meta (key, value) SELECT ?, ?
                WHERE NOT EXISTS (SELECT 1 FROM _jdo_meta WHERE key = ?)`,
          args: [E2E_META_KEY, record, E2E_META_KEY],
        },
        { sql: "SELECT value FROM _jdo_meta WHERE key = ?", args: [E2E_META_KEY] },
      ], "write"));
    return String(results[results.length - 1].rows[0]?.value);
  }

  async foreignTables(): Promise<string[]> {
    const rows = await this.#call("read the cloud database", () =>
      queryRows(
        this.#probe,
        `SELECT name FROM sqlite_master WHERE type = 'table'
           AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE 'libsql\\_%' ESCAPE '\\'
           AND name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY name`,
      ));
    const ours = new Set(ENTITIES.map((e) => e.table));
    return rows.map((r) => String(r.name)).filter((name) => !ours.has(name));
  }

  async migrate(): Promise<void> {
    const { schemaVersion } = await this.info();
    if (schemaVersion > LATEST_SCHEMA_VERSION) throw schemaMismatch(schemaVersion);
    for (const migration of MIGRATIONS) {
      if (migration.version <= schemaVersion) continue;
      const statements: InStatement[] = [
        MIGRATIONS_TABLE,
        ...migration.statements("cloud"),
        {
          sql: "INSERT INTO _migrations (version, name, applied_at) VALUES (?, ?, ?)",
          args: [migration.version, migration.name, new Date().toISOString()],
        },
      ];
      try {
        await this.#call("create the cloud schema", () => this.#remote.batch(statements, "write"));
      } catch (error) {
        // Another device may have applied the same migration a moment ago.
        const now = await this.info();
        if (now.schemaVersion >= migration.version) continue;
        throw error;
      }
    }
  }

  async assertWritable(): Promise<void> {
    await this.#call("write to the cloud database", () =>
      this.#remote.execute(
        "UPDATE _jdo_meta SET value = value WHERE key = 'cloud_id'",
      ));
  }

  #replicaPath(): string {
    const dir = this.#options.replicaDir;
    if (!dir) throw new Error("No replica directory configured");
    return join(dir, "replica.db");
  }

  async #resetReplica(): Promise<void> {
    this.#syncer?.stop();
    this.#syncer = undefined;
    this.#reader?.close();
    this.#reader = undefined;
    this.#tupleReader?.close();
    this.#tupleReader = undefined;
    const dir = this.#options.replicaDir;
    if (dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }

  /**
   * Pulls the cloud's new frames into the replica (in a worker, under a
   * timeout). Transient replication errors (a compacted log's "snapshot not
   * found") are retried with backoff; a replica that cannot catch up is
   * rebuilt from scratch, since it is only a cache of the cloud.
   */
  snapshot(): Promise<number> {
    const work = this.#snapshot();
    this.#replicaWork = work.catch(() => {});
    return work;
  }

  async #snapshot(): Promise<number> {
    const path = this.#replicaPath();
    let lastError: unknown;
    for (let attempt = 0; attempt < REPLICA_RETRIES; attempt++) {
      try {
        this.#assertNotAborted();
        await ensurePrivateDir(this.#options.replicaDir!);
        this.#assertNotAborted();
        this.#syncer ??= new ReplicaSyncer(
          path,
          this.#options.url,
          this.#options.token,
          this.#options.replicaTimeoutMs ?? 12_000,
        );
        await this.#syncer.sync();
        this.#assertNotAborted();
        this.#reader ??= createClient({ url: `file:${path}` });
        await privateFilesIn(this.#options.replicaDir!);
        const seq = await queryOne(this.#reader, "SELECT value FROM _jdo_meta WHERE key = 'seq'");
        return Number(seq?.value ?? 0);
      } catch (error) {
        lastError = error;
        if (this.#aborted) throw abortedError();
        if (error instanceof ReplicaTimeout) {
          this.#syncer = undefined;
          throw new JdoError("SYNC_UNREACHABLE", `Cannot reach ${this.host}: ${error.message}`, {
            cause: error,
          });
        }
        if (/connection refused|dns error/i.test(String(error))) break;
        await this.#resetReplica();
        await this.#pause(250 * 2 ** attempt);
      }
    }
    throw classifyCloudError(lastError, this.host, "pull from the cloud database");
  }

  replicaFile(): string | undefined {
    return this.#reader ? this.#replicaPath() : undefined;
  }

  /** A retry's backoff, cut short by abort(). */
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  #assertNotAborted(): void {
    if (this.#aborted) throw abortedError();
  }

  /**
   * Ctrl-C: the replica's worker is ended at once (even in a native call
   * waiting on a dead network), the snapshot() under way is waited for (it
   * fails without creating cloud/ again, see #assertNotAborted) and the
   * reader is closed. No replica work starts after this.
   */
  async abort(): Promise<void> {
    this.#aborted = true;
    this.#wake?.();
    this.#syncer?.stop();
    this.#syncer = undefined;
    await this.#replicaWork;
    this.#reader?.close();
    this.#reader = undefined;
    this.#tupleReader?.close();
    this.#tupleReader = undefined;
  }

  async changes(table: string, after: Cursor, upTo: number, limit: number): Promise<Row[]> {
    if (!this.#reader) throw new Error("changes() before snapshot()");
    return await queryRows(
      this.#reader,
      `SELECT * FROM ${table} WHERE (_seq > ? OR (_seq = ? AND id > ?)) AND _seq <= ?
       ORDER BY _seq, id LIMIT ?`,
      [after.seq, after.seq, after.id, upTo, limit],
    );
  }

  /** Keyset page of ids and versions, read from the replica when there is one. */
  async versions(table: string, afterId: string, limit: number): Promise<RowVersion[]> {
    const client = this.#reader ?? this.#remote;
    const rows = await this.#call("read the cloud database", () =>
      queryRows(
        client,
        `SELECT id, version, _fv FROM ${table} WHERE id > ? ORDER BY id LIMIT ?`,
        [afterId, limit],
      ));
    return rows.map((r) => ({
      id: String(r.id),
      version: String(r.version),
      fields: r._fv === null ? null : String(r._fv),
    }));
  }

  /** The cloud server's wall clock (Unix ms) and the device directory, in one request. */
  async readDevices(): Promise<DeviceReading> {
    // The quick pull of this sync read them already, in the same request.
    const cached = this.#devices;
    this.#devices = undefined;
    if (cached) return cached;
    const started = performance.now();
    const [time, devices] = await this.#call("read the cloud database", () =>
      this.#probe.batch([
        SERVER_TIME_SQL,
        `SELECT ${DEVICE_FIELDS} FROM _jdo_devices ORDER BY first_sync_at, id`,
      ], "read"));
    return {
      serverTimeMs: this.#serverTime(time.rows[0]?.ms),
      devices: devices.rows.map((r) => deviceRecord(r as unknown as Row)),
      midpoint: (started + performance.now()) / 2,
    };
  }

  /**
   * Upserts this device's row of the device directory (first_sync_at kept,
   * last_sync_at the server's time) and returns the whole directory.
   */
  async recordDevice(device: DeviceEntry): Promise<DeviceRecord[]> {
    const results = await this.#call("write to the cloud database", () =>
      this.#remote.batch([
        {
          sql: `INSERT INTO _jdo_devices
  (id, name, jdo_version, first_sync_at, last_sync_at, clock_offset_ms)
VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?)
ON CONFLICT(id) DO UPDATE SET name = excluded.name, jdo_version = excluded.jdo_version,
  last_sync_at = excluded.last_sync_at, clock_offset_ms = excluded.clock_offset_ms`,
          args: [device.id, device.name, device.jdoVersion, device.clockOffsetMs],
        },
        `SELECT ${DEVICE_FIELDS} FROM _jdo_devices ORDER BY first_sync_at, id`,
      ], "write"));
    return results[1].rows.map((r) => deviceRecord(r as unknown as Row));
  }

  /** Removes one device's row of the directory (`sync devices forget`); returns the rest. */
  async deleteDevice(id: string): Promise<DeviceRecord[]> {
    const results = await this.#call("write to the cloud database", () =>
      this.#remote.batch([
        { sql: "DELETE FROM _jdo_devices WHERE id = ?", args: [id] },
        `SELECT ${DEVICE_FIELDS} FROM _jdo_devices ORDER BY first_sync_at, id`,
      ], "write"));
    return results[1].rows.map((r) => deviceRecord(r as unknown as Row));
  }

  /**
   * One atomic batch: bump the change sequence, upsert each table's rows with
   * one statement (guarded by version and watermark; RETURNING says which
   * rows were applied), then read the new sequence.
   */
  async push(rows: PushRow[], watermark: number, deviceId: string): Promise<PushResult> {
    const byTable = new Map<string, Row[]>();
    for (const { table, row } of rows) {
      const list = byTable.get(table) ?? [];
      list.push(row);
      byTable.set(table, list);
    }
    const chunks = [...byTable].map(([table, tableRows]) => {
      const columns = Object.keys(tableRows[0]).filter((c) => c !== "_seq" && c !== "_by");
      return { table, columns, rowsJson: bulkRowsJson(columns, tableRows) };
    });
    const { applied, seq } = await this.#pushChunks(chunks, watermark, deviceId);
    return { applied: rows.map(({ table, row }) => applied.has(`${table}:${row.id}`)), seq };
  }

  /** One chunk whose rows SQLite already encoded (see CloudStore.pushEncoded). */
  async pushEncoded(
    chunk: EncodedChunk,
    watermark: number,
    deviceId: string,
  ): Promise<{ applied: Set<string>; seq: number }> {
    const { applied, seq } = await this.#pushChunks([chunk], watermark, deviceId);
    const ids = new Set<string>();
    for (const key of applied) ids.add(key.slice(chunk.table.length + 1));
    return { applied: ids, seq };
  }

  /**
   * One atomic batch: bump the change sequence, one upsert statement per
   * table (RETURNING says which rows were applied), read the new sequence.
   * Answers "table:id" of every applied row.
   */
  async #pushChunks(
    chunks: EncodedChunk[],
    watermark: number,
    deviceId: string,
  ): Promise<{ applied: Set<string>; seq: number }> {
    const statements: InStatement[] = [
      "UPDATE _jdo_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'seq'",
      ...chunks.map((c) => ({
        sql: cloudUpsertSql(c.table, c.columns),
        args: [deviceId, c.rowsJson, watermark, deviceId, deviceId],
      })),
      "SELECT CAST(value AS INTEGER) AS seq FROM _jdo_meta WHERE key = 'seq'",
    ];
    const results = await this.#call(
      "push to the cloud database",
      () => this.#remote.batch(statements, "write"),
    );
    // Keyed by table too: one push may hold rows of several tables.
    const applied = new Set<string>();
    results.slice(1, -1).forEach((result, i) => {
      for (const r of result.rows) applied.add(`${chunks[i].table}:${r.id}`);
    });
    return { applied, seq: Number(results[results.length - 1].rows[0]?.seq ?? 0) };
  }

  async close(): Promise<void> {
    this.#http.close();
    this.#reader?.close();
    this.#tupleReader?.close();
    this.#tupleReader = undefined;
    await this.#syncer?.close();
  }
}

/**
 * One push statement per table: new rows are inserted; an existing row is
 * merged field by field (src/db/field_versions.ts) when some field is newer,
 * and only when this device has seen the cloud row's last change (its _seq is within our
 * watermark, or we made it): otherwise the row is refused, so the device
 * pulls the other change first and records any conflict. RETURNING id says
 * which rows were applied. Arguments: device, rows JSON, watermark, device,
 * device.
 */
export function cloudUpsertSql(table: string, columns: string[]): string {
  const seq = "(SELECT CAST(value AS INTEGER) FROM _jdo_meta WHERE key = 'seq')";
  return `INSERT INTO ${table} (${[...columns, "_seq", "_by"].map(q).join(", ")})
SELECT ${columns.map((_, i) => `json_extract(value, '$[${i}]')`).join(", ")}, ${seq}, ?
FROM json_each(?) WHERE true
${
    fieldMergeSql(table, groupsOfTable(table), {
      extraSets: ["_seq = excluded._seq", "_by = excluded._by"],
      where: `${someGroupNewer("excluded", table, groupsOfTable(table))}
  AND (${table}._seq <= ? OR ${table}._by = ?
    OR (${table}._by IS NULL AND substr(${table}.version, 20) = ?))`,
    })
  }
RETURNING id`;
}

export function schemaMismatch(version: number): JdoError {
  return new JdoError(
    "SYNC_SCHEMA_MISMATCH",
    `The cloud database uses schema version ${version}, newer than this jdo supports (${LATEST_SCHEMA_VERSION}); sync is paused, local use continues`,
  );
}
