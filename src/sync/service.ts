import { readClockSkew, type SkewReport } from "./clock_skew.ts";
import type { AppContext } from "../app/context.ts";
import { join } from "node:path";
import { pathExists } from "../config/atomic_file.ts";
import { saveSettings } from "../config/settings.ts";
import { LATEST_SCHEMA_VERSION } from "../db/migrations.ts";
import type { Store } from "../db/store.ts";
import { JdoError } from "../errors.ts";
import type { CloudStore } from "./cloud_store.ts";
import { compareWithCloud } from "./cloud_compare.ts";
import { displayUrl, resolveSyncConfig, type SyncConfig } from "./config.ts";
import type { ConflictRecord } from "./conflict_log.ts";
import { syncOnce } from "./engine.ts";
import { resetForCloud } from "./outbox.ts";
import { SYNCED, type SyncHooks } from "./synced.ts";
import { LibsqlCloud, schemaMismatch } from "./libsql_cloud.ts";
import { EncryptingCloud } from "./encrypting_cloud.ts";
import { findSyncKey, type KeySource } from "./e2e_keys.ts";
import type { DataKey } from "./e2e_key.ts";
import { acquireSyncLock, acquireSyncLockGuarded } from "./lock.ts";
import { appendLog } from "./log.ts";
import {
  type DeviceDirectory,
  type DeviceRecord,
  listDevices,
  publishDevice,
  skewedDevices,
} from "./devices.ts";
import {
  cloudViewAt,
  lastSuccessOf,
  pendingSwitch,
  readSyncState,
  writeSyncState,
} from "./state.ts";
import { recordSyncFailure, recordSyncSuccess } from "./view_stamp.ts";

export interface SyncReport {
  ok: boolean;
  pushed: number;
  pulled: number;
  conflicts: number;
  duration_ms: number;
  error?: string;
  error_code?: string;
}

export type SyncStateName =
  | "disabled"
  | "online"
  | "offline"
  | "auth_error"
  | "schema_mismatch"
  | "wrong_cloud"
  | "key_missing"
  | "key_wrong";

/** Whether the cloud is end-to-end encrypted, under which key, and where this device's key is. */
export interface EncryptionStatus {
  /** null: not known (the cloud was not reached and this device never learnt it). */
  mode: "e2e" | "off" | null;
  key_id: string | null;
  key_source: KeySource;
  /** "ok", "missing" or "wrong" for an encrypted cloud; null otherwise. */
  key_state: "ok" | "missing" | "wrong" | null;
}

export interface SyncStatus {
  enabled: boolean;
  state: SyncStateName;
  url: string | null;
  /** The last attempt (spec field) and its result. */
  last_sync_at: string | null;
  last_result: string | null;
  last_success_at: string | null;
  last_failure_at: string | null;
  /** The last failure's message. */
  last_error: string | null;
  /** When this device last saw the cloud's data (a sync or a read's catch-up), and how long ago. */
  cloud_view_at: string | null;
  cloud_view_age_s: number | null;
  pending_changes: number;
  conflicts: number;
  device_id: string;
  token_source: string;
  url_source: string;
  state_detail?: string;
  /** Devices in this device's copy of the cloud's device directory. */
  devices?: number;
  /** Devices whose clock was off by more than CLOCK_SKEW_LIMIT_MS at their last sync. */
  clock_skewed_devices?: DeviceRecord[];
  /**
   * Authors of versions merged here that were more than CLOCK_SKEW_LIMIT_MS
   * ahead of this device's clock (they win concurrent edits until clocks
   * catch up): accepted, and reported here.
   */
  versions_ahead?: SkewReport[];
  /** Files jdo could not read (a corrupt auth.json, …), one sentence each. */
  warnings: string[];
  encryption?: EncryptionStatus;
}

/** How long `sync status` waits for the cloud (the documented short probe). */
export const STATUS_PROBE_MS = 3_000;

/**
 * The cloud as the engine sees it: the libSQL store under the encrypting
 * layer, which seals and opens rows when the cloud is end-to-end encrypted
 * (with this device's key, config.key) and passes a plain cloud through.
 */
