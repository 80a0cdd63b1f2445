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
import type { Client } from "@libsql/client";
import { bulkRowsJson } from "../db/bulk.ts";
import { MIGRATIONS, MIGRATIONS_TABLE, SYNCED_TABLES } from "../db/migrations.ts";
import { q, type Row } from "../db/schema.ts";
import { JdoError } from "../errors.ts";
import type {
  CloudInfo,
  CloudStore,
  Cursor,
  EncodedChunk,
  PushResult,
  PushRow,
  QuickChanges,
  QuickPrefetch,
  RowVersion,
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
  sealRow,
  sealText,
  verifyKey,
} from "./e2e_envelope.ts";
import type { DataKey } from "./e2e_key.ts";

/** Rows read from the replica per step while the opened copy is filled. */
const OPEN_PAGE = 5_000;

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
  #opened?: Client;
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
      this.#keyId = String(JSON.parse(info.encryption).key_id ?? "");
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

  snapshot(): Promise<number> {
    const work = this.#snapshot();
    this.#snapshotWork = work.catch(() => {});
    return work;
  }

  async #snapshot(): Promise<number> {
    const upTo = await this.#inner.snapshot();
    if (this.#mode === "e2e" && this.#openedPath && this.#inner.replicaFile?.()) {
      this.#assertNotAborted();
      await this.#fillOpened(upTo);
    }
    return upTo;
  }

  #assertNotAborted(): void {
    if (this.#aborted) throw new JdoError("CANCELLED", "Interrupted");
  }

  /**
   * Ctrl-C: the store underneath stops its replica, a fill of the opened
   * copy under way stops at its next page (its transaction rolled back) and
   * is waited for, and the opened copy is closed: nothing of this cloud
   * writes in cloud/ once this resolves.
   */
  async abort(): Promise<void> {
    this.#aborted = true;
    await this.#inner.abort?.();
    await this.#snapshotWork;
    this.#opened?.close();
    this.#opened = undefined;
  }

  /**
   * The opened copy: a SQLite file beside the replica holding the cloud's
   * tables with every sealed row opened, filled from the replica up to
   * `upTo` (only what arrived since the last fill). The engine then merges
   * from it set-based, as from a plain replica: a first download is one
   * decryption per row and a few statements, not a merge page by page. It
   * is as private as the working database (the device is trusted) and is
   * removed with cloud/.
   */
  async #fillOpened(upTo: number): Promise<void> {
    const path = this.#openedPath!;
    if (!this.#opened) {
      const { createClient } = await import("@libsql/client");
      this.#assertNotAborted();
      this.#opened = createClient({ url: `file:${path}` });
      const exists = await this.#opened.execute(
        "SELECT count(*) AS n FROM sqlite_master WHERE name = '_jdo_meta'",
      );
      if (Number(exists.rows[0].n) === 0) {
        const statements: string[] = [MIGRATIONS_TABLE];
        for (const m of MIGRATIONS) statements.push(...m.statements("cloud"));
        await this.#opened.batch(statements, "write");
      }
    }
    const client = this.#opened;
    const meta = await client.execute(
      "SELECT key, value FROM _jdo_meta WHERE key IN ('opened_seq', 'opened_cloud')",
    );
    const values = new Map(meta.rows.map((r) => [String(r.key), String(r.value)]));
    let from = Number(values.get("opened_seq") ?? 0);
    if (values.get("opened_cloud") !== undefined && values.get("opened_cloud") !== this.#cloudId) {
      from = 0;
    }
    if (from < upTo) {
      const tx = await client.transaction("write");
      try {
        // A first fill writes every row: the tables' indexes are built once, after.
        const indexes = from > 0 ? [] : (await tx.execute({
          sql: `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
AND tbl_name IN (SELECT value FROM json_each(?))`,
          args: [JSON.stringify(SYNCED_TABLES)],
        })).rows.map((r) => ({ name: String(r.name), sql: String(r.sql) }));
        for (const index of indexes) await tx.execute(`DROP INDEX ${q(index.name)}`);
        for (const t of SYNCED_TABLES) {
          let cursor: Cursor = { seq: from, id: "~" };
          for (;;) {
            this.#assertNotAborted();
            const page = await this.#inner.sealedChanges(t, cursor, upTo, OPEN_PAGE);
            if (page.length === 0) break;
            const rows = this.#open(t, page);
            const columns = Object.keys(rows[0]);
            await tx.execute({
              sql: `INSERT OR REPLACE INTO ${t} (${columns.map(q).join(", ")})
SELECT ${columns.map((_, i) => `json_extract(value, '$[${i}]')`).join(", ")} FROM json_each(?)`,
              args: [bulkRowsJson(columns, rows)],
            });
            const last = page[page.length - 1];
            cursor = { seq: Number(last._seq), id: String(last.id) };
            if (page.length < OPEN_PAGE) break;
          }
        }
        await tx.execute({
          sql: `INSERT OR REPLACE INTO _jdo_meta (key, value)
VALUES ('opened_seq', ?), ('opened_cloud', ?), ('seq', ?)`,
          args: [String(upTo), this.#cloudId, String(upTo)],
        });
        for (const index of indexes) await tx.execute(index.sql);
        await tx.commit();
      } finally {
        tx.close();
      }
    }
    this.#openedReady = true;
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
    const rows = this.#rowsOf(chunk);
    const sealed = this.#seal(rows);
    return async () =>
      this.#appliedIds(rows, await this.#inner.pushSealed(sealed, watermark, deviceId));
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
    this.#opened?.close();
    this.#opened = undefined;
    return this.#inner.close();
  }
}
