/**
 * The encrypting layer between the sync engine and the cloud: the engine
 * reads and writes plain rows as ever; when the cloud is end-to-end
 * encrypted, every row leaves this layer sealed (id, version and field
 * versions in clear, the rest one envelope) and every row that comes in is
 * opened before the engine sees it. Device names in the directory are sealed
 * too. A plain cloud passes through untouched, so one layer serves both.
 *
 * The mode follows the cloud, learnt at info(): its check record says it is
 * encrypted, and the key this device holds must open that record
 * (SYNC_KEY_MISSING / SYNC_KEY_WRONG otherwise, before anything is pulled or
 * pushed). The embedded replica's set-based merge reads plain tables, so an
 * encrypted cloud offers no replicaFile(): the engine then merges the opened
 * rows page by page.
 */
import { BUSY_TIMEOUT_MS, LIBSQL_PACKAGES } from "../db/database.ts";
import type * as LibsqlPackages from "../db/libsql_packages.ts";
import { MIGRATIONS, MIGRATIONS_TABLE, SYNCED_TABLES } from "../db/migrations.ts";
import { q, type Row } from "../db/schema.ts";
import { JdoError } from "../errors.ts";
import type {
  CloudInfo,
  CloudStore,
  Cursor,
  EncodedChunk,
  OpenedPage,
  PushResult,
  PushRow,
  QuickChanges,
  QuickPrefetch,
  RowVersion,
  SealedPageRow,
  SealedRowStore,
} from "./cloud_store.ts";
import type {
  DeviceDirectory,
  DeviceEntry,
  DeviceReading,
  DeviceRecord,
  PrunableDirectory,
} from "./devices.ts";
import {
  makeCheckRecord,
  openRow,
  openText,
  sealableRowSql,
  sealRow,
  sealText,
  verifyKey,
} from "./e2e_envelope.ts";
import type { DataKey } from "./e2e_key.ts";
import { rowOfPayload } from "./e2e_payload.ts";
import { E2E_META_KEY } from "./e2e_schema.ts";
import { RowCrypto } from "./row_crypto.ts";

/**
 * Rows read from the replica per step (the opened copy's fill, a first
 * download's pages). With two row workers a page is held in up to four
 * forms at once (sealed, cloned, opened, inserted): 5,000-row pages took a
 * 100k-row encrypted download to 603 MB peak RSS, 2,000-row pages to
 * 428–438 MB (one worker and 5,000: 439 MB), at the same speed.
 */
const OPEN_PAGE = 2_000;

/** The opened copy, through the `libsql` package's statements (no row objects). */
type OpenedDatabase = InstanceType<typeof LibsqlPackages.Database>;

/** Where a page that ends with `row` leaves off: the cursor the next page starts after. */
function cursorAt(row: SealedPageRow): Cursor {
  return { seq: Number(row[4]), id: String(row[0]) };
}

/** The columns of an opened row that were in clear, in a sealed page row's order. */
const OPENED_CLEAR = ["id", "version", "_fv", "_seq", "_by"] as const;

/** The key id a check record names. */
function recordKeyId(record: string): string {
  return String(JSON.parse(record).key_id ?? "");
}

/** Inserts one table's opened rows: the clear columns, then the table's others. */
interface OpenedWriter {
  table: string;
  columns: string[];
  insert: ReturnType<OpenedDatabase["prepare"]>;
}

function openedWriter(db: OpenedDatabase, table: string): OpenedWriter {
  const all = (db.prepare(`PRAGMA table_info(${table})`).raw(true).all() as unknown[][])
    .map((c) => String(c[1]));
  const columns = all.filter((c) => !(OPENED_CLEAR as readonly string[]).includes(c));
  const names = [...OPENED_CLEAR, ...columns];
  const insert = db.prepare(
    `INSERT OR REPLACE INTO ${table} (${names.map(q).join(", ")})
VALUES (${names.map(() => "?").join(", ")})`,
  );
  return { table, columns, insert };
}

