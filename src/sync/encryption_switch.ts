/**
 * `jdo sync encrypt on|off` for a cloud that already holds data, and `jdo
 * sync key rotate`. Each runs under the sync lock as a few idempotent steps
 * with a marker in _sync_state (`e2e_switch`), so a crash anywhere is
 * finished by running the command again, and `sync now` refuses to run on a
 * half-switched cloud from this device meanwhile.
 *
 *   on:     sync in the clear → new key (phrase shown, key saved here) →
 *           check record + triggers (from here plain pushes are refused: other
 *           devices pause with SYNC_KEY_MISSING until they import the key) →
 *           pull the plain rows others pushed until then → queue every row →
 *           push them sealed → empty the plain tables → seal device names
 *   off:    sync sealed → record and triggers go, sealed pushes are refused →
 *           queue every row → push them in the clear → empty the sealed table
 *           → device names in the clear
 *   rotate: sync sealed → new key saved here → new record, sealed rows
 *           emptied (other devices pause with SYNC_KEY_WRONG until they import
 *           the new phrase; their queued edits wait in their outboxes) →
 *           queue every row → push them sealed under the new key
 */
import type { AppContext } from "../app/context.ts";
import type { Store } from "../db/store.ts";
import { JdoError } from "../errors.ts";
import { E2E_META_KEY, E2E_OFF, KEY_GUARD, SEALED_TABLE } from "./e2e_schema.ts";
import { makeCheckRecord, openText, sealText } from "./e2e_envelope.ts";
import { type DataKey, newDataKey, shortKeyId } from "./e2e_key.ts";
import { readKeyFile, saveSyncKey } from "./e2e_keys.ts";
import type { EncryptingCloud } from "./encrypting_cloud.ts";
import { syncOnce } from "./engine.ts";
import type { LibsqlCloud } from "./libsql_cloud.ts";
import { acquireSyncLockGuarded } from "./lock.ts";
import { appendLog } from "./log.ts";
import { pull } from "./pull.ts";
import { compareWithCloud } from "./cloud_compare.ts";
import { openCloud, prepareCloud, requireEnabled } from "./service.ts";
import {
  pendingSwitch,
  readStateValue,
  readSyncState,
  SWITCH_KEY,
  SWITCH_KEY_ID,
  SWITCH_NAMES,
  type SwitchKind,
  writeSyncState,
} from "./state.ts";

export interface SwitchReport {
  kind: SwitchKind;
  key_id: string | null;
  rows: number;
  /** The phrase of a new key (on, rotate), to show once. */
  phrase?: string;
}

export const BACKUP_WARNING =
  "The provider's point-in-time backups (and sqld's own log) keep the earlier copies of " +
  "the rows until their retention ends; for a cloud with no old copies, set up a new database " +
  "with jdo sync setup --encrypt.";

/**
 * Tests only: JDO_TEST_SWITCH_CRASH=N kills this process (SIGKILL, no
 * clean-up) when the switch reaches step N, so a test can stop it at each
 * step and prove that running it again finishes the job.
 */
function crashPoint(ctx: AppContext, step: number): void {
  if (ctx.env.JDO_TEST_SWITCH_CRASH === String(step)) Deno.kill(Deno.pid, "SIGKILL");
}

async function mark(store: Store, kind: SwitchKind | null): Promise<void> {
  await store.write((w) => writeSyncState(w, { [SWITCH_KEY]: kind }));
}

async function pending(store: Store): Promise<number> {
  return (await readSyncState(store)).pendingChanges;
}

/**
 * Queues every row the cloud (as the layer sees it now) lacks or is behind
 * on, and pushes through `cloud` until nothing waits. Rows it already holds
 * at the same versions are not sent again: a run resumed after the upload
 * finished would otherwise queue rows the cloud refuses as not newer, and
 * never finish.
 */
async function uploadEverything(store: Store, cloud: EncryptingCloud): Promise<number> {
  await cloud.snapshot();
  await compareWithCloud(store, cloud);
  const queued = Number((await store.one("SELECT count(*) AS n FROM _sync_outbox"))?.n ?? 0);
  for (let round = 0; round < 3 && await pending(store) > 0; round++) {
    await syncOnce(store, cloud);
  }
  if (await pending(store) > 0) {
    throw new JdoError(
      "SYNC_FAILED",
      "Not every row reached the cloud yet (other devices kept writing); run the command again to finish",
    );
  }
  return queued;
}