export function openCloud(
  ctx: AppContext,
  config: SyncConfig,
  timeoutMs?: number,
): EncryptingCloud {
  return new EncryptingCloud(
    new LibsqlCloud({
      url: config.url!,
      token: config.token,
      replicaDir: ctx.paths.cloudDir,
      requestTimeoutMs: timeoutMs,
      probeTimeoutMs: timeoutMs,
      clockOffsetMs: ctx.cloudClockOffsetMs,
    }),
    config.key,
    { openedPath: join(ctx.paths.cloudDir, "opened.db") },
  );
}

export async function requireEnabled(ctx: AppContext): Promise<SyncConfig> {
  const config = await resolveSyncConfig(ctx);
  if (!config.enabled || !config.url) {
    throw new JdoError("SYNC_DISABLED", "Sync is not set up on this device");
  }
  if (!config.token) {
    throw new JdoError(
      "SYNC_AUTH",
      "No cloud token found: none in the keyring or auth.json, and JDO_TURSO_AUTH_TOKEN is not set",
    );
  }
  const found = await findSyncKey(ctx);
  return { ...config, key: found.key, keySource: found.source };
}

/**
 * Brings the cloud schema to this binary's version and makes sure the cloud
 * is the one this device synced with. A device that synced before refuses,
 * writing nothing, a database with another cloud id or without jdo's data
 * (a URL, saved or from the environment, that leads elsewhere); any device
 * refuses a database holding another app's tables. Only setup's first sync
 * (`newCloud`, a database the user just chose) starts over with another
 * cloud: watermark 0, every row queued, replica rebuilt.
 */
export async function prepareCloud(
  ctx: AppContext,
  store: Store,
  cloud: CloudStore & { host?: string },
  options: { newCloud?: boolean } = {},
) {
  const state = await readSyncState(store);
  // The same request reads ahead what the pull will ask for.
  let info = await cloud.info({ tables: SYNCED.map((t) => t.table), after: state.watermark });
  if (info.schemaVersion > LATEST_SCHEMA_VERSION) throw schemaMismatch(info.schemaVersion);
  await assertSameCloud(cloud, state.cloudId, info.cloudId, options.newCloud === true);
  if (info.schemaVersion < LATEST_SCHEMA_VERSION || !info.cloudId) {
    await cloud.migrate();
    info = await cloud.info();
  }
  if (info.cloudId && state.cloudId !== info.cloudId) {
    await Deno.remove(ctx.paths.cloudDir, { recursive: true }).catch(() => {});
    await resetForCloud(store, info.cloudId);
  }
  // The cloud's key changed (rotated, or encryption turned off) since this
  // device last synced: the switch replaced every sealed row with the
  // switching device's copy, so whatever only this device held (pushed under
  // the old key meanwhile) goes up again. Queued before the new state is
  // noted here: stopped in between, the next sync does it again.
  const seenKey = checkKeyId(state.encryption);
  if (seenKey && seenKey !== checkKeyId(info.encryption)) {
    await cloud.snapshot();
    await compareWithCloud(store, cloud);
  }
  // What status shows offline: whether this cloud is encrypted, under which key.
  if ((info.encryption ?? null) !== state.encryption) {
    await store.write((w) => writeSyncState(w, { e2e: info.encryption ?? null }));
  }
  return info;
}

/** The key id of a check record (null: none, or not one). */
function checkKeyId(record: string | null | undefined): string | null {
  if (!record) return null;
  try {
    const id = (JSON.parse(record) as { key_id?: unknown }).key_id;
    return typeof id === "string" && id !== "" ? id : null;
  } catch {
    return null;
  }
}