/**
 * Writes a page of opened rows: the clear columns from the page, every other
 * column of the table from its payload (one a payload lacks is NULL).
 */
function writeOpened(writer: OpenedWriter, page: SealedPageRow[], payloads: string[]): void {
  for (let i = 0; i < page.length; i++) {
    const [id, version, fv, , seq, by] = page[i];
    const payload = rowOfPayload(writer.table, payloads[i]);
    const values: unknown[] = [id, version, fv, seq, by];
    for (const c of writer.columns) values.push(payload[c] ?? null);
    writer.insert.run(values);
  }
}

/** What the opened copy holds: rows changed in (from, seq] of one cloud. */
export interface OpenedHeld {
  cloud: string | undefined;
  from: number;
  seq: number;
}

/**
 * How the opened copy comes to serve a merge of the rows changed in
 * (mergeFrom, upTo]: it reads in (from, upTo] and then holds (heldFrom,
 * upTo]. What it holds is kept when it reaches back to mergeFrom; rows it
 * holds outside the merge's range are harmless (the merge never reads them,
 * a newer version of a row replaces it), except those of another cloud or of
 * a cloud that went back (a sequence past upTo): then it is cleared first.
 */
export function openedPlan(
  held: OpenedHeld,
  cloudId: string,
  mergeFrom: number,
  upTo: number,
): { clear: boolean; from: number; heldFrom: number } {
  if (held.cloud !== cloudId || held.seq > upTo) {
    return { clear: true, from: mergeFrom, heldFrom: mergeFrom };
  }
  if (held.from <= mergeFrom && held.seq >= mergeFrom) {
    return { clear: false, from: held.seq, heldFrom: held.from };
  }
  return { clear: false, from: mergeFrom, heldFrom: mergeFrom };
}

type Inner = SealedRowStore & Partial<DeviceDirectory & PrunableDirectory> & { host?: string };

export type EncryptionMode = "e2e" | "off";

export class EncryptingCloud implements CloudStore, DeviceDirectory, PrunableDirectory {
  readonly host?: string;
  #inner: Inner;
  #key?: DataKey;
  #mode?: EncryptionMode;
  #cloudId: string | null = null;
  #keyId: string | null = null;

  /** Where the opened copy of the replica is kept (cloud/), when the inner store has a replica. */
  #openedPath?: string;
  #opened?: OpenedDatabase;
  #crypto?: RowCrypto;
  #openedReady = false;
  /** Set by abort(): the opened copy is not written again. */
  #aborted = false;
  /** The snapshot() under way (the opened copy's fill with it), settled or not. */
  #snapshotWork?: Promise<unknown>;

  constructor(inner: Inner, key: DataKey | undefined, options: { openedPath?: string } = {}) {
    this.#inner = inner;
    this.#key = key;
    this.host = inner.host;
    this.#openedPath = options.openedPath;
  }

  /** The store under this layer. */
  get inner(): Inner {
    return this.#inner;
  }

  /** "e2e" or "off" once info() has run; undefined before. */
  get mode(): EncryptionMode | undefined {
    return this.#mode;
  }

  /** The cloud's key id (from its check record) when it is encrypted. */
  get cloudKeyId(): string | null {
    return this.#keyId;
  }

  get #sealed(): boolean {
    if (this.#mode === undefined) throw new Error("EncryptingCloud used before info()");
    return this.#mode === "e2e";
  }

  async info(prefetch?: QuickPrefetch): Promise<CloudInfo> {
    // A device with a key reads the sealed rows ahead; one without reads plain ones.
    const info = await this.#inner.info(
      prefetch ? { ...prefetch, sealed: this.#key !== undefined } : undefined,
    );
    this.#learn(info);
    return info;
  }