/** Every device name of the cloud's directory rewritten by `rewrite` (as stored there). */
async function rewriteDeviceNames(
  inner: LibsqlCloud,
  rewrite: (id: string, name: string) => string,
): Promise<void> {
  const { devices } = await inner.readDevices();
  await inner.renameDevices(new Map(devices.map((d) => [d.id, rewrite(d.id, d.name)])));
}

async function withSwitch<T>(
  ctx: AppContext,
  key: DataKey | undefined,
  run: (store: Store, cloud: EncryptingCloud, inner: LibsqlCloud) => Promise<T>,
): Promise<T> {
  const config = await requireEnabled(ctx);
  const store = await ctx.store();
  const lock = await acquireSyncLockGuarded(ctx.interrupts, ctx.paths.syncLock, 15_000);
  const cloud = openCloud(ctx, { ...config, key: key ?? config.key });
  try {
    return await run(store, cloud, cloud.inner as LibsqlCloud);
  } finally {
    await cloud.close();
    await lock.release();
  }
}

/** The key `encrypt on` uses: the one given, the one a resumed switch saved, or a new one. */
async function keyForOn(
  ctx: AppContext,
  keyFile: string | undefined,
): Promise<{ key: DataKey; fresh: boolean }> {
  if (keyFile) return { key: await readKeyFile(keyFile), fresh: false };
  const config = await requireEnabled(ctx);
  const store = await ctx.store();
  if (config.key && await pendingSwitch(store) === "on") return { key: config.key, fresh: false };
  return { key: newDataKey(), fresh: true };
}

export async function encryptOn(
  ctx: AppContext,
  options: { keyFile?: string; show(phrase: string, keyId: string): void },
): Promise<SwitchReport> {
  const { key, fresh } = await keyForOn(ctx, options.keyFile);
  return await withSwitch(ctx, key, async (store, cloud, inner) => {
    const info = await prepareCloud(ctx, store, cloud);
    if (cloud.mode === "e2e" && await pendingSwitch(store) !== "on") {
      throw new JdoError(
        "USAGE",
        `This cloud is end-to-end encrypted already (key ${shortKeyId(cloud.cloudKeyId ?? "")})`,
      );
    }
    await mark(store, "on");
    crashPoint(ctx, 1);
    if (cloud.mode === "off") {
      await syncOnce(store, cloud);
      crashPoint(ctx, 2);
      if (fresh) options.show(key.phrase, key.id);
      // Kept before the cloud depends on it.
      if (ctx.env.JDO_SYNC_KEY === undefined) ctx.io.err(await saveSyncKey(ctx, key));
      crashPoint(ctx, 3);
      await cloud.enable(key, { withData: true });
      crashPoint(ctx, 4);
    }
    // Rows others pushed in the clear before the triggers (none once the
    // plain tables are emptied): merged here first. The watermark stays, so
    // the sealed pull still reads every sealed row since it.
    const { watermark } = await readSyncState(store);
    await pull(store, inner, {});
    await store.write((w) => writeSyncState(w, { watermark: String(watermark) }));
    crashPoint(ctx, 5);
    const rows = await uploadEverything(store, cloud);
    crashPoint(ctx, 6);
    await inner.dropPlainRows();
    crashPoint(ctx, 7);
    await rewriteDeviceNames(
      inner,
      (id, name) =>
        sealText(
          key,
          info.cloudId!,
          `device:${id}`,
          openText(key, info.cloudId!, `device:${id}`, name),
        ),
    );
    crashPoint(ctx, 8);
    await prepareCloud(ctx, store, cloud); // status learns the cloud's record
    await mark(store, null);
    await appendLog(
      ctx.paths.log,
      "INFO",
      [`sync encrypt on: key ${key.id}, ${rows} rows sealed`],
      ctx.io.secrets,
    );
    return { kind: "on", key_id: key.id, rows, ...(fresh ? { phrase: key.phrase } : {}) };
  });
}

