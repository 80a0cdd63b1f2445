import type { Client, InArgs } from "@libsql/client";
import { JdoError } from "../errors.ts";
import { formatVersion, type HlcState, newDeviceId, observe, tick } from "./hlc.ts";
import { bulkRowsJson, bulkUpsertSql } from "./bulk.ts";
import { type Executor, inTransaction, queryOne, queryRows } from "./database.ts";
import { columnsOf, ENTITIES, type EntityDef, q, type Row } from "./schema.ts";

/** Wall time, injectable so tests can run a device with a skewed clock. */
export interface WallClock {
  now(): Date;
}

export const systemClock: WallClock = { now: () => new Date() };

export function offsetClock(offsetMs: number): WallClock {
  return { now: () => new Date(Date.now() + offsetMs) };
}

const BULK_CHUNK = 500;

/** Outbox key for conflict-log rows, which sync like domain rows. */
export const CONFLICT_ENTITY = "conflict";

/**
 * The only write path to the working database: every write runs in one
 * IMMEDIATE transaction that stamps a hybrid-logical-clock version on each
 * changed row and records it in the sync outbox.
 */
export class Store {
  #wrote = false;
  #queue: Promise<unknown> = Promise.resolve();
  /** The open write transaction: reads meanwhile run on it (the client has one connection). */
  #active?: Executor;

  constructor(readonly client: Client, readonly clock: WallClock) {}

  /** Whether this process committed any write (drives automatic sync). */
  get wrote(): boolean {
    return this.#wrote;
  }

  query(sql: string, args: InArgs = []): Promise<Row[]> {
    return queryRows(this.#active ?? this.client, sql, args);
  }

  one(sql: string, args: InArgs = []): Promise<Row | undefined> {
    return queryOne(this.#active ?? this.client, sql, args);
  }

  async deviceId(): Promise<string> {
    const row = await this.one(
      "SELECT value FROM _sync_state WHERE key = 'device_id'",
    );
    if (row?.value) return String(row.value);
    return await this.write((w) => Promise.resolve(w.deviceId));
  }

  /**
   * Runs `fn` in one write transaction. Writes of this process are queued so
   * they never overlap on the one connection. `foreignKeys: false` is for
   * merging remote rows, whose order across pages is the cloud's.
   */
  write<T>(
    fn: (w: Writer) => Promise<T>,
    options: { foreignKeys?: boolean; attach?: { path: string; as: string } } = {},
  ): Promise<T> {
    const run = async () => {
      const fkOff = options.foreignKeys === false;
      if (fkOff) await this.client.execute("PRAGMA foreign_keys = OFF");
      // ATTACH cannot run inside a transaction: it brackets it.
      if (options.attach) {
        await this.client.execute({
          sql: `ATTACH DATABASE ? AS ${options.attach.as}`,
          args: [`file:${options.attach.path}?mode=ro`],
        });
      }
      try {
        const writer = await inTransaction(this.client, async (tx) => {
          this.#active = tx;
          try {
            const w = await Writer.open(tx, this.clock);
            w.result = await fn(w);
            await w.saveClock();
            return w;
          } finally {
            this.#active = undefined;
          }
        });
        this.#wrote ||= writer.changed;
        return writer.result as T;
      } finally {
        if (options.attach) await this.client.execute(`DETACH DATABASE ${options.attach.as}`);
        if (fkOff) await this.client.execute("PRAGMA foreign_keys = ON");
      }
    };
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => {});
    return next;
  }
}

export class Writer {
  changed = false;
  /** What the write function returned (kept here while committing). */
  result: unknown;
  #state: HlcState;

  private constructor(
    readonly tx: Executor,
    readonly deviceId: string,
    state: HlcState,
    readonly clock: WallClock,
  ) {
    this.#state = state;
  }

  static async open(tx: Executor, clock: WallClock): Promise<Writer> {
    const rows = await queryRows(
      tx,
      "SELECT key, value FROM _sync_state WHERE key IN ('device_id','hlc_ms','hlc_counter')",
    );
    const state = new Map(rows.map((r) => [String(r.key), String(r.value)]));
    let deviceId = state.get("device_id");
    if (!deviceId) {
      deviceId = newDeviceId();
      await tx.execute({
        sql: "INSERT INTO _sync_state (key, value) VALUES ('device_id', ?)",
        args: [deviceId],
      });
    }
    return new Writer(tx, deviceId, {
      ms: Number(state.get("hlc_ms") ?? 0),
      counter: Number(state.get("hlc_counter") ?? 0),
    }, clock);
  }

  get hlc(): HlcState {
    return this.#state;
  }

  nowIso(): string {
    return this.clock.now().toISOString();
  }

