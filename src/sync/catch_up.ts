/**
 * The network part of a read command's catch-up (see freshness.ts): one
 * quick pull request under a hard time limit, merged like a sync's own.
 */
import type { AppContext } from "../app/context.ts";
import { LATEST_SCHEMA_VERSION } from "../db/migrations.ts";
import type { Store } from "../db/store.ts";
import { resolveSyncConfig } from "./config.ts";
import { mergeQuick } from "./pull.ts";
import { SYNCED } from "./synced.ts";
import { LibsqlCloud } from "./libsql_cloud.ts";
import { EncryptingCloud } from "./encrypting_cloud.ts";
import { findSyncKey } from "./e2e_keys.ts";
import type { DataKey } from "./e2e_key.ts";
import { acquireSyncLock, type SyncLock } from "./lock.ts";
import { readSyncState } from "./state.ts";
import { recordQuickPull } from "./view_stamp.ts";

/**
 * "fresh": the view is current and nothing waits to go out; "busy": a sync
 * is running right now (it brings the view); "background": a background
 * sync must finish the job (no time left, a large change, queued changes,
 * or a cloud that is not the one this device knows: the sync says why).
 */
export type CatchUpResult = "fresh" | "busy" | "background";

async function withinBudget<T>(work: Promise<T>, deadline: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - performance.now()));
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

export async function catchUp(
  ctx: AppContext,
  store: Store,
  budgetMs: number,
): Promise<CatchUpResult> {
  const deadline = performance.now() + budgetMs;
  // The token may sit in a keyring that answers slowly: it counts against the budget.
  const lookup = resolveSyncConfig(ctx);
  lookup.catch(() => {});
  const config = await withinBudget(lookup, deadline);
  if (!config?.token || !config.url) return "background";
  // An encrypted cloud needs this device's key (a keyring call, within the budget too).
  let key: DataKey | undefined;
  if ((await readSyncState(store)).encryption) {
    const found = findSyncKey(ctx);
    found.catch(() => {});
    key = (await withinBudget(found, deadline).catch(() => undefined))?.key;
    if (!key) return "background";
  }
  let lock: SyncLock;
  try {
    lock = await acquireSyncLock(ctx.paths.syncLock, 0);
  } catch {
    return "busy";
  }
  const remaining = Math.round(deadline - performance.now());
  const cloud = remaining > 0
    ? new EncryptingCloud(
      new LibsqlCloud({
        url: config.url,
        token: config.token,
        probeTimeoutMs: remaining,
        requestTimeoutMs: remaining,
      }),
      key,
    )
    : undefined;
  try {
    const state = await readSyncState(store);
    // Never synced here: the sync's first pull fills the replica (cloud/) too.
    if (!cloud || !state.cloudId) return "background";
    const tables = SYNCED.map((t) => t.table);
    const info = await cloud.info({ tables, after: state.watermark });
    // Another database, or a schema to upgrade: the sync handles (or refuses) it.
    if (info.cloudId !== state.cloudId || info.schemaVersion !== LATEST_SCHEMA_VERSION) {
      return "background";
    }
    const quick = await cloud.quickChanges(tables, state.watermark);
    if (!quick) return "background";
    await mergeQuick(store, quick, state.watermark);
    const at = ctx.clock.now().toISOString();
    await recordQuickPull(ctx, store, at);
    // Changes queued here (or conflicts the merge logged) still go out.
    const queued = await store.one("SELECT 1 AS queued FROM _sync_outbox LIMIT 1");
    return queued ? "background" : "fresh";
  } catch {
    return "background";
  } finally {
    await cloud?.close();
    await lock.release();
  }
}
