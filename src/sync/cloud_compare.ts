/**
 * The local database compared with the cloud row by row, by id and per-field
 * versions, one keyset page of each side at a time: every local row the
 * cloud lacks or is behind on is queued for the push. `sync repair` starts
 * with it; so does the first sync after the cloud's key was rotated (the
 * rotation replaced every sealed row with the rotating device's copy, so a
 * row only this device held goes up again), and the upload of `sync
 * encrypt on|off` and `sync key rotate` (a resumed run sends only what the
 * cloud does not hold yet).
 */
import { parseFieldVersions } from "../db/field_versions.ts";
import type { Store } from "../db/store.ts";
import type { CloudStore, RowVersion } from "./cloud_store.ts";
import { SYNCED } from "./synced.ts";

/** Rows compared per page (one page of each side in memory at a time). */
export const COMPARE_PAGE = 1_000;

export interface Comparison {
  requeued: number;
  /** Rows newer in the cloud or only there (the full pull merges them). */
  ahead: number;
  equal: number;
}

/** Every row of a side in id order, fetched one keyset page at a time. */
async function* keyset(
  page: (afterId: string) => Promise<RowVersion[]>,
  size: number,
): AsyncGenerator<RowVersion> {
  let after = "";
  for (;;) {
    const rows = await page(after);
    yield* rows;
    if (rows.length < size) return;
    after = rows[rows.length - 1].id;
  }
}

/**
 * Compares the local database with the cloud (as of its last snapshot) by id
 * and version, walking both sides in id order one page at a time, and queues
 * every local row the cloud is behind on or lacks.
 */
export async function compareWithCloud(
  store: Store,
  cloud: CloudStore,
  pageSize = COMPARE_PAGE,
): Promise<Comparison> {
  const result: Comparison = { requeued: 0, ahead: 0, equal: 0 };
  for (const t of SYNCED) {
    const localRows = keyset(async (after) =>
      (await store.query(
        `SELECT id, version, _fv FROM ${t.table} WHERE id > ? ORDER BY id LIMIT ?`,
        [after, pageSize],
      )).map((r) => ({
        id: String(r.id),
        version: String(r.version),
        fields: r._fv === null ? null : String(r._fv),
      })), pageSize);
    const cloudRows = keyset((after) => cloud.versions(t.table, after, pageSize), pageSize);
    let queue: RowVersion[] = [];
    // Counts only rows that were not already queued at that version.
    const flush = async () => {
      if (queue.length === 0) return;
      const rows = queue;
      queue = [];
      result.requeued += await store.write(async (w) => {
        let added = 0;
        for (const r of rows) {
          const done = await w.tx.execute({
            sql: `INSERT INTO _sync_outbox (entity, id, version) VALUES (?, ?, ?)
                  ON CONFLICT(entity, id) DO UPDATE SET version = excluded.version
                  WHERE _sync_outbox.version <> excluded.version`,
            args: [t.entity, r.id, r.version],
          });
          added += done.rowsAffected;
        }
        return added;
      });
    };
    let mine = await localRows.next();
    let theirs = await cloudRows.next();
    while (!mine.done || !theirs.done) {
      if (!mine.done && (theirs.done || mine.value.id < theirs.value.id)) {
        queue.push(mine.value); // only here
        mine = await localRows.next();
      } else if (!theirs.done && (mine.done || theirs.value.id < mine.value.id)) {
        result.ahead++; // only in the cloud
        theirs = await cloudRows.next();
      } else {
        const local = mine.value!;
        const remote = theirs.value!;
        // Per field: the same row version can hide a field one side lacks.
        const mineV = parseFieldVersions(local.fields, t.groups, local.version);
        const theirsV = parseFieldVersions(remote.fields, t.groups, remote.version);
        const localNewer = t.groups.some((g) => mineV[g.name] > theirsV[g.name]);
        const cloudNewer = t.groups.some((g) => theirsV[g.name] > mineV[g.name]);
        if (!localNewer && !cloudNewer) result.equal++;
        if (localNewer) queue.push(local);
        if (cloudNewer) result.ahead++;
        mine = await localRows.next();
        theirs = await cloudRows.next();
      }
      if (queue.length >= pageSize) await flush();
    }
    await flush();
  }
  return result;
}
