/**
 * One sync, as the algorithm reads: pull the cloud's changes and merge them
 * field by field (losing values go to the conflict log), repair what the
 * merge left (orphans, same-name stakeholders, rows where the cloud is
 * behind), then push the outbox. A push the cloud refused in part (a row
 * changed there meanwhile) goes round again, so one `sync now` normally ends
 * converged. Every step is safe to replay after a crash: the watermark moves
 * only after a merge is written, and an outbox entry leaves only once the
 * cloud has the row.
 *
 *   pull.ts          the cloud's changes since the watermark (replica or quick request)
 *   merge.ts         per-field decisions, conflicts, lost values
 *   conflict_log.ts  where lost values are kept
 *   repair_rows.ts   orphans, the cloud behind
 *   push.ts          the outbox up, in chunks
 *   outbox.ts        what this device changed that the cloud lacks
 *   synced.ts        the synced tables
 */
import type { Store } from "../db/store.ts";
import type { CloudStore } from "./cloud_store.ts";
import type { ConflictRecord } from "./conflict_log.ts";
import { pull } from "./pull.ts";
import { push } from "./push.ts";
import type { SyncHooks } from "./synced.ts";

/** Pull+push rounds at most, while the cloud keeps refusing rows changed meanwhile. */
const MAX_ROUNDS = 3;

export interface SyncStats {
  pushed: number;
  pulled: number;
  conflicts: ConflictRecord[];
}

/**
 * One full sync. Repeats pull+push while the cloud rejected rows that changed
 * concurrently, so a single `sync now` normally ends converged.
 */
export async function syncOnce(
  store: Store,
  cloud: CloudStore,
  hooks: SyncHooks = {},
): Promise<SyncStats> {
  const stats: SyncStats = { pushed: 0, pulled: 0, conflicts: [] };
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const pulled = await pull(store, cloud, hooks);
    stats.pulled += pulled.pulled;
    stats.conflicts.push(...pulled.conflicts);
    const pushed = await push(store, cloud, hooks);
    stats.pushed += pushed.pushed;
    if (pushed.rejected === 0) break;
  }
  return stats;
}
