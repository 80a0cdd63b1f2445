import type { Store, Writer } from "../db/store.ts";

/** Sync bookkeeping kept in the working database's _sync_state table. */
export interface SyncState {
  /** Highest cloud change sequence merged into this database. */
  watermark: number;
  /** The cloud database the watermark belongs to. */
  cloudId: string | null;
  /** The last attempt, whatever its result. */
  lastSyncAt: string | null;
  /** "ok" or an error code such as SYNC_UNREACHABLE: the last attempt's result. */
  lastResult: string | null;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  /** The last quick pull outside a full sync (a read command's catch-up). */
  lastPullAt: string | null;
  /** The last failure's message (kept after a later success). */
  lastError: string | null;
  pendingChanges: number;
  conflicts: number;
  /** The cloud's end-to-end check record as last seen (null: a plain cloud, or never synced). */
  encryption: string | null;
}

const KEYS = [
  "watermark",
  "cloud_id",
  "last_sync_at",
  "last_result",
  "last_success_at",
  "last_failure_at",
  "last_error",
  "last_pull_at",
  "e2e",
];

export async function readSyncState(store: Store): Promise<SyncState> {
  const rows = await store.query(
    `SELECT key, value FROM _sync_state WHERE key IN (${KEYS.map(() => "?").join(",")})`,
    KEYS,
  );
  const map = new Map(rows.map((r) => [String(r.key), r.value === null ? null : String(r.value)]));
  const counts = await store.one(
    `SELECT (SELECT count(*) FROM _sync_outbox WHERE entity <> 'conflict') AS pending,
            (SELECT count(*) FROM _sync_conflicts WHERE deleted_at IS NULL AND resolved_at IS NULL)
              AS conflicts`,
  );
  return {
    watermark: Number(map.get("watermark") ?? 0),
    cloudId: map.get("cloud_id") ?? null,
    lastSyncAt: map.get("last_sync_at") ?? null,
    lastResult: map.get("last_result") ?? null,
    lastSuccessAt: map.get("last_success_at") ?? null,
    lastFailureAt: map.get("last_failure_at") ?? null,
    lastError: map.get("last_error") ?? null,
    lastPullAt: map.get("last_pull_at") ?? null,
    pendingChanges: Number(counts?.pending ?? 0),
    conflicts: Number(counts?.conflicts ?? 0),
    encryption: map.get("e2e") ?? null,
  };
}

/** A view of the cloud younger than this is fresh: no network at all (freshness.ts). */
export const FRESH_WINDOW_MS = 60_000;

/** What cloudViewAt() needs. */
export type SyncTimes = Pick<
  SyncState,
  "lastSyncAt" | "lastResult" | "lastSuccessAt" | "lastPullAt"
>;

/** The sync times alone: one indexed read, no count of the outbox (freshness checks). */
export async function readSyncTimes(store: Store): Promise<SyncTimes> {
  const rows = await store.query(
    `SELECT key, value FROM _sync_state
     WHERE key IN ('last_sync_at', 'last_result', 'last_success_at', 'last_pull_at')`,
  );
  const map = new Map(rows.map((r) => [String(r.key), r.value === null ? null : String(r.value)]));
  return {
    lastSyncAt: map.get("last_sync_at") ?? null,
    lastResult: map.get("last_result") ?? null,
    lastSuccessAt: map.get("last_success_at") ?? null,
    lastPullAt: map.get("last_pull_at") ?? null,
  };
}

/** The later of two ISO times (either may be missing). */
export function laterOf(a: string | null, b: string | null): string | null {
  if (!a) return b;
  if (!b) return a;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

/**
 * When this device last saw the cloud's data: its last successful sync or
 * quick pull, whichever came later.
 */
export function cloudViewAt(state: SyncTimes): string | null {
  return laterOf(lastSuccessOf(state), state.lastPullAt);
}

/**
 * The last success. Repairs before last_success_at was kept by them left
 * only last_sync_at with last_result "ok": the later of the two counts.
 */
export function lastSuccessOf(state: SyncTimes): string | null {
  return laterOf(state.lastSuccessAt, state.lastResult === "ok" ? state.lastSyncAt : null);
}

export async function writeSyncState(
  w: Writer,
  values: Record<string, string | null>,
): Promise<void> {
  for (const [key, value] of Object.entries(values)) {
    await w.tx.execute({
      sql: `INSERT INTO _sync_state (key, value) VALUES (?, ?)
            ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
      args: [key, value],
    });
  }
}

/** _sync_state's marker of a half-done `sync encrypt on|off` or `sync key rotate`. */
export const SWITCH_KEY = "e2e_switch";

export type SwitchKind = "on" | "off" | "rotate";

/**
 * What a half-done `sync key rotate` keeps beside its marker: the id of the
 * new key (a run resumes only once this device holds that key; killed
 * before it was saved, the rotation starts over) and the device names in
 * the clear (the old key that opens them in the cloud may be gone by the
 * time the run is resumed).
 */
export const SWITCH_KEY_ID = "e2e_switch_key";
export const SWITCH_NAMES = "e2e_switch_names";

/** A value of _sync_state, null when unset. */
export async function readStateValue(store: Store, key: string): Promise<string | null> {
  const row = await store.one("SELECT value FROM _sync_state WHERE key = ?", [key]);
  return row?.value == null ? null : String(row.value);
}

/** The switch left half done on this device, if any (`sync now` refuses meanwhile). */
export async function pendingSwitch(store: Store): Promise<SwitchKind | null> {
  const row = await store.one("SELECT value FROM _sync_state WHERE key = ?", [SWITCH_KEY]);
  return row?.value ? String(row.value) as SwitchKind : null;
}
