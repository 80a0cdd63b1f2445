/**
 * The outbox: the rows this device changed that the cloud has not accepted
 * yet (entity, id, the queued version, and per edited field group the
 * version it had before: the base a merge compares with).
 */
import type { Store, Writer } from "../db/store.ts";
import { writeSyncState } from "./state.ts";
import { RESTORE_MARK } from "./restore.ts";
import { SYNCED } from "./synced.ts";

export async function dropOutbox(w: Writer, entityName: string, id: string, version: string) {
  await w.tx.execute({
    sql: "DELETE FROM _sync_outbox WHERE entity = ? AND id = ? AND version = ?",
    args: [entityName, id, version],
  });
}

/** Removes outbox entries whose queued version is the one the cloud accepted. */
export async function dropOutboxMany(
  w: Writer,
  entityName: string,
  rows: { id: string; version: string }[],
): Promise<void> {
  if (rows.length === 0) return;
  await w.tx.execute({
    sql: `DELETE FROM _sync_outbox WHERE entity = ? AND (id, version) IN
          (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))`,
    args: [entityName, JSON.stringify(rows.map((r) => [r.id, r.version]))],
  });
}

/** Queues every row of every synced table (first upload to a new cloud). */
export async function enqueueEverything(store: Store): Promise<void> {
  await store.write(enqueueAll);
}

async function enqueueAll(w: Writer): Promise<void> {
  for (const t of SYNCED) {
    await w.tx.execute({
      sql: `INSERT INTO _sync_outbox (entity, id, version, base)
            SELECT ?, id, version, '{}' FROM ${t.table} WHERE true
            ON CONFLICT(entity, id) DO UPDATE SET version = excluded.version`,
      args: [t.entity],
    });
  }
}

/**
 * Points the working database at another cloud: forget the old watermark and
 * queue every row, so all local data reaches the new cloud and no sequence
 * number of one database is ever compared with another's.
 */
export async function resetForCloud(store: Store, cloudId: string): Promise<void> {
  // One transaction: killed in between, the new cloud id would be recorded
  // with nothing queued, and rows synced to the old cloud would never reach
  // the new one.
  await store.write(async (w) => {
    await writeSyncState(w, { watermark: "0", cloud_id: cloudId, [RESTORE_MARK]: null });
    await enqueueAll(w);
  });
}