/** Refuses a database that is not the cloud this device synced with (see prepareCloud). */
async function assertSameCloud(
  cloud: CloudStore & { host?: string },
  known: string | null,
  found: string | null,
  newCloud: boolean,
): Promise<void> {
  const where = `The database at ${cloud.host ?? "the sync URL"}`;
  const untouched = "nothing was written to it";
  if (known && found && known !== found && !newCloud) {
    throw new JdoError(
      "SYNC_WRONG_CLOUD",
      `${where} is not the cloud this device synced with (cloud ${found.slice(0, 8)}, expected ${
        known.slice(0, 8)
      }); ${untouched}`,
    );
  }
  if (found) return;
  const foreign = await cloud.foreignTables?.() ?? [];
  if (foreign.length > 0) {
    throw new JdoError(
      "SYNC_WRONG_CLOUD",
      `${where} holds another app's tables (${foreign.slice(0, 3).join(", ")}${
        foreign.length > 3 ? ", …" : ""
      }), not jdo's data; ${untouched}`,
    );
  }
  if (known && !newCloud) {
    throw new JdoError(
      "SYNC_WRONG_CLOUD",
      `${where} holds no jdo data, but this device synced with cloud ${
        known.slice(0, 8)
      } before; ${untouched}`,
    );
  }
}

function conflictLines(conflicts: ConflictRecord[]): string[] {
  return conflicts.map((c) =>
    `conflict ${c.kind} ${c.entity} ${c.rowId} field=${
      c.field ?? "*"
    } winner=${c.winner} local=${c.localVersion} remote=${c.remoteVersion}`
  );
}

/**
 * One sync under the data directory's lock, recording the result in the
 * database and the log. Errors are recorded and rethrown.
 */
export async function syncNow(
  ctx: AppContext,
  options: {
    hooks?: SyncHooks;
    lockWaitMs?: number;
    /** Sync with this configuration instead of the saved one (setup's first sync). */
    config?: SyncConfig;
  } = {},
): Promise<SyncReport> {
  const config = options.config ?? await requireEnabled(ctx);
  const store = await ctx.store();
  const started = performance.now();
  const lock = await acquireSyncLockGuarded(
    ctx.interrupts,
    ctx.paths.syncLock,
    options.lockWaitMs ?? 15_000,
  );
  const cloud = openCloud(ctx, config);
  // Ctrl-C: the replica stops writing in cloud/ before the lock goes (and
  // before setup's undo removes cloud/): cleanups run newest first.
  const forgetCloud = ctx.interrupts.onInterrupt(() => cloud.abort());
  try {
    const half = await pendingSwitch(store);
    if (half) {
      const command = half === "rotate" ? "jdo sync key rotate" : `jdo sync encrypt ${half}`;
      throw new JdoError(
        "SYNC_FAILED",
        `\`${command}\` stopped before it finished; run it again to finish (sync waits until then)`,
      );
    }
    // Only setup passes a configuration: the database the user just chose.
    await prepareCloud(ctx, store, cloud, { newCloud: options.config !== undefined });
    const stats = await syncOnce(store, cloud, options.hooks);
    const at = ctx.clock.now().toISOString();
    await recordSyncSuccess(ctx, store, at);
    await recordDevice(ctx, store, cloud);
    // Everything the sync did, the device record included.
    const report: SyncReport = {
      ok: true,
      pushed: stats.pushed,
      pulled: stats.pulled,
      conflicts: stats.conflicts.length,
      duration_ms: Math.round(performance.now() - started),
    };
    await appendLog(ctx.paths.log, "WARN", conflictLines(stats.conflicts), ctx.io.secrets);
    await appendLog(ctx.paths.log, "INFO", [
      `sync ok ${
        displayUrl(config.url!)
      } pushed=${report.pushed} pulled=${report.pulled} conflicts=${report.conflicts} ${report.duration_ms}ms`,
    ], ctx.io.secrets);
    return report;
  } catch (error) {
    const jdoError = error instanceof JdoError
      ? error
      : new JdoError("SYNC_FAILED", `Sync failed: ${(error as Error).message}`, { cause: error });
    // Stopped by Ctrl-C (cloud.abort()): no failure of the cloud to record.
    if (ctx.interrupts.interrupted) throw jdoError;
    await recordSyncFailure(ctx, store, jdoError);
    await appendLog(
      ctx.paths.log,
      "ERROR",
      [`sync failed: ${jdoError.code}: ${jdoError.message}`],
      ctx.io.secrets,
    );
    throw jdoError;
  } finally {
    forgetCloud();
    await cloud.close();
    await lock.release();
  }
}

/**
 * After a successful sync: this device's row in the cloud's device directory
 * and a fresh local copy of it. The data already synced, so a failure here
 * is logged, not raised.
 */