  nextVersion(): string {
    this.#state = tick(this.#state, this.clock.now().getTime());
    return formatVersion(this.#state, this.deviceId);
  }

  /** Advances the clock past a version seen from another device. */
  observe(version: string): void {
    this.#state = observe(this.#state, version);
  }

  async saveClock(): Promise<void> {
    await this.tx.execute({
      sql: `INSERT INTO _sync_state (key, value) VALUES ('hlc_ms', ?), ('hlc_counter', ?)
            ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
      args: [String(this.#state.ms), String(this.#state.counter)],
    });
  }

  query(sql: string, args: InArgs = []): Promise<Row[]> {
    return queryRows(this.tx, sql, args);
  }

  one(sql: string, args: InArgs = []): Promise<Row | undefined> {
    return queryOne(this.tx, sql, args);
  }

  async enqueue(entityName: string, id: string, version: string) {
    await this.tx.execute({
      sql: `INSERT INTO _sync_outbox (entity, id, version) VALUES (?, ?, ?)
            ON CONFLICT(entity, id) DO UPDATE SET version = excluded.version`,
      args: [entityName, id, version],
    });
  }

  /** Inserts a new row (id generated unless given) and returns it as stored. */
  async insert(def: EntityDef, fields: Row): Promise<Row> {
    return (await this.insertMany(def, [fields]))[0];
  }

  /**
   * Inserts new rows with one statement per 500 rows (ids generated unless
   * given), queues them for sync, and returns them as stored.
   */
  async insertMany(def: EntityDef, list: Row[]): Promise<Row[]> {
    const now = this.nowIso();
    const columns = columnsOf(def);
    const rows = list.map((fields) => {
      const row: Row = {};
      for (const column of columns) row[column] = fields[column] ?? null;
      row.id = (fields.id as string | undefined) ?? crypto.randomUUID();
      row.created_at = (fields.created_at as string | undefined) ?? now;
      row.updated_at = now;
      row.version = this.nextVersion();
      row.deleted_at = null;
      return row;
    });
    for (let i = 0; i < rows.length; i += BULK_CHUNK) {
      const chunk = rows.slice(i, i + BULK_CHUNK);
      await this.tx.execute({
        sql: bulkUpsertSql({ table: def.table, columns, onConflict: "error" }),
        args: [bulkRowsJson(columns, chunk)],
      });
      await this.tx.execute({
        sql: `INSERT INTO _sync_outbox (entity, id, version)
              SELECT ?, json_extract(value, '$[0]'), json_extract(value, '$[1]')
              FROM json_each(?) WHERE true
              ON CONFLICT(entity, id) DO UPDATE SET version = excluded.version`,
        args: [def.name, JSON.stringify(chunk.map((r) => [r.id, r.version]))],
      });
    }
    if (rows.length > 0) this.changed = true;
    return rows;
  }

  /** Changes some columns of a live row, bumping its version. */
  async update(def: EntityDef, id: string, patch: Row): Promise<Row> {
    const assignments = Object.keys(patch).filter((c) =>
      !["id", "created_at", "version", "updated_at"].includes(c)
    );
    const version = this.nextVersion();
    const sets = [...assignments.map((c) => `${q(c)} = ?`), "updated_at = ?", "version = ?"];
    const result = await this.tx.execute({
      sql: `UPDATE ${def.table} SET ${sets.join(", ")} WHERE id = ? AND deleted_at IS NULL`,
      args: [...assignments.map((c) => patch[c]), this.nowIso(), version, id],
    });
    if (result.rowsAffected === 0) {
      throw new JdoError("NOT_FOUND", `No ${def.name} with id ${id}`);
    }
    await this.enqueue(def.name, id, version);
    this.changed = true;
    const row = await this.one(`SELECT * FROM ${def.table} WHERE id = ?`, [id]);
    return row as Row;
  }

  /**
   * Deletes a row as a tombstone, then applies each child link's rule:
   * cascade tombstones children, nullify clears the link, restrict refuses.
   * Returns how many rows were tombstoned.
   */
  async tombstone(def: EntityDef, id: string): Promise<number> {
    let count = 0;
    for (const child of ENTITIES) {
      for (const link of child.parents.filter((p) => p.entity === def.name)) {
        const rows = await this.query(
          `SELECT id FROM ${child.table} WHERE ${
            q(link.column)
          } = ? AND deleted_at IS NULL AND id <> ?`,
          [id, id],
        );
        if (rows.length === 0) continue;
        if (link.onDelete === "restrict") {
          throw new JdoError(
            "INVALID_INPUT",
            `Cannot delete this ${def.name}: ${rows.length} ${
              rows.length === 1 ? `${child.name} still refers` : `${child.plural} still refer`
            } to it (delete or reassign them first)`,
          );
        }
        for (const r of rows) {
          if (link.onDelete === "cascade") {
            count += await this.tombstone(child, String(r.id));
          } else {
            await this.update(child, String(r.id), { [link.column]: null });
          }
        }
      }
    }
    const version = this.nextVersion();
    const now = this.nowIso();
    const result = await this.tx.execute({
      sql:
        `UPDATE ${def.table} SET deleted_at = ?, updated_at = ?, version = ? WHERE id = ? AND deleted_at IS NULL`,
      args: [now, now, version, id],
    });
    if (result.rowsAffected > 0) {
      await this.enqueue(def.name, id, version);
      this.changed = true;
      count += 1;
    }
    return count;
  }
}
