import type { Client, InArgs } from "@libsql/client";
import { JdoError } from "../errors.ts";
import { formatVersion, type HlcState, newDeviceId, observe, tick } from "./hlc.ts";
import { bulkRowsJson, bulkUpsertSql } from "./bulk.ts";
import { type Executor, inTransaction, queryOne, queryRows } from "./database.ts";
import {
  type ArrayReader,
  arrayReaderOf,
  executorCursor,
  type RowCursor,
  withReadTransaction,
  withRowCursor,
} from "./row_cursor.ts";
import {
  columnsOf,
  DELETED_GROUP,
  ENTITIES,
  type EntityDef,
  FIELD_VERSIONS,
  type FieldGroup,
  groupsOf,
  q,
  type Row,
} from "./schema.ts";
import { authorOf, type FieldVersions, parseFieldVersions } from "./field_versions.ts";

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
  /** A long read running on this connection (node:sqlite), see `reading`. */
  #reading?: RowCursor;

  /**
   * `path` is the database file `client` has open (long reads on libSQL open
   * their own connection to it).
   */
  constructor(
    readonly client: Client,
    readonly clock: WallClock,
    readonly path: string,
  ) {}

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

  /**
   * Long reads (`list`, `export`): `fn` reads through a cursor whose
   * statements step as pages are asked for, all in one snapshot. Inside a
   * write, the reads run on the write's transaction instead (they must see
   * its rows), each statement's rows read at once.
   *
   * On node:sqlite, whose cursors read each statement whole anyway
   * (row_cursor.ts), a connection of its own gains nothing: the read runs on
   * this one, in one read transaction, which saves opening the file again and
   * parsing its schema again (~1 ms of `jdo list`). A write cannot start
   * while such a read is open (it would end the snapshot); reads inside it
   * (the short-id index, counts) see the same snapshot.
   */
  reading<T>(fn: (cursor: RowCursor) => Promise<T>): Promise<T> {
    const active = this.#active;
    if (active) return fn(executorCursor(active));
    if (this.#reading) return fn(this.#reading);
    const reader = arrayReaderOf(this.client);
    return reader ? this.#readHere(reader, fn) : withRowCursor(this.path, fn);
  }

  #readHere<T>(reader: ArrayReader, fn: (cursor: RowCursor) => Promise<T>): Promise<T> {
    return withReadTransaction(reader, this.path, async (cursor) => {
      this.#reading = cursor;
      try {
        return await fn(cursor);
      } finally {
        this.#reading = undefined;
      }
    });
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
      if (this.#reading) {
        throw new JdoError("INTERNAL", "A write cannot start inside a long read on one connection");
      }
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

  /**
   * Queues a row for the next push. `edited` names the groups this write
   * changed with the versions they had before it: the first such base of a
   * group stays until the row is pushed (a remote version other than it is a
   * concurrent edit of that field). A queue entry of unknown base (written
   * before per-field versions) stays unknown.
   */
  async enqueue(
    entityName: string,
    id: string,
    version: string,
    edited: Record<string, string> = {},
  ) {
    await this.tx.execute({
      sql: `INSERT INTO _sync_outbox (entity, id, version, base) VALUES (?, ?, ?, ?)
            ON CONFLICT(entity, id) DO UPDATE SET version = excluded.version,
              base = CASE WHEN base IS NULL THEN NULL ELSE json_patch(excluded.base, base) END`,
      args: [entityName, id, version, JSON.stringify(edited)],
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
      row[FIELD_VERSIONS] = JSON.stringify(
        Object.fromEntries(groupsOf(def).map((g) => [g.name, row.version])),
      );
      return row;
    });
    // A new row's every group is a local edit on no base: the same id made
    // elsewhere with other values (an import on two devices) is a conflict.
    const base = JSON.stringify(Object.fromEntries(groupsOf(def).map((g) => [g.name, ""])));
    for (let i = 0; i < rows.length; i += BULK_CHUNK) {
      const chunk = rows.slice(i, i + BULK_CHUNK);
      await this.tx.execute({
        sql: bulkUpsertSql({ table: def.table, columns, onConflict: "error" }),
        args: [bulkRowsJson(columns, chunk)],
      });
      await this.tx.execute({
        sql: `INSERT INTO _sync_outbox (entity, id, version, base)
              SELECT ?, json_extract(value, '$[0]'), json_extract(value, '$[1]'), ?
              FROM json_each(?) WHERE true
              ON CONFLICT(entity, id) DO UPDATE SET version = excluded.version`,
        args: [def.name, base, JSON.stringify(chunk.map((r) => [r.id, r.version]))],
      });
    }
    if (rows.length > 0) this.changed = true;
    return rows;
  }

  /**
   * Inserts rows that every device making them makes identically (recurring
   * instances): each row comes complete with its timestamps and its version,
   * which every group takes. They are queued for sync as edits of no group,
   * so meeting the same row from elsewhere is no conflict.
   */
  async insertGenerated(def: EntityDef, list: Row[]): Promise<Row[]> {
    const columns = columnsOf(def);
    const rows = list.map((fields) => {
      const row: Row = {};
      for (const column of columns) row[column] = fields[column] ?? null;
      row[FIELD_VERSIONS] = JSON.stringify(
        Object.fromEntries(groupsOf(def).map((g) => [g.name, row.version])),
      );
      return row;
    });
    await this.tx.execute({
      sql: bulkUpsertSql({ table: def.table, columns, onConflict: "error" }),
      args: [bulkRowsJson(columns, rows)],
    });
    for (const r of rows) await this.enqueue(def.name, String(r.id), String(r.version), {});
    if (rows.length > 0) this.changed = true;
    return rows;
  }

  /**
   * Changes some columns of a live row. Only the groups whose values really
   * change get the new version (an edit of the notes leaves the due date's
   * version alone, so a concurrent change of the due date elsewhere
   * survives); a patch that changes nothing writes nothing.
   */
  async update(def: EntityDef, id: string, patch: Row): Promise<Row> {
    const current = await this.one(`SELECT * FROM ${def.table} WHERE id = ?`, [id]);
    if (!current) throw new JdoError("NOT_FOUND", `No ${def.name} with id ${id}`);
    if (current.deleted_at !== null) throw deletedError(def, current, this.deviceId);
    return await this.#stamp(def, current, patch);
  }

  /**
   * Brings a tombstoned row back (restoring a conflict that lost to a
   * delete), optionally with changed fields, as one new versioned write.
   */
  async undelete(def: EntityDef, id: string, patch: Row = {}): Promise<Row> {
    const current = await this.one(`SELECT * FROM ${def.table} WHERE id = ?`, [id]);
    if (!current) throw new JdoError("NOT_FOUND", `No ${def.name} with id ${id}`);
    return await this.#stamp(def, current, { ...patch, [DELETED_GROUP]: null });
  }

  /** Writes the changed columns of `patch`, stamping their groups with one new version. */
  async #stamp(def: EntityDef, current: Row, patch: Row): Promise<Row> {
    const id = String(current.id);
    const changed = new Map<string, FieldGroup>();
    const columns = Object.keys(patch).filter((c) => {
      const group = groupsOf(def).find((g) => g.columns.includes(c));
      if (!group || sameValue(current[c], patch[c])) return false;
      changed.set(group.name, group);
      return true;
    });
    if (changed.size === 0) return current;
    const version = this.nextVersion();
    const before = parseFieldVersions(current[FIELD_VERSIONS], groupsOf(def), current.version);
    const after: FieldVersions = { ...before };
    const edited: Record<string, string> = {};
    for (const name of changed.keys()) {
      after[name] = version;
      edited[name] = before[name] ?? "";
    }
    const now = this.nowIso();
    const sets = [...columns.map((c) => `${q(c)} = ?`), "updated_at = ?", "version = ?", "_fv = ?"];
    await this.tx.execute({
      sql: `UPDATE ${def.table} SET ${sets.join(", ")} WHERE id = ?`,
      args: [...columns.map((c) => patch[c]), now, version, JSON.stringify(after), id],
    });
    await this.enqueue(def.name, id, version, edited);
    this.changed = true;
    return (await this.one(`SELECT * FROM ${def.table} WHERE id = ?`, [id])) as Row;
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
    const current = await this.one(
      `SELECT * FROM ${def.table} WHERE id = ? AND deleted_at IS NULL`,
      [id],
    );
    if (current) {
      await this.#stamp(def, current, { [DELETED_GROUP]: this.nowIso() });
      count += 1;
    }
    return count;
  }

  /**
   * Brings a tombstoned row back to life with the given field values (an
   * ordinary versioned write, so the undelete syncs). Returns whether a
   * deleted row was found.
   */
  async restore(def: EntityDef, id: string, fields: Row): Promise<boolean> {
    const row = await this.one(
      `SELECT id FROM ${def.table} WHERE id = ? AND deleted_at IS NOT NULL`,
      [id],
    );
    if (!row) return false;
    const patch: Row = {};
    for (const f of def.fields) if (f.name in fields) patch[f.name] = fields[f.name];
    await this.undelete(def, id, patch);
    return true;
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  const norm = (v: unknown) => (v === undefined ? null : typeof v === "boolean" ? Number(v) : v);
  return norm(a) === norm(b);
}

/**
 * The error for an edit of a row that is a tombstone here: deleted by this
 * device, or (the case users meet) by another one whose delete was synced.
 */
export function deletedError(def: EntityDef, row: Row, deviceId: string): JdoError {
  const versions = parseFieldVersions(row[FIELD_VERSIONS], groupsOf(def), row.version);
  const by = authorOf(versions[DELETED_GROUP] ?? String(row.version));
  const where = by && by !== deviceId ? " on another device" : "";
  return new JdoError(
    "NOT_FOUND",
    `${def.name[0].toUpperCase()}${def.name.slice(1)} ${
      String(row.id).slice(0, 8)
    } was deleted${where} ` +
      `on ${String(row.deleted_at).slice(0, 10)}`,
    where
      ? { hint: "An edit that lost to the delete can be brought back: jdo sync conflicts" }
      : undefined,
  );
}