export async function recordDevice(
  ctx: AppContext,
  store: Store,
  directory: DeviceDirectory,
): Promise<void> {
  try {
    await publishDevice(store, directory, ctx.clock);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await appendLog(
      ctx.paths.log,
      "WARN",
      [`device directory not updated: ${message}`],
      ctx.io.secrets,
    );
  }
}

const STATE_OF_CODE: Record<string, SyncStateName> = {
  SYNC_AUTH: "auth_error",
  SYNC_READ_ONLY: "auth_error",
  SYNC_SCHEMA_MISMATCH: "schema_mismatch",
  SYNC_WRONG_CLOUD: "wrong_cloud",
  SYNC_KEY_MISSING: "key_missing",
  SYNC_KEY_WRONG: "key_wrong",
};

/** Sync status with the cloud probed under a short timeout. */
export async function syncStatus(ctx: AppContext, probe = true): Promise<SyncStatus> {
  // With sync on, a corrupt auth.json fails here, naming the file.
  const config = await resolveSyncConfig(ctx);
  const warnings: string[] = [];
  if (config.tokenSource !== "auth_store") {
    // auth.json was not needed, but a corrupt one is still worth knowing about.
    await ctx.tokens.file.get().catch((error) => warnings.push((error as Error).message));
  }
  const store = await ctx.store();
  const state = await readSyncState(store);
  const viewAt = cloudViewAt(state);
  const status: SyncStatus = {
    enabled: config.enabled,
    state: "disabled",
    url: config.url ? displayUrl(config.url) : null,
    last_sync_at: state.lastSyncAt,
    last_result: state.lastResult,
    // Databases synced before these keys existed know only the last attempt.
    last_success_at: lastSuccessOf(state),
    last_failure_at: state.lastFailureAt ??
      (state.lastResult && state.lastResult !== "ok" ? state.lastSyncAt : null),
    last_error: state.lastError,
    cloud_view_at: viewAt,
    cloud_view_age_s: viewAt
      ? Math.max(0, Math.round((ctx.clock.now().getTime() - Date.parse(viewAt)) / 1000))
      : null,
    pending_changes: state.pendingChanges,
    conflicts: state.conflicts,
    device_id: await store.deviceId(),
    token_source: config.tokenSource,
    url_source: config.urlSource,
    warnings,
  };
  if (!config.enabled || !config.url) return status;
  const { devices } = await listDevices(store);
  status.devices = devices.length;
  status.clock_skewed_devices = skewedDevices(devices);
  status.versions_ahead = await readClockSkew(store);
  if (!config.token) {
    status.state = "auth_error";
    status.state_detail = "No token found";
    return status;
  }
  let found: Awaited<ReturnType<typeof findSyncKey>> = { source: "none" };
  try {
    // The REPL's prompt asks without a probe: a plain cloud costs it no keyring call.
    if (probe || state.encryption) found = await findSyncKey(ctx);
  } catch (error) {
    found = { source: "none" };
    warnings.push((error as Error).message);
  }
  const known = state.encryption ? JSON.parse(state.encryption) as { key_id: string } : null;
  status.encryption = {
    mode: known ? "e2e" : state.cloudId ? "off" : null,
    key_id: known?.key_id ?? null,
    key_source: found.source,
    key_state: known
      ? found.key ? found.key.id === known.key_id ? "ok" : "wrong" : "missing"
      : null,
  };
  if (!probe) {
    status.state = state.lastResult === "ok"
      ? "online"
      : STATE_OF_CODE[state.lastResult ?? ""] ?? "offline";
    return status;
  }
  const cloud = openCloud(ctx, { ...config, key: found.key }, STATUS_PROBE_MS);
  try {
    const info = await cloud.info().catch((error) => {
      if (!(error instanceof JdoError && error.code.startsWith("SYNC_KEY_"))) throw error;
      status.encryption!.key_state = error.code === "SYNC_KEY_MISSING" ? "missing" : "wrong";
      throw error;
    });
    status.encryption = {
      ...status.encryption!,
      mode: cloud.mode ?? null,
      key_id: cloud.cloudKeyId,
      key_state: cloud.mode === "e2e" ? "ok" : null,
    };
    status.state = info.schemaVersion > LATEST_SCHEMA_VERSION ? "schema_mismatch" : "online";
    if (state.cloudId && info.cloudId !== state.cloudId) {
      status.state = "wrong_cloud";
      status.state_detail = info.cloudId
        ? `not the cloud this device synced with (cloud ${info.cloudId.slice(0, 8)}, expected ${
          state.cloudId.slice(0, 8)
        })`
        : "holds no jdo data, but this device synced with another cloud";
    }
  } catch (error) {
    const code = error instanceof JdoError ? error.code : "SYNC_FAILED";
    status.state = STATE_OF_CODE[code] ?? "offline";
    if (code.startsWith("SYNC_KEY_")) {
      status.encryption = { ...status.encryption!, mode: "e2e", key_id: cloud.cloudKeyId };
    }
    status.state_detail = error instanceof Error ? error.message : String(error);
  } finally {
    await cloud.close();
  }
  return status;
}

