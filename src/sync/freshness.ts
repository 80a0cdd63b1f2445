/**
 * Reads that are not stale: before a data command, a device whose view of
 * the cloud is older than FRESH_WINDOW_MS catches up. This module is light
 * (settings and one local query); the network part (catch_up.ts, which loads
 * the cloud client) is imported only when the view is stale.
 */
import type { AppContext } from "../app/context.ts";
import { resolveSyncConfig } from "./config.ts";
import { cloudViewAt, FRESH_WINDOW_MS, readSyncTimes } from "./state.ts";
import type * as CatchUp from "./catch_up.ts";
import { lazyModuleUrl } from "../lazy_module.ts";

/** The most a command waits on the network to catch up; the rest runs in the background. */
export const CATCH_UP_BUDGET_MS = 200;

/** Top-level commands that never catch up first (sync itself, maintenance, help). */
const NO_CATCH_UP = new Set(["sync", "db", "completions", "help"]);

/** Contexts whose command asked for a background sync when it ends. */
const backgroundWanted = new WeakSet<AppContext>();

export function wantsBackgroundSync(ctx: AppContext): boolean {
  return backgroundWanted.has(ctx);
}

/**
 * With sync on and automatic (JDO_SYNC_AUTO not 0), and a view of the cloud
 * older than FRESH_WINDOW_MS: a quick pull bounded by CATCH_UP_BUDGET_MS.
 * When it cannot finish in time (or there is more to pull, or changes wait
 * to go out), the command goes on with local data and a background sync
 * starts when it ends. Never throws: local data is always there.
 */
export async function catchUpIfStale(ctx: AppContext, commandPath: string[]): Promise<void> {
  try {
    if (NO_CATCH_UP.has(commandPath[0] ?? "")) return;
    // `jdo` alone on a terminal is the REPL, which syncs on its own schedule.
    if (commandPath.length === 0 && ctx.io.stdinIsTty && ctx.io.stdoutIsTty) return;
    const config = await resolveSyncConfig(ctx, { token: false });
    if (!config.enabled || !config.auto || !config.url) return;
    const store = await ctx.store();
    const viewAt = cloudViewAt(await readSyncTimes(store));
    const age = viewAt ? ctx.clock.now().getTime() - Date.parse(viewAt) : Infinity;
    if (age < FRESH_WINDOW_MS) return;
    // A variable specifier: the fast path must not prepare the sync engine
    // (src/lazy_module.ts).
    const { catchUp }: typeof CatchUp = await import(lazyModuleUrl("sync/catch_up.ts"));
    const result = await catchUp(ctx, store, CATCH_UP_BUDGET_MS);
    if (result === "background") backgroundWanted.add(ctx);
  } catch {
    // A broken configuration is reported by `sync status`; the command goes on.
  }
}
