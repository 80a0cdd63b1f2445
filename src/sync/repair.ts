/**
 * `jdo sync repair`: rebuilds what sync keeps on the side (the lock, the
 * embedded replica, the watermark), then checks every local row against the
 * cloud by id and per-field versions, page by page, and sends or fetches what differs.
 * It never deletes a row: every write goes through the engine's usual
 * version-guarded merge and push.
 */
import type { AppContext } from "../app/context.ts";
import type { Store } from "../db/store.ts";
import { JdoError } from "../errors.ts";
import type { CloudStore } from "./cloud_store.ts";
import { compareWithCloud } from "./cloud_compare.ts";
import { displayUrl } from "./config.ts";
import { syncOnce } from "./engine.ts";
import { pull } from "./pull.ts";
import type { SyncHooks } from "./synced.ts";
import { acquireSyncLock, inspectSyncLock } from "./lock.ts";
import { appendLog } from "./log.ts";
import { openCloud, prepareCloud, recordDevice, requireEnabled } from "./service.ts";
import { writeSyncState } from "./state.ts";
import { recordSyncFailure, recordSyncSuccess } from "./view_stamp.ts";

export type Rebuilt = "lock" | "replica" | "watermark";

export interface RepairReport {
  ok: boolean;
  /** Local rows the cloud was behind on or did not have, queued for the push. */
  requeued: number;
  /** Rows the cloud was ahead on (or only the cloud had), merged in. */
  pulled: number;
  pushed: number;
  /** Rows on both sides with the same version. */
  equal: number;
  conflicts: number;
  rebuilt: Rebuilt[];
  duration_ms: number;
  error?: string;
  error_code?: string;
}

/**
 * The repair itself, on a store and a cloud whose lock and replica are
 * already taken care of:
 * 1. the row-by-row comparison with the cloud's snapshot queues every local
 *    row the cloud is behind on or lacks;
 * 2. an ordinary sync pushes them (with the old watermark: an edit the
 *    cloud changed after it is still told apart as a concurrent one);
 * 3. watermark 0 and a full pull merge everything the cloud has (the merge
 *    is version-guarded and idempotent), now with nothing queued, so no
 *    settled row is mistaken for a conflict;
 * 4. a last sync pushes what the pull queued (and pulls what arrived).
 */
export async function repairStore(
  store: Store,
  cloud: CloudStore,
  hooks: SyncHooks = {},
): Promise<Omit<RepairReport, "ok" | "rebuilt" | "duration_ms">> {
  await cloud.snapshot();
  const found = await compareWithCloud(store, cloud);
  const first = await syncOnce(store, cloud, hooks);
  await store.write((w) => writeSyncState(w, { watermark: "0" }));
  const full = await pull(store, cloud, hooks);
  const last = await syncOnce(store, cloud, hooks);
  return {
    requeued: found.requeued,
    pulled: first.pulled + full.pulled + last.pulled,
    pushed: first.pushed + last.pushed,
    equal: found.equal,
    conflicts: first.conflicts.length + full.conflicts.length + last.conflicts.length,
  };
}

/**
 * `jdo sync repair`: refuses while a live sync holds the lock; removes a
 * stale lock; deletes the replica (it is rebuilt from the cloud); then
 * repairStore. The result is recorded like a sync's.
 */
export async function repairSync(
  ctx: AppContext,
  options: { hooks?: SyncHooks } = {},
): Promise<RepairReport> {
  const config = await requireEnabled(ctx);
  const store = await ctx.store();
  const started = performance.now();
  const rebuilt: Rebuilt[] = [];
  const holder = await inspectSyncLock(ctx.paths.syncLock);
  if (holder && !holder.stale) {
    throw new JdoError(
      "SYNC_BUSY",
      `A sync is running${
        holder.pid ? ` (process ${holder.pid})` : ""
      }; run repair again when it has finished`,
    );
  }
  const lock = await acquireSyncLock(ctx.paths.syncLock, 0);
  if (holder) rebuilt.push("lock");
  let cloud: CloudStore | undefined;
  try {
    await Deno.remove(ctx.paths.cloudDir, { recursive: true }).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
    rebuilt.push("replica", "watermark");
    const libsql = openCloud(ctx, config);
    cloud = libsql;
    await prepareCloud(ctx, store, libsql);
    const result = await repairStore(store, libsql, options.hooks);
    const report: RepairReport = {
      ok: true,
      ...result,
      rebuilt,
      duration_ms: Math.round(performance.now() - started),
    };
    // A repair is a full sync: it counts as the last success.
    const at = ctx.clock.now().toISOString();
    await recordSyncSuccess(ctx, store, at);
    await recordDevice(ctx, store, libsql);
    await appendLog(ctx.paths.log, "INFO", [
      `sync repair ok ${displayUrl(config.url!)} rebuilt=${
        rebuilt.join(",")
      } requeued=${report.requeued} pulled=${report.pulled} equal=${report.equal} ${report.duration_ms}ms`,
    ], ctx.io.secrets);
    return report;
  } catch (error) {
    const jdoError = error instanceof JdoError
      ? error
      : new JdoError("SYNC_FAILED", `Repair failed: ${(error as Error).message}`, {
        cause: error,
      });
    await recordSyncFailure(ctx, store, jdoError);
    await appendLog(
      ctx.paths.log,
      "ERROR",
      [`sync repair failed: ${jdoError.code}: ${jdoError.message}`],
      ctx.io.secrets,
    );
    throw jdoError;
  } finally {
    await cloud?.close();
    await lock.release();
  }
}
