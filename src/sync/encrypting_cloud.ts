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
import type { Row } from "../db/schema.ts";
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

type Inner = SealedRowStore & Partial<DeviceDirectory & PrunableDirectory> & { host?: string };

export type EncryptionMode = "e2e" | "off";

export class EncryptingCloud implements CloudStore, DeviceDirectory, PrunableDirectory {
  readonly host?: string;
  #inner: Inner;
  #key?: DataKey;
  #mode?: EncryptionMode;
  #cloudId: string | null = null;
  #keyId: string | null = null;

  constructor(inner: Inner, key: DataKey | undefined) {
    this.#inner = inner;
    this.#key = key;
    this.host = inner.host;
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
    return this.#inner.snapshot();
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
  async pushEncoded(
    chunk: EncodedChunk,
    watermark: number,
    deviceId: string,
  ): Promise<{ applied: Set<string>; seq: number }> {
    if (!this.#sealed && this.#inner.pushEncoded) {
      return await this.#inner.pushEncoded(chunk, watermark, deviceId);
    }
    const values = JSON.parse(chunk.rowsJson) as unknown[][];
    const rows: PushRow[] = values.map((v) => ({
      table: chunk.table,
      row: Object.fromEntries(chunk.columns.map((c, i) => [c, v[i]])) as Row,
    }));
    const result = await this.push(rows, watermark, deviceId);
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
    return this.#sealed ? undefined : this.#inner.replicaFile?.();
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
    return this.#inner.close();
  }
}