export async function encryptOff(ctx: AppContext): Promise<SwitchReport> {
  const config = await requireEnabled(ctx);
  return await withSwitch(ctx, undefined, async (store, cloud, inner) => {
    const resumed = await pendingSwitch(store) === "off";
    const { cloudId } = await prepareCloud(ctx, store, cloud);
    if (cloud.mode === "off" && !resumed) {
      throw new JdoError("USAGE", "This cloud is not end-to-end encrypted");
    }
    await mark(store, "off");
    crashPoint(ctx, 1);
    if (cloud.mode === "e2e") {
      await syncOnce(store, cloud);
      crashPoint(ctx, 2);
      // Names while they can still be read.
      const { devices } = await cloud.readDevices();
      await inner.writeBatch(E2E_OFF);
      crashPoint(ctx, 3);
      await inner.renameDevices(new Map(devices.map((d) => [d.id, d.name])));
      await cloud.info(); // the layer now passes rows through in the clear
    } else if (config.key && cloudId) {
      // Stopped after the record went, before the names did: opened with the key still here.
      await rewriteDeviceNames(
        inner,
        (id, name) => openText(config.key!, cloudId, `device:${id}`, name),
      );
    }
    crashPoint(ctx, 4);
    const rows = await uploadEverything(store, cloud);
    crashPoint(ctx, 5);
    await inner.writeBatch([`DELETE FROM ${SEALED_TABLE}`]);
    crashPoint(ctx, 6);
    await store.write((w) => writeSyncState(w, { e2e: null }));
    await mark(store, null);
    await appendLog(
      ctx.paths.log,
      "INFO",
      [`sync encrypt off: ${rows} rows in the clear`],
      ctx.io.secrets,
    );
    return { kind: "off", key_id: null, rows };
  });
}

export async function rotateKey(
  ctx: AppContext,
  options: { show(phrase: string, keyId: string): void },
): Promise<SwitchReport> {
  const config = await requireEnabled(ctx);
  const store = await ctx.store();
  // A rotation resumes once its new key is the one held here (saved before
  // the cloud was touched); stopped before that, it starts over.
  const resumed = await pendingSwitch(store) === "rotate" && config.key !== undefined &&
    config.key.id === await readStateValue(store, SWITCH_KEY_ID);
  const key = resumed ? config.key! : newDataKey();
  return await withSwitch(ctx, config.key, async (store, cloud, inner) => {
    let cloudId: string;
    let replaceRecord = !resumed;
    try {
      cloudId = (await prepareCloud(ctx, store, cloud)).cloudId!;
    } catch (error) {
      // Stopped after the new key was saved, before the cloud took it: take it now.
      if (!(resumed && error instanceof JdoError && error.code === "SYNC_KEY_WRONG")) throw error;
      cloudId = (await inner.info()).cloudId!;
      replaceRecord = true;
    }
    if (!resumed && cloud.mode !== "e2e") {
      throw new JdoError("USAGE", "This cloud is not end-to-end encrypted");
    }
    if (!resumed) {
      await syncOnce(store, cloud);
      const names = (await cloud.readDevices()).devices.map((d) => [d.id, d.name]);
      crashPoint(ctx, 1);
      options.show(key.phrase, key.id);
      // The names in the clear, kept here: the old key may be gone when a run resumes.
      await store.write((w) =>
        writeSyncState(w, {
          [SWITCH_KEY]: "rotate",
          [SWITCH_KEY_ID]: key.id,
          [SWITCH_NAMES]: JSON.stringify(Object.fromEntries(names)),
        })
      );
      crashPoint(ctx, 2);
      if (ctx.env.JDO_SYNC_KEY === undefined) ctx.io.err(await saveSyncKey(ctx, key));
      crashPoint(ctx, 3);
    }
    if (replaceRecord) {
      await inner.writeBatch([
        ...KEY_GUARD, // from here, rows another device seals under the old key are refused
        {
          sql: "UPDATE _jdo_meta SET value = ? WHERE key = ?",
          args: [makeCheckRecord(key, cloudId), E2E_META_KEY],
        },
        `DELETE FROM ${SEALED_TABLE}`,
      ]);
      crashPoint(ctx, 4);
    }
    // Every run: a run stopped after the record changed left names under the old key.
    const names = JSON.parse(await readStateValue(store, SWITCH_NAMES) ?? "{}") as Record<
      string,
      string
    >;
    await rewriteDeviceNames(inner, (id, name) => {
      const known = names[id];
      const opened = openText(key, cloudId, `device:${id}`, name);
      return sealText(key, cloudId, `device:${id}`, known ?? opened);
    });
    const fresh = openCloud(ctx, { ...config, key });
    try {
      await prepareCloud(ctx, store, fresh);
      crashPoint(ctx, 5);
      const rows = await uploadEverything(store, fresh);
      crashPoint(ctx, 6);
      await store.write((w) =>
        writeSyncState(w, { [SWITCH_KEY]: null, [SWITCH_KEY_ID]: null, [SWITCH_NAMES]: null })
      );
      await appendLog(
        ctx.paths.log,
        "INFO",
        [`sync key rotate: key ${key.id}, ${rows} rows resealed`],
        ctx.io.secrets,
      );
      return { kind: "rotate" as const, key_id: key.id, rows };
    } finally {
      await fresh.close();
    }
  });
}