  #learn(info: CloudInfo): void {
    this.#cloudId = info.cloudId;
    if (info.encryption && info.cloudId) {
      this.#keyId = recordKeyId(info.encryption);
      verifyKey(this.#key, info.cloudId, info.encryption);
      this.#mode = "e2e";
    } else {
      this.#keyId = null;
      this.#mode = "off";
    }
  }

  async #ready(): Promise<void> {
    if (this.#mode === undefined) this.#learn(await this.#inner.info());
  }

  /**
   * Makes an empty cloud encrypted under `key` (setup --encrypt). A cloud
   * that has a key already keeps it: the key given must then be that one.
   */
  async enable(key: DataKey, options: { withData?: boolean } = {}): Promise<void> {
    const info = await this.#inner.info();
    if (!info.cloudId) throw new Error("enable() before the cloud schema exists");
    if (!options.withData && !info.encryption && await this.#inner.hasPlainRows()) {
      throw new JdoError(
        "USAGE",
        "This cloud already holds plain (unencrypted) data; setup --encrypt needs an empty cloud",
        { hint: "Set up without --encrypt, then run: jdo sync encrypt on" },
      );
    }
    const record = await this.#inner.enableEncryption(makeCheckRecord(key, info.cloudId));
    this.#key = key;
    this.#learn({ ...info, encryption: record });
  }

  migrate(): Promise<void> {
    return this.#inner.migrate();
  }

  async foreignTables(): Promise<string[]> {
    return await this.#inner.foreignTables?.() ?? [];
  }

  assertWritable(): Promise<void> {
    return this.#inner.assertWritable();
  }

  snapshot(mergeFrom?: number): Promise<number> {
    const work = this.#snapshot(mergeFrom);
    this.#snapshotWork = work.catch(() => {});
    return work;
  }

