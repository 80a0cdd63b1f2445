/**
 * An in-memory cloud with the exact semantics of LibsqlCloud, for fast
 * property tests of the sync engine: one shared "server" (MemoryCloud) and a
 * CloudStore handle per device (MemoryCloud.client()).
 *
 * It keeps every version of every row with the change sequence it was written
 * at, so a handle can read the cloud as it was at an older sequence, the way
 * a lagging embedded replica does. Faults can be injected per handle: a push
 * that fails before it commits, one that commits and then reports an error
 * (a connection cut after the server committed), or a pull cut off midway.
 */
import { createClient, type InStatement } from "@libsql/client";
import {
  LATEST_SCHEMA_VERSION,
  MIGRATIONS,
  MIGRATIONS_TABLE,
  SYNCED_TABLES,
} from "../../src/db/migrations.ts";
import {
  columnsOf,
  ENTITIES,
  FIELD_VERSIONS,
  groupsOfTable,
  q,
  type Row,
} from "../../src/db/schema.ts";
import { mergeRows } from "../../src/db/field_versions.ts";
import { JdoError } from "../../src/errors.ts";
import type {
  CloudInfo,
  Cursor,
  PushResult,
  PushRow,
  QuickChanges,
  RowVersion,
  SealedPageRow,
  SealedRowStore,
} from "../../src/sync/cloud_store.ts";
import { schemaMismatch } from "../../src/sync/libsql_cloud.ts";
import { REFUSED_PLAIN } from "../../src/sync/e2e_schema.ts";

/** Where the memory cloud keeps a table's sealed rows (an encrypted cloud's _jdo_rows). */
const sealedName = (table: string) => `_jdo_rows:${table}`;

/**
 * The sealed upsert's rule (e2e_schema.ts): the pushed row is newer or equal
 * in every field group and newer in one.
 */
function dominates(next: Row, current: Row): boolean {
  const parse = (v: unknown) =>
    v === null || v === undefined ? null : JSON.parse(String(v)) as Record<string, string>;
  const a = parse(next._fv);
  const b = parse(current._fv);
  if (!a || !b) return String(next.version) > String(current.version);
  for (const [k, v] of Object.entries(b)) if (v > (a[k] ?? "")) return false;
  return Object.entries(a).some(([k, v]) => v > (b[k] ?? ""));
}

/** Columns of the conflict log (migration 2, CONFLICTS_V2). */
const CONFLICT_COLUMNS = [
  "id",
  "entity",
  "row_id",
  "field",
  "kind",
  "winner",
  "local_version",
  "remote_version",
  "local_row",
  "remote_row",
  "kept_value",
  "lost_value",
  "kept_version",
  "lost_version",
  "kept_device",
  "lost_device",
  "detected_by",
  "resolved_at",
  "created_at",
  "updated_at",
  "version",
  "deleted_at",
  FIELD_VERSIONS,
];

const COLUMNS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ...ENTITIES.map((def) => [def.table, new Set(columnsOf(def))] as const),
  ["_sync_conflicts", new Set(CONFLICT_COLUMNS)],
]);

interface Entry {
  seq: number;
  row: Row;
  /** The device whose push wrote this entry (the cloud's _by). */
  by: string;
}

export interface MemoryClientOptions {
  /**
   * How many change sequences behind the server snapshot() may answer, like
   * an embedded replica that has not caught up. A number, or a function asked
   * on every snapshot. The answer never goes below the handle's previous one.
   */
  snapshotLag?: number | ((latest: number) => number);
  /**
   * A SQLite file that each snapshot() fills with the cloud's tables as of
   * that snapshot and offers as replicaFile(), like LibsqlCloud's embedded
   * replica: the engine then takes its set-based merge path instead of
   * reading changes() page by page.
   */
  replicaPath?: string;
  /**
   * Offer quickChanges() (a small pull straight from the server, as
   * LibsqlCloud reads it over HTTP) up to this many rows per table.
   */
  quickPullLimit?: number;
}

/** What a push fault does: fail before anything commits, or after the commit. */
export type PushFault = "before-commit" | "after-commit";

