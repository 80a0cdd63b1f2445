/**
 * Push: the outbox's rows go to the cloud in atomic chunks (plain rows for a
 * few, SQLite-encoded JSON for many); the cloud applies a row only where it
 * is newer, and the entries it accepted leave the outbox.
 */
import { queryRows } from "../db/database.ts";
import { q } from "../db/schema.ts";
import { CONFLICT_ENTITY, type Store } from "../db/store.ts";
import type { CloudStore, EncodedChunk } from "./cloud_store.ts";
import { dropOutboxMany } from "./outbox.ts";
import { readSyncState, writeSyncState } from "./state.ts";
import { SYNCED, type SyncedTable, type SyncHooks } from "./synced.ts";

export const PUSH_CHUNK = 1_000;
/** From this many queued rows of a kind, pushes send chunks SQLite encoded (pushEncoded). */
const ENCODE_PUSH_AT = 100;

/** A chunk of queued rows read from the outbox, ready to go to the cloud. */
interface ReadChunk {
  count: number;
  last: string;
  /** Pushes it; answers the (id, version) the cloud applied and the new seq. */
  send(): Promise<{ accepted: { id: string; version: string }[]; seq: number }>;
}

type ChunkReader = (afterId: string) => Promise<ReadChunk | null>;

/** Chunks of `t` read as row objects (cheap for a few rows). */
function rowChunks(
  store: Store,
  cloud: CloudStore,
  t: SyncedTable,
  watermark: number,
  deviceId: string,
): ChunkReader {
  return async (afterId) => {
    const rows = await queryRows(
      store.client,
      `SELECT t.* FROM _sync_outbox o JOIN ${t.table} t ON t.id = o.id
       WHERE o.entity = ? AND o.id > ? ORDER BY o.id LIMIT ?`,
      [t.entity, afterId, PUSH_CHUNK],
    );
    if (rows.length === 0) return null;
    return {
      count: rows.length,
      last: String(rows[rows.length - 1].id),
      send: async () => {
        const result = await cloud.push(
          rows.map((row) => ({ table: t.table, row })),
          watermark,
          deviceId,
        );
        return {
          accepted: rows.filter((_, i) => result.applied[i])
            .map((r) => ({ id: String(r.id), version: String(r.version) })),
          seq: result.seq,
        };
      },
    };
  };
}

/** Chunks of `t` encoded by SQLite as one JSON string each (no row objects). */
function encodedChunks(
  store: Store,
  cloud: CloudStore,
  t: SyncedTable,
  columns: string[],
  watermark: number,
  deviceId: string,
): ChunkReader {
  // An encrypted cloud has SQLite encode each row as the payload it seals.
  const sealable = cloud.encodedRowSql?.(t.table, columns);
  const rowSql = sealable ?? `json_array(${columns.map((c) => `c.${q(c)}`).join(", ")})`;
  return async (afterId) => {
    const chunk = await store.one(
      `SELECT json_group_array(${rowSql}) AS rows,
              json_group_array(json_array(c.id, c.version)) AS keys, count(*) AS n,
              max(c.id) AS last
       FROM (SELECT t.* FROM _sync_outbox o JOIN ${t.table} t ON t.id = o.id
             WHERE o.entity = ? AND o.id > ? ORDER BY o.id LIMIT ?) c`,
      [t.entity, afterId, PUSH_CHUNK],
    );
    const count = Number(chunk?.n ?? 0);
    if (count === 0) return null;
    const encoded: EncodedChunk = {
      table: t.table,
      columns,
      rowsJson: String(chunk!.rows),
      ...(sealable ? { form: "sealable" as const } : {}),
    };
    // An encrypted cloud seals the rows now, while the previous chunk is on its way.
    const request = cloud.preparePushEncoded?.(encoded, watermark, deviceId) ??
      (() => cloud.pushEncoded!(encoded, watermark, deviceId));
    return {
      count,
      last: String(chunk!.last),
      send: async () => {
        const result = await request();
        const keys: [string, string][] = JSON.parse(String(chunk!.keys));
        return {
          accepted: keys.filter(([id]) => result.applied.has(id))
            .map(([id, version]) => ({ id, version })),
          seq: result.seq,
        };
      },
    };
  };
}

/**
 * Push: send queued rows in atomic chunks; drop the outbox entries the cloud
 * accepted. When every chunk got the next sequence number in turn, no other
 * device wrote in between, so the watermark moves past our own rows and the
 * next pull does not read them back. While one chunk is on its way, the next
 * one is read, so the local and the cloud's work overlap; an entry still
 * leaves the outbox only once the cloud has accepted its row.
 */
export async function push(
  store: Store,
  cloud: CloudStore,
  hooks: SyncHooks,
): Promise<{ pushed: number; rejected: number }> {
  const state = await readSyncState(store);
  const deviceId = await store.deviceId();
  // Queued rows per kind: kinds with nothing queued cost no query at all.
  const queued = new Map(
    (await store.query("SELECT entity, count(*) AS n FROM _sync_outbox GROUP BY entity"))
      .map((r) => [String(r.entity), Number(r.n)]),
  );
  const total = [...queued.values()].reduce((a, b) => a + b, 0);
  let pushed = 0;
  let rejected = 0;
  let done = 0;
  let contiguousSeq: number | null = state.watermark;
  for (const t of SYNCED) {
    if (!queued.get(t.entity)) continue;
    // Many rows: SQLite encodes each chunk itself. A few: plain rows are as cheap.
    const read = cloud.pushEncoded && queued.get(t.entity)! >= ENCODE_PUSH_AT
      ? encodedChunks(
        store,
        cloud,
        t,
        (await store.query(`PRAGMA main.table_info(${t.table})`)).map((c) => String(c.name)),
        state.watermark,
        deviceId,
      )
      : rowChunks(store, cloud, t, state.watermark, deviceId);
    // Each chunk is sent first; while it is on its way, the previous chunk's
    // accepted entries are dropped and the next chunk is read.
    const drop = async (entries: { id: string; version: string }[]) => {
      if (entries.length > 0) await store.write((w) => dropOutboxMany(w, t.entity, entries));
    };
    let chunk = await read("");
    let toDrop: { id: string; version: string }[] = [];
    while (chunk) {
      const sending = chunk.send();
      sending.catch(() => {}); // awaited below, after the local work
      await drop(toDrop);
      const next = chunk.count < PUSH_CHUNK ? null : await read(chunk.last);
      const sent = await sending;
      contiguousSeq = contiguousSeq !== null && sent.seq === contiguousSeq + 1 ? sent.seq : null;
      toDrop = sent.accepted;
      if (t.entity !== CONFLICT_ENTITY) pushed += sent.accepted.length;
      rejected += chunk.count - sent.accepted.length;
      done += chunk.count;
      hooks.onPushProgress?.(done, total);
      chunk = next;
    }
    await drop(toDrop);
  }
  if (rejected === 0 && contiguousSeq !== null && contiguousSeq > state.watermark) {
    const seq = contiguousSeq;
    await store.write((w) => writeSyncState(w, { watermark: String(seq) }));
  }
  return { pushed, rejected };
}
