/**
 * When this device last saw the cloud, kept beside the database as well as
 * in it (cloud/view.json): the fast path reads it without opening jdo.db, to
 * know before choosing a SQLite engine whether this process would catch up
 * with the cloud (src/sync/freshness.ts). A fresh view means no catch-up,
 * so nothing syncs in the process and jdo.db can be opened with node:sqlite
 * (src/cli/fast_commands.ts) — a synced device's commands within a minute of
 * its last sync start as fast as an unsynced one's.
 *
 * The stamp may lag the database, never lead it: it is written after a
 * successful sync, quick pull or repair has recorded its time in
 * _sync_state, and removed before anything else changes those times (a
 * failed sync, a restore, setup). Syncs, repairs and quick pulls record
 * their outcome through this module (recordSyncSuccess, recordQuickPull,
 * recordSyncFailure), so that order is kept in one place. A missing or unreadable stamp, or one for
 * another database file, means "ask the database" — what jdo did before.
 */
import type { AppContext } from "../app/context.ts";
import { writeFileAtomic } from "../config/atomic_file.ts";
import { join } from "../config/file_path.ts";
import type { Store } from "../db/store.ts";
import type { JdoError } from "../errors.ts";
import { FRESH_WINDOW_MS, writeSyncState } from "./state.ts";

interface ViewStamp {
  /** The working database the time belongs to. */
  database: string;
  /** cloudViewAt() of that database's _sync_state when this was written. */
  view_at: string;
}

function stampPath(ctx: AppContext): string {
  return join(ctx.paths.cloudDir, "view.json");
}

/** A successful sync or repair at `at`: recorded in _sync_state, then in the stamp. */
export async function recordSyncSuccess(ctx: AppContext, store: Store, at: string): Promise<void> {
  await store.write((w) =>
    writeSyncState(w, { last_sync_at: at, last_result: "ok", last_success_at: at })
  );
  await writeViewStamp(ctx, at);
}

/** A quick pull (src/sync/catch_up.ts) at `at`: recorded in _sync_state, then in the stamp. */
export async function recordQuickPull(ctx: AppContext, store: Store, at: string): Promise<void> {
  await store.write((w) => writeSyncState(w, { last_pull_at: at }));
  await writeViewStamp(ctx, at);
}

/** A failed sync or repair: the stamp goes first, then the failure in _sync_state (best effort). */
export async function recordSyncFailure(
  ctx: AppContext,
  store: Store,
  error: JdoError,
): Promise<void> {
  await removeViewStamp(ctx);
  const at = ctx.clock.now().toISOString();
  await store.write((w) =>
    writeSyncState(w, {
      last_sync_at: at,
      last_result: error.code,
      last_failure_at: at,
      last_error: error.message,
    })
  ).catch(() => {});
}

/** Records the view time the database now holds (best effort: a lagging stamp is safe). */
async function writeViewStamp(ctx: AppContext, viewAt: string): Promise<void> {
  const stamp: ViewStamp = { database: ctx.paths.database, view_at: viewAt };
  try {
    await writeFileAtomic(stampPath(ctx), JSON.stringify(stamp) + "\n");
  } catch {
    // No cloud directory (yet), a read-only home: the database answers.
  }
}

/** Forgets the stamp, before the database's view time changes any other way. */
export async function removeViewStamp(ctx: AppContext): Promise<void> {
  await Deno.remove(stampPath(ctx)).catch(() => {});
}

/** Whether the stamp says the view of the cloud is younger than FRESH_WINDOW_MS. */
export function viewStampFresh(ctx: AppContext): boolean {
  try {
    const stamp = JSON.parse(Deno.readTextFileSync(stampPath(ctx))) as ViewStamp;
    if (stamp.database !== ctx.paths.database) return false;
    const age = ctx.clock.now().getTime() - Date.parse(stamp.view_at);
    return age >= 0 && age < FRESH_WINDOW_MS;
  } catch {
    return false;
  }
}