function unreachable(what: string): JdoError {
  return new JdoError("SYNC_UNREACHABLE", `Cannot reach memory cloud: ${what}`);
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function copy(row: Row): Row {
  return { ...row };
}

export class MemoryCloud {
  #tables = new Map<string, Map<string, Entry[]>>();
  #seq = 0;
  #schemaVersion = 0;
  #cloudId: string | null = null;
  /** The end-to-end check record once the cloud is encrypted. */
  #encryption: string | null = null;
  /** Every call of every handle fails with SYNC_UNREACHABLE while set. */
  offline = false;
  /** Writes fail with SYNC_READ_ONLY while set. */
  readOnly = false;
  /** Counts push calls that reached the server (committed or not). */
  pushCalls = 0;

  constructor(options: { migrated?: boolean } = {}) {
    if (options.migrated) this.#migrate();
  }

  /** The highest change sequence handed out. */
  get seq(): number {
    return this.#seq;
  }

  get schemaVersion(): number {
    return this.#schemaVersion;
  }

  get cloudId(): string | null {
    return this.#cloudId;
  }

  /** Pretends another binary migrated the cloud to `version` (e.g. a newer one). */
  setSchemaVersion(version: number): void {
    this.#schemaVersion = version;
  }

  /** A CloudStore handle for one device. */
  client(options: MemoryClientOptions = {}): MemoryCloudClient {
    return new MemoryCloudClient(this, options);
  }

  /** Current rows of a table (without _seq), ordered by id. */
  rows(table: string): Row[] {
    return [...this.#table(table).values()]
      .map((history) => copy(history[history.length - 1].row))
      .sort((a, b) => compareIds(String(a.id), String(b.id)));
  }

  /** Current rows of a table with their _seq, in _seq order. */
  rowsWithSeq(table: string): Row[] {
    return [...this.#table(table).values()]
      .map((history) => history[history.length - 1])
      .sort((a, b) => a.seq - b.seq || compareIds(String(a.row.id), String(b.row.id)))
      .map((e) => ({ ...e.row, _seq: e.seq, _by: e.by }));
  }

  /** @internal */
  _migrate(): void {
    if (this.#schemaVersion > LATEST_SCHEMA_VERSION) throw schemaMismatch(this.#schemaVersion);
    this.#migrate();
  }

  #migrate(): void {
    for (const table of SYNCED_TABLES) {
      if (!this.#tables.has(table)) this.#tables.set(table, new Map());
    }
    this.#schemaVersion = Math.max(this.#schemaVersion, LATEST_SCHEMA_VERSION);
    this.#cloudId ??= Array.from(
      crypto.getRandomValues(new Uint8Array(16)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
  }

  #table(name: string): Map<string, Entry[]> {
    const table = this.#tables.get(name);
    if (!table) throw new Error(`SQLITE_ERROR: no such table: ${name}`);
    return table;
  }

  /** @internal */
  _info(): CloudInfo {
    return {
      schemaVersion: this.#schemaVersion,
      cloudId: this.#cloudId,
      encryption: this.#encryption,
    };
  }

  /** @internal Encrypts the cloud (keeps a record already there); answers the record in place. */
  _enableEncryption(record: string): string {
    for (const table of SYNCED_TABLES) {
      if (!this.#tables.has(sealedName(table))) this.#tables.set(sealedName(table), new Map());
    }
    this.#encryption ??= record;
    return this.#encryption;
  }

  /** @internal Whether a plain table holds a row. */
  _hasPlainRows(): boolean {
    return SYNCED_TABLES.some((t) => (this.#tables.get(t)?.size ?? 0) > 0);
  }

  /** Every stored value of every table, plain and sealed, as text (what a scan of the cloud sees). */
  dump(): string {
    const out: string[] = [];
    for (const [name, table] of this.#tables) {
      for (const history of table.values()) {
        for (const e of history) out.push(`${name} ${JSON.stringify(e.row)}`);
      }
    }
    return out.join("\n");
  }

  /** @internal The sealed upsert (rows { id, version, _fv, data }), one new sequence. */
  _pushSealed(rows: PushRow[], watermark: number, deviceId: string): PushResult {
    if (this.readOnly) {
      throw new JdoError("SYNC_READ_ONLY", "The token for memory cloud is read-only");
    }
    for (const { table } of rows) this.#table(sealedName(table));
    const seq = ++this.#seq;
    const applied = rows.map(({ table, row }) => {
      const fields: Row = { id: row.id, version: row.version, _fv: row._fv, data: row.data };
      const history = this.#table(sealedName(table)).get(String(fields.id));
      if (!history) {
        this.#table(sealedName(table)).set(String(fields.id), [{ seq, row: fields, by: deviceId }]);
        return true;
      }
      const current = history[history.length - 1];
      // Held whole already (a replayed push): accepted, unchanged.
      if (current.row.version === fields.version && current.row._fv === fields._fv) return true;
      const seen = current.seq <= watermark || current.by === deviceId;
      if (!seen || !dominates(fields, current.row)) return false;
      history.push({ seq, row: fields, by: deviceId });
      return true;
    });
    return { applied, seq };
  }

  /** Each row's newest version at or below `upTo`: what a replica at upTo holds. */
  #viewAt(table: string, upTo: number): Entry[] {
    const out: Entry[] = [];
    for (const history of this.#table(table).values()) {
      for (let i = history.length - 1; i >= 0; i--) {
        if (history[i].seq > upTo) continue;
        out.push(history[i]);
        break;
      }
    }
    return out;
  }

  /**
   * @internal Rows as of sequence `upTo` (what a replica at upTo holds) that
   * come after the cursor in (_seq, id) order.
   */
  _changes(table: string, after: Cursor, upTo: number, limit: number): Row[] {
    const out = this.#viewAt(table, upTo).filter((e) =>
      e.seq > after.seq || (e.seq === after.seq && String(e.row.id) > after.id)
    );
    out.sort((a, b) => a.seq - b.seq || compareIds(String(a.row.id), String(b.row.id)));
    return out.slice(0, limit).map((e) => ({ ...e.row, _seq: e.seq, _by: e.by }));
  }

  /** @internal Writes the cloud as of `upTo` into a fresh SQLite file at `path`. */
  async _materialize(path: string, upTo: number): Promise<void> {
    for (const suffix of ["", "-wal", "-shm", "-journal"]) {
      await Deno.remove(path + suffix).catch(() => {});
    }
    const statements: InStatement[] = [MIGRATIONS_TABLE];
    for (const m of MIGRATIONS) {
      if (m.version <= this.#schemaVersion) statements.push(...m.statements("cloud"));
    }
    for (const table of this.#tables.keys()) {
      if (table.includes(":")) continue; // sealed rows: an encrypted cloud offers no replica file
      for (const { seq, row, by } of this.#viewAt(table, upTo)) {
        const columns = Object.keys(row);
        statements.push({
          sql: `INSERT INTO ${table} (${[...columns, "_seq", "_by"].map(q).join(", ")}) VALUES (${
            [...columns, "_seq", "_by"].map(() => "?").join(", ")
          })`,
          args: [...columns.map((c) => row[c]), seq, by],
        });
      }
    }
    statements.push(
      { sql: "UPDATE _jdo_meta SET value = ? WHERE key = 'seq'", args: [String(upTo)] },
      { sql: "UPDATE _jdo_meta SET value = ? WHERE key = 'cloud_id'", args: [this.#cloudId] },
    );
    const client = createClient({ url: `file:${path}` });
    try {
      await client.batch(statements, "write");
    } finally {
      client.close();
    }
  }

  /** @internal Ids and versions as of `upTo` after `afterId`, in id order. */
  _versions(table: string, afterId: string, limit: number, upTo: number): RowVersion[] {
    return this.#viewAt(table, upTo)
      .map((e) => ({
        id: String(e.row.id),
        version: String(e.row.version),
        fields: e.row._fv === null || e.row._fv === undefined ? null : String(e.row._fv),
      }))
      .filter((r) => r.id > afterId)
      .sort((a, b) => compareIds(a.id, b.id))
      .slice(0, limit);
  }

  /**
   * @internal One atomic upsert, like LibsqlCloud.push's batch: the sequence
   * is bumped once (even for no rows), and a row is applied when it is new, or
   * when its version is greater and the cloud row was not changed by another
   * device after `watermark`. Answers the applied flags and the new sequence.
   */
  _push(rows: PushRow[], watermark: number, deviceId: string): PushResult {
    if (this.readOnly) {
      throw new JdoError("SYNC_READ_ONLY", "The token for memory cloud is read-only");
    }
    // The triggers of an encrypted cloud refuse plain rows.
    if (this.#encryption && rows.length > 0) throw new Error(`SQLITE_CONSTRAINT: ${REFUSED_PLAIN}`);
    // Validate everything first: a failing statement rolls the whole batch back.
    for (const { table, row } of rows) {
      const columns = COLUMNS.get(table);
      this.#table(table);
      for (const c of Object.keys(row)) {
        if (c === "_seq") continue;
        if (!columns?.has(c)) throw new Error(`SQLITE_ERROR: table ${table} has no column ${c}`);
      }
      if (typeof row.id !== "string" || typeof row.version !== "string") {
        throw new Error(`SQLITE_CONSTRAINT: NOT NULL constraint failed: ${table}.id/version`);
      }
    }
    const seq = ++this.#seq;
    const applied = rows.map(({ table, row }) => {
      const { _seq: _, ...fields } = row;
      const history = this.#table(table).get(String(fields.id));
      if (!history) {
        this.#table(table).set(String(fields.id), [{ seq, row: copy(fields), by: deviceId }]);
        return true;
      }
      const current = history[history.length - 1];
      const seen = current.seq <= watermark || current.by === deviceId;
      if (!seen) return false;
      // The same field-by-field merge as LibsqlCloud's upsert, applied when
      // some field of the pushed row is newer.
      const merged = mergeRows(current.row, fields, groupsOfTable(table));
      if (merged.fromOther.length === 0) return false;
      history.push({ seq, row: merged.row, by: deviceId });
      return true;
    });
    return { applied, seq };
  }
}

/** One device's view of a MemoryCloud; implements CloudStore (and its sealed rows). */
export class MemoryCloudClient implements SealedRowStore {
  #server: MemoryCloud;
  #options: MemoryClientOptions;
  #lastSnapshot = 0;
  #faults: PushFault[] = [];
  #changesFault: number | null = null;
  #materialized = false;
  #closed = false;

  constructor(server: MemoryCloud, options: MemoryClientOptions = {}) {
    this.#server = server;
    this.#options = options;
  }

  get server(): MemoryCloud {
    return this.#server;
  }

  /** The next push fails without committing anything. */
  failNextPush(): void {
    this.#faults.push("before-commit");
  }

  /** The next push commits on the server, then reports a cut connection. */
  failAfterCommit(): void {
    this.#faults.push("after-commit");
  }

  /**
   * After `calls` more successful changes() calls, the next one fails: a pull
   * cut off after merging some pages but before it recorded its watermark.
   */
  failChangesAfter(calls: number): void {
    this.#changesFault = calls;
  }

  /** Queued faults not yet triggered. */
  get pendingFaults(): number {
    return this.#faults.length + (this.#changesFault === null ? 0 : 1);
  }

  clearFaults(): void {
    this.#faults = [];
    this.#changesFault = null;
  }

  setSnapshotLag(lag: MemoryClientOptions["snapshotLag"]): void {
    this.#options = { ...this.#options, snapshotLag: lag };
  }

  #check(what: string): void {
    if (this.#closed) throw new Error("The memory cloud client is closed");
    if (this.#server.offline) throw unreachable(what);
  }

  info(): Promise<CloudInfo> {
    return Promise.resolve().then(() => {
      this.#check("info");
      return this.#server._info();
    });
  }

  migrate(): Promise<void> {
    return Promise.resolve().then(() => {
      this.#check("migrate");
      if (this.#server.readOnly) {
        throw new JdoError("SYNC_READ_ONLY", "The token for memory cloud is read-only");
      }
      this.#server._migrate();
    });
  }

  assertWritable(): Promise<void> {
    return Promise.resolve().then(() => {
      this.#check("assertWritable");
      if (this.#server.readOnly) {
        throw new JdoError("SYNC_READ_ONLY", "The token for memory cloud is read-only");
      }
      if (!this.#server.cloudId) throw new Error("SQLITE_ERROR: no such table: _jdo_meta");
    });
  }

  snapshot(): Promise<number> {
    return Promise.resolve().then(() => {
      this.#check("snapshot");
      if (!this.#server.cloudId) throw new Error("SQLITE_ERROR: no such table: _jdo_meta");
      const latest = this.#server.seq;
      const option = this.#options.snapshotLag ?? 0;
      const lag = typeof option === "function" ? option(latest) : option;
      const seen = Math.max(this.#lastSnapshot, Math.min(latest, latest - Math.max(0, lag)));
      this.#lastSnapshot = seen;
      return seen;
    }).then(async (seen) => {
      const path = this.#options.replicaPath;
      if (path) {
        await this.#server._materialize(path, seen);
        this.#materialized = true;
      }
      return seen;
    });
  }

  replicaFile(): string | undefined {
    return this.#materialized ? this.#options.replicaPath : undefined;
  }

  quickChanges(tables: string[], after: number): Promise<QuickChanges | null> {
    return Promise.resolve().then(() => {
      const limit = this.#options.quickPullLimit ?? 0;
      this.#check("quickChanges");
      if (limit <= 0) return null;
      if (this.#changesFault !== null) {
        if (this.#changesFault === 0) {
          this.#changesFault = null;
          throw unreachable("the connection was cut (reading changes)");
        }
        this.#changesFault--;
      }
      const seq = this.#server.seq;
      const rows = new Map<string, Row[]>();
      for (const table of tables) {
        const page = this.#server._changes(table, { seq: after, id: "~" }, seq, limit + 1);
        if (page.length > limit) return null;
        rows.set(table, page);
      }
      return { seq, rows };
    });
  }

  changes(table: string, after: Cursor, upTo: number, limit: number): Promise<Row[]> {
    return Promise.resolve().then(() => {
      this.#check("changes");
      if (this.#changesFault !== null) {
        if (this.#changesFault === 0) {
          this.#changesFault = null;
          throw unreachable("the connection was cut (reading changes)");
        }
        this.#changesFault--;
      }
      return this.#server._changes(table, after, upTo, limit);
    });
  }

  versions(table: string, afterId: string, limit: number): Promise<RowVersion[]> {
    return Promise.resolve().then(() => {
      this.#check("versions");
      return this.#server._versions(table, afterId, limit, this.#lastSnapshot);
    });
  }

  push(rows: PushRow[], watermark: number, deviceId: string): Promise<PushResult> {
    return this.#pushWith(rows, watermark, deviceId, (r, w, d) => this.#server._push(r, w, d));
  }

  #pushWith(
    rows: PushRow[],
    watermark: number,
    deviceId: string,
    apply: (rows: PushRow[], watermark: number, deviceId: string) => PushResult,
  ): Promise<PushResult> {
    return Promise.resolve().then(() => {
      this.#check("push");
      this.#server.pushCalls++;
      const fault = this.#faults.shift();
      if (fault === "before-commit") throw unreachable("the connection was cut (before commit)");
      const applied = apply(
        rows.map(({ table, row }) => ({ table, row: copy(row) })),
        watermark,
        deviceId,
      );
      if (fault === "after-commit") throw unreachable("the connection was cut (after commit)");
      return applied;
    });
  }

  sealedChanges(table: string, after: Cursor, upTo: number, limit: number): Promise<Row[]> {
    return this.changes(sealedName(table), after, upTo, limit);
  }

  /** sealedChanges() as the tuples LibsqlCloud reads from its replica. */
  async sealedTuples(
    table: string,
    after: Cursor,
    upTo: number,
    limit: number,
  ): Promise<SealedPageRow[]> {
    return (await this.sealedChanges(table, after, upTo, limit)).map((r) => [
      String(r.id),
      String(r.version),
      r._fv === null || r._fv === undefined ? null : String(r._fv),
      String(r.data),
      Number(r._seq),
      r._by === null || r._by === undefined ? null : String(r._by),
    ]);
  }

  sealedQuickChanges(tables: string[], after: number): Promise<QuickChanges | null> {
    return this.quickChanges(tables.map(sealedName), after).then((quick) =>
      quick && {
        seq: quick.seq,
        rows: new Map(tables.map((t) => [t, quick.rows.get(sealedName(t)) ?? []])),
      }
    );
  }

  pushSealed(rows: PushRow[], watermark: number, deviceId: string): Promise<PushResult> {
    return this.#pushWith(
      rows,
      watermark,
      deviceId,
      (r, w, d) => this.#server._pushSealed(r, w, d),
    );
  }

  sealedVersions(table: string, afterId: string, limit: number): Promise<RowVersion[]> {
    return this.versions(sealedName(table), afterId, limit);
  }

  hasPlainRows(): Promise<boolean> {
    return Promise.resolve().then(() => {
      this.#check("hasPlainRows");
      return this.#server._hasPlainRows();
    });
  }

  enableEncryption(record: string): Promise<string> {
    return Promise.resolve().then(() => {
      this.#check("enableEncryption");
      return this.#server._enableEncryption(record);
    });
  }

  close(): void {
    this.#closed = true;
  }
}