/**
 * Proves `key` against the cloud's check record before it is saved (`sync
 * key import`): "e2e" when it opens it, "off" for a plain cloud, "disabled"
 * when sync is not set up here. A wrong key throws SYNC_KEY_WRONG.
 */
export async function checkKeyAgainstCloud(
  ctx: AppContext,
  key: DataKey,
): Promise<"e2e" | "off" | "disabled"> {
  const config = await resolveSyncConfig(ctx);
  if (!config.enabled || !config.url || !config.token) return "disabled";
  const cloud = openCloud(ctx, { ...config, key }, STATUS_PROBE_MS * 2);
  try {
    await cloud.info();
    return cloud.mode === "e2e" ? "e2e" : "off";
  } finally {
    await cloud.close();
  }
}

/** What `sync disable` still has to undo on this device; empty when sync is fully off. */
export async function disableLeftovers(ctx: AppContext): Promise<string[]> {
  const left: string[] = [];
  if ((await ctx.settings()).turso_enabled) left.push("settings");
  const token = await ctx.tokens.find().catch(() => ({ source: "auth store" }));
  if (token) left.push(token.source);
  if (await pathExists(ctx.paths.cloudDir)) left.push("cloud/");
  return left;
}

/**
 * Back to local-only: local data stays, the token goes (from the keyring and
 * auth.json), cloud/ goes, the cloud is untouched. Every step that can be
 * done is done; a step that fails is named and the command can be run again
 * to finish it. Returns false when there was nothing to do.
 */
export async function disableSync(ctx: AppContext): Promise<boolean> {
  const settings = await ctx.settings();
  if ((await disableLeftovers(ctx)).length === 0) return false;
  const lock = await acquireSyncLock(ctx.paths.syncLock, 15_000);
  const failed: { what: string; error: unknown }[] = [];
  try {
    const removal = await ctx.tokens.remove();
    for (const f of removal.failed) {
      failed.push({ what: `remove the token from the ${f.store}`, error: f.error });
    }
    try {
      await Deno.remove(ctx.paths.cloudDir, { recursive: true });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) failed.push({ what: "remove cloud/", error });
    }
    if (settings.turso_enabled) {
      const next = { ...settings, turso_enabled: false, turso_db_url: null };
      try {
        await saveSettings(ctx.paths.settings, next);
        ctx.setSettings(next);
      } catch (error) {
        failed.push({ what: "write settings.json", error });
      }
    }
    await appendLog(
      ctx.paths.log,
      failed.length ? "WARN" : "INFO",
      [
        failed.length
          ? `sync disable incomplete: ${failed.map((f) => f.what).join(", ")}`
          : "sync disabled",
      ],
      ctx.io.secrets,
    );
  } finally {
    await lock.release();
  }
  if (failed.length) {
    const first = failed[0].error;
    const reason = first instanceof Error ? first.message : String(first);
    const off = !failed.some((f) => f.what === "write settings.json");
    throw new JdoError(
      first instanceof JdoError ? first.code : "IO_ERROR",
      `${off ? "Sync is off, but" : "Sync is still on:"} could not ${
        failed.map((f) => f.what).join(" and ")
      }: ${reason}; then run jdo sync disable again to finish`,
      { hint: "", cause: first },
    );
  }
  return true;
}