  async #snapshot(mergeFrom?: number): Promise<number> {
    this.#openedReady = false;
    const upTo = await this.#inner.snapshot();
    if (
      mergeFrom !== undefined && this.#mode === "e2e" && this.#openedPath &&
      this.#inner.replicaFile?.() && this.#inner.sealedTuples
    ) {
      this.#assertNotAborted();
      await this.#fillOpened(mergeFrom, upTo);
      this.#openedReady = true;
    }
    return upTo;
  }

  #assertNotAborted(): void {
    if (this.#aborted) throw new JdoError("CANCELLED", "Interrupted");
  }

  /**
   * Ctrl-C: the store underneath stops its replica, a fill of the opened
   * copy under way stops at its next page (its transaction rolled back) and
   * is waited for, the row worker ends and the opened copy is closed:
   * nothing of this cloud writes in cloud/ once this resolves.
   */
  async abort(): Promise<void> {
    this.#aborted = true;
    await this.#inner.abort?.();
    await this.#snapshotWork;
    this.#crypto?.close();
    this.#crypto = undefined;
    this.#opened?.close();
    this.#opened = undefined;
  }

  /**
   * The opened copy: a SQLite file beside the replica holding the cloud's
   * tables with the sealed rows a merge will read opened, so that the
   * engine merges from it set-based, as from a plain replica: a first
   * download is one decryption per row and one insert, not a merge page by
   * page. It holds every row changed in (opened_from, opened_seq]: a pull
   * needs those after its watermark, so a device that has just uploaded
   * everything (its watermark past its own rows) opens nothing, and each
   * pull opens only what arrived since the last. It is as private as the
   * working database (the device is trusted) and is removed with cloud/.
   */
  async #fillOpened(mergeFrom: number, upTo: number): Promise<void> {
    const db = await this.#openedDatabase();
    const meta = new Map(
      db.prepare(
        "SELECT key, value FROM _jdo_meta WHERE key IN ('opened_from', 'opened_seq', 'opened_cloud')",
      ).raw(true).all() as [string, string][],
    );
    const plan = openedPlan(
      {
        cloud: meta.get("opened_cloud"),
        from: Number(meta.get("opened_from") ?? 0),
        seq: Number(meta.get("opened_seq") ?? 0),
      },
      this.#cloudId!,
      mergeFrom,
      upTo,
    );
    if (plan.from >= upTo) return;
    db.exec("BEGIN IMMEDIATE");
    try {
      if (plan.clear) {
        for (const t of SYNCED_TABLES) db.exec(`DELETE FROM ${t}`);
      }
      const empty = db.prepare(
        SYNCED_TABLES.map((t) => `SELECT 1 FROM ${t}`).join(" UNION ALL ") + " LIMIT 1",
      ).raw(true).all().length === 0;
      // Many rows into empty tables: their indexes are built once, after.
      const indexes = empty
        ? db.prepare(
          `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
AND tbl_name IN (SELECT value FROM json_each(?))`,
        ).raw(true).all(JSON.stringify(SYNCED_TABLES)) as [string, string][]
        : [];
      for (const [name] of indexes) db.exec(`DROP INDEX ${q(name)}`);
      for (const t of SYNCED_TABLES) await this.#openTable(db, t, plan.from, upTo);
      db.prepare(
        `INSERT OR REPLACE INTO _jdo_meta (key, value)
VALUES ('opened_from', ?), ('opened_seq', ?), ('opened_cloud', ?), ('seq', ?)`,
      ).run(String(plan.heldFrom), String(upTo), this.#cloudId, String(upTo));
      for (const [, sql] of indexes) db.exec(sql);
      db.exec("COMMIT");
    } catch (error) {
      if (db.inTransaction) db.exec("ROLLBACK");
      throw error;
    }
  }

  async #openedDatabase(): Promise<OpenedDatabase> {
    if (this.#opened) return this.#opened;
    const { Database }: typeof LibsqlPackages = await import(LIBSQL_PACKAGES);
    this.#assertNotAborted();
    const db = new Database(this.#openedPath!, { timeout: BUSY_TIMEOUT_MS });
    // The cloud is the authority on references; the merge reads this copy with them off too.
    db.exec("PRAGMA foreign_keys = OFF");
    db.exec("PRAGMA journal_mode = WAL");
    const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE name = '_jdo_meta'").raw(true)
      .all().length > 0;
    if (!exists) {
      db.exec("BEGIN IMMEDIATE");
      db.exec(MIGRATIONS_TABLE);
      for (const m of MIGRATIONS) for (const sql of m.statements("cloud")) db.exec(sql);
      db.exec("COMMIT");
    }
    this.#opened = db;
    return db;
  }

  /** One table's sealed rows in (from, upTo] opened into the copy (#openedPages). */
  async #openTable(db: OpenedDatabase, table: string, from: number, upTo: number): Promise<void> {
    const writer = openedWriter(db, table);
    const pages = this.#openedPages(
      table,
      { seq: from, id: "~" },
      upTo,
      (crypto, page) => crypto.open(table, page),
    );
    for await (const { page, opened } of pages) writeOpened(writer, page, opened);
  }

  opensRows(): boolean {
    return this.#sealed && this.#openedPath !== undefined &&
      this.#inner.sealedTuples !== undefined && this.#inner.sealedTuplesSoFar !== undefined &&
      this.#inner.sealedCount !== undefined;
  }

  async modeKept(): Promise<boolean> {
    const record = await this.#inner.replicaMeta?.(E2E_META_KEY);
    if (record === undefined || this.#mode === undefined) return true;
    if (record === null) return this.#mode === "off";
    return this.#mode === "e2e" && recordKeyId(record) === this.#keyId;
  }

  openedRowCount(table: string, upTo: number): Promise<number> {
    return this.#inner.sealedCount!(table, upTo);
  }

  /** One table's sealed rows after `after` (up to `upTo`, or so far), opened as JSON pages. */
  async *openedRows(
    table: string,
    after: Cursor,
    upTo?: number,
  ): AsyncGenerator<OpenedPage> {
    const pages = this.#openedPages(
      table,
      after,
      upTo,
      (crypto, page) => crypto.openRows(table, page),
    );
    for await (const { page, opened } of pages) {
      yield { rowsJson: opened, last: cursorAt(page[page.length - 1]) };
    }
  }

  /**
   * One table's sealed rows after `after` — up to `upTo`, or without it as
   * far as the replica's sync under way has come — read from the replica a
   * page at a time and opened by `open` on the row workers, handed over in
   * order: while the caller uses page n, the next pages (one a worker) are
   * opening.
   */
  async *#openedPages<T>(
    table: string,
    after: Cursor,
    upTo: number | undefined,
    open: (crypto: RowCrypto, page: SealedPageRow[]) => Promise<T>,
  ): AsyncGenerator<{ page: SealedPageRow[]; opened: T }> {
    const crypto = this.#rowCrypto();
    let cursor = after;
    const opening: { page: SealedPageRow[]; opened: Promise<T> }[] = [];
    const oldest = async () => {
      const { page, opened } = opening.shift()!;
      return { page, opened: await opened };
    };
    for (;;) {
      this.#assertNotAborted();
      const page = upTo === undefined
        ? await this.#inner.sealedTuplesSoFar!(table, cursor, OPEN_PAGE)
        : await this.#inner.sealedTuples!(table, cursor, upTo, OPEN_PAGE);
      if (page.length > 0) {
        const opened = open(crypto, page);
        opened.catch(() => {}); // awaited when handed over, after the pages before it
        opening.push({ page, opened });
      }
      if (page.length < OPEN_PAGE) {
        while (opening.length > 0) yield await oldest();
        return;
      }
      if (opening.length >= crypto.workers) yield await oldest();
      cursor = cursorAt(page[page.length - 1]);
    }
  }

  #rowCrypto(): RowCrypto {
    this.#crypto ??= new RowCrypto(this.#key!, this.#cloudId!);
    return this.#crypto;
  }

  #open(table: string, rows: Row[]): Row[] {
    return rows.map((r) => openRow(this.#key!, this.#cloudId!, table, r));
  }

  #seal(rows: PushRow[]): PushRow[] {
    return rows.map(({ table, row }) => ({
      table,
      row: sealRow(this.#key!, this.#cloudId!, table, row),
    }));
  }

  async changes(table: string, after: Cursor, upTo: number, limit: number): Promise<Row[]> {
    if (!this.#sealed) return await this.#inner.changes(table, after, upTo, limit);
    return this.#open(table, await this.#inner.sealedChanges(table, after, upTo, limit));
  }

  async push(rows: PushRow[], watermark: number, deviceId: string): Promise<PushResult> {
    if (!this.#sealed) return await this.#inner.push(rows, watermark, deviceId);
    return await this.#inner.pushSealed(this.#seal(rows), watermark, deviceId);
  }

  /** Plain clouds take SQLite's encoding as it is; sealed rows are built one by one. */
  pushEncoded(
    chunk: EncodedChunk,
    watermark: number,
    deviceId: string,
  ): Promise<{ applied: Set<string>; seq: number }> {
    return this.preparePushEncoded(chunk, watermark, deviceId)();
  }

  /** pushEncoded(), the rows sealed now and sent when the answer is called. */
  preparePushEncoded(
    chunk: EncodedChunk,
    watermark: number,
    deviceId: string,
  ): () => Promise<{ applied: Set<string>; seq: number }> {
    if (!this.#sealed && this.#inner.pushEncoded) {
      return () => this.#inner.pushEncoded!(chunk, watermark, deviceId);
    }
    if (!this.#sealed) {
      const rows = this.#rowsOf(chunk);
      return async () => this.#appliedIds(rows, await this.push(rows, watermark, deviceId));
    }
    if (chunk.form === "sealable") {
      // Sealed on the row worker while the previous chunk is on its way.
      const sealing = this.#rowCrypto().seal(chunk.table, chunk.rowsJson);
      sealing.catch(() => {}); // awaited when the chunk is sent
      return async () => {
        const sealed = await sealing;
        if (this.#inner.pushSealedJson) {
          return await this.#inner.pushSealedJson(chunk.table, sealed, watermark, deviceId);
        }
        const rows = (JSON.parse(sealed.rowsJson) as [string, string, string | null, string][])
          .map(([id, version, _fv, data]) => ({
            table: chunk.table,
            row: { id, version, _fv, data },
          }));
        return this.#appliedIds(rows, await this.#inner.pushSealed(rows, watermark, deviceId));
      };
    }
    const rows = this.#rowsOf(chunk);
    const sealed = this.#seal(rows);
    return async () =>
      this.#appliedIds(rows, await this.#inner.pushSealed(sealed, watermark, deviceId));
  }

  /** A sealed cloud has SQLite encode each pushed row's payload as one text (sealChunk). */
  encodedRowSql(table: string, columns: string[]): string | undefined {
    return this.#sealed ? sealableRowSql(table, columns) : undefined;
  }

  #rowsOf(chunk: EncodedChunk): PushRow[] {
    const values = JSON.parse(chunk.rowsJson) as unknown[][];
    return values.map((v) => ({
      table: chunk.table,
      row: Object.fromEntries(chunk.columns.map((c, i) => [c, v[i]])) as Row,
    }));
  }

  #appliedIds(rows: PushRow[], result: PushResult): { applied: Set<string>; seq: number } {
    const applied = new Set<string>();
    rows.forEach(({ row }, i) => {
      if (result.applied[i]) applied.add(String(row.id));
    });
    return { applied, seq: result.seq };
  }

  async versions(table: string, afterId: string, limit: number): Promise<RowVersion[]> {
    await this.#ready();
    if (!this.#sealed) return await this.#inner.versions(table, afterId, limit);
    return await this.#inner.sealedVersions(table, afterId, limit);
  }

  async quickChanges(tables: string[], after: number): Promise<QuickChanges | null> {
    if (!this.#sealed) return await this.#inner.quickChanges?.(tables, after) ?? null;
    const quick = await this.#inner.sealedQuickChanges(tables, after);
    if (!quick) return null;
    const rows = new Map<string, Row[]>();
    for (const [table, sealed] of quick.rows) rows.set(table, this.#open(table, sealed));
    return { seq: quick.seq, rows };
  }

  replicaFile(): string | undefined {
    if (!this.#sealed) return this.#inner.replicaFile?.();
    return this.#openedReady ? this.#openedPath : undefined;
  }

  #directory(): DeviceDirectory & PrunableDirectory {
    const inner = this.#inner;
    if (!inner.readDevices || !inner.recordDevice || !inner.deleteDevice) {
      throw new Error("This cloud keeps no device directory");
    }
    return inner as DeviceDirectory & PrunableDirectory;
  }

  #openNames(devices: DeviceRecord[]): DeviceRecord[] {
    if (!this.#sealed) return devices;
    return devices.map((d) => ({
      ...d,
      name: openText(this.#key!, this.#cloudId!, `device:${d.id}`, d.name),
    }));
  }

  async readDevices(): Promise<DeviceReading> {
    await this.#ready();
    const reading = await this.#directory().readDevices();
    return { ...reading, devices: this.#openNames(reading.devices) };
  }

  async recordDevice(device: DeviceEntry): Promise<DeviceRecord[]> {
    await this.#ready();
    const name = this.#sealed
      ? sealText(this.#key!, this.#cloudId!, `device:${device.id}`, device.name)
      : device.name;
    return this.#openNames(await this.#directory().recordDevice({ ...device, name }));
  }

  async deleteDevice(id: string): Promise<DeviceRecord[]> {
    await this.#ready();
    return this.#openNames(await this.#directory().deleteDevice(id));
  }

  close(): void | Promise<void> {
    this.#crypto?.close();
    this.#crypto = undefined;
    this.#opened?.close();
    this.#opened = undefined;
    return this.#inner.close();
  }
}
