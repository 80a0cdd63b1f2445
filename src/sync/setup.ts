import type { AppContext } from "../app/context.ts";
import { saveSettings } from "../config/settings.ts";
import { LATEST_SCHEMA_VERSION } from "../db/migrations.ts";
import { ENTITIES } from "../db/schema.ts";
import type { Store } from "../db/store.ts";
import { JdoError, withHint } from "../errors.ts";
import { style } from "../output/colors.ts";
import { progressBar } from "../output/progress.ts";
import { backupNow, replaceDatabase } from "../db/backup.ts";
import {
  displayUrl,
  envCloudToken,
  envCloudUrl,
  hostOf,
  resolveSyncConfig,
  type SyncConfig,
  validateCloudUrl,
} from "./config.ts";
import { liveRowCount } from "./synced.ts";
import { LibsqlCloud, schemaMismatch } from "./libsql_cloud.ts";
import { syncNow, type SyncReport } from "./service.ts";
import { acquireSyncLock } from "./lock.ts";
import { readSyncState, writeSyncState } from "./state.ts";
import { RESTORE_MARK } from "./restore.ts";
import { setDeviceName } from "./devices.ts";
import { type DataKey, newDataKey, shortKeyId } from "./e2e_key.ts";
import { verifyKey } from "./e2e_envelope.ts";
import {
  ENV_KEY,
  findSyncKey,
  type FoundKey,
  type KeySource,
  promptKey,
  readKeyFile,
  saveSyncKey,
} from "./e2e_keys.ts";
import { EncryptingCloud } from "./encrypting_cloud.ts";
import { removeViewStamp } from "./view_stamp.ts";

export interface SetupOptions {
  url?: string;
  tokenStdin?: boolean;
  upload?: boolean;
  backup?: boolean;
  yes?: boolean;
  /** Replace this device's data with the cloud's (after a backup): the only way setup drops local data. */
  discardLocal?: boolean;
  /** This device's name in the device directory. */
  name?: string;
  /** Encrypt the (empty) cloud end to end with a new key, or the one given. */
  encrypt?: boolean;
  /** A file holding the recovery phrase of the cloud's key. */
  keyFile?: string;
}

const NOTHING_SAVED = "nothing was saved";

export const GUIDANCE =
  `jdo keeps your data in a local file and can sync it through a Turso (libSQL)
cloud database, so every device you use has the same commitments, online or not.

You need a database URL and a token. With the Turso CLI (https://docs.turso.tech):
  turso db create jdo              create the database (once)
  turso db show --url jdo          its URL, e.g. libsql://jdo-you.turso.io
  turso db tokens create jdo       a token that can read and write
Any libSQL server works too (sqld): use its URL and a token it accepts.
`;

/**
 * A TLS URL (libsql://, https://) aimed at a plain-HTTP server (a local sqld)
 * ends in a cut connection: say so, and name the http:// URL for a local one.
 */
export function explainCutTls(error: unknown, url: string): unknown {
  if (!(error instanceof JdoError) || !/the connection was cut$/.test(error.message)) return error;
  const parsed = new URL(url);
  if (parsed.protocol !== "libsql:" && parsed.protocol !== "https:") return error;
  const local = ["localhost", "127.0.0.1", "[::1]"].includes(parsed.hostname);
  const advice = local
    ? `for a local sqld use http://${parsed.host}`
    : "check the URL (turso db show --url <db>)";
  return new JdoError(
    error.code,
    `${error.message} — ${parsed.protocol}// speaks TLS and the server may serve plain HTTP; ${advice}`,
    { cause: error },
  );
}

/**
 * Checks everything before anything is saved: reachable, token, write access,
 * schema. Returns the cloud's id (null when it has none yet) and its
 * end-to-end check record (null: not encrypted).
 */
export async function validateCloud(
  url: string,
  token: string,
): Promise<{ cloudId: string | null; encryption: string | null }> {
  const cloud = new LibsqlCloud({ url, token, requestTimeoutMs: 10_000 });
  try {
    let info = await cloud.info().catch((error) => {
      throw explainCutTls(error, url);
    });
    if (info.schemaVersion > LATEST_SCHEMA_VERSION) throw schemaMismatch(info.schemaVersion);
    if (info.schemaVersion < LATEST_SCHEMA_VERSION || !info.cloudId) {
      await cloud.migrate();
      info = await cloud.info();
    }
    await cloud.assertWritable();
    return { cloudId: info.cloudId, encryption: info.encryption ?? null };
  } finally {
    await cloud.close();
  }
}

/**
 * The key setup uses: for an encrypted cloud, the one given (--key-file,
 * JDO_SYNC_KEY, a stored one, or typed at a hidden prompt), proven against
 * the cloud's check record before anything is saved or pushed — never a new
 * one; for `--encrypt` on an empty cloud, the one given or a new one, made
 * the cloud's key here (its phrase shown first). Undefined: a plain cloud.
 */
async function setupKey(
  ctx: AppContext,
  options: SetupOptions,
  url: string,
  token: string,
  cloud: { cloudId: string | null; encryption: string | null },
): Promise<{ key: DataKey; fresh: boolean; source: KeySource } | undefined> {
  const given = async (): Promise<FoundKey> => {
    if (options.keyFile) return { key: await readKeyFile(options.keyFile), source: "file" };
    const found = await findSyncKey(ctx);
    if (found.key || !cloud.encryption || !ctx.io.stdinIsTty) return found;
    return { key: await promptKey(ctx), source: "prompt" };
  };
  if (cloud.encryption) {
    const found = await given();
    verifyKey(found.key, cloud.cloudId!, cloud.encryption);
    ctx.io.err(`✓ The key opens this cloud's check record (key ${shortKeyId(found.key!.id)})`);
    return { key: found.key!, fresh: false, source: found.source };
  }
  if (!options.encrypt) return undefined;
  const found = options.keyFile || ctx.env[ENV_KEY]
    ? await given()
    : { key: undefined, source: "none" as KeySource };
  const key = found.key ?? newDataKey();
  const wrapper = new EncryptingCloud(
    new LibsqlCloud({ url, token, requestTimeoutMs: 10_000 }),
    key,
  );
  try {
    if (!found.key) {
      // Shown before the cloud depends on it: the only copy outside this device.
      ctx.io.out(
        `Recovery phrase of this cloud's encryption key (key ${
          shortKeyId(key.id)
        }):\n\n  ${key.phrase}\n\nWrite it down and keep it safe: every other device needs it, and without it and\n` +
          "this device the cloud's copy cannot be read by anyone. `jdo sync key show` prints it again.",
      );
    }
    await wrapper.enable(key);
  } finally {
    await wrapper.close();
  }
  // The cloud is encrypted under this key now: it is kept at once.
  if (found.source !== "env") {
    await ctx.store(); // the data directory exists from here on
    ctx.io.err(await saveSyncKey(ctx, key));
  }
  return { key, fresh: !found.key, source: found.source === "none" ? "auth_store" : found.source };
}

async function readToken(ctx: AppContext): Promise<string> {
  // At a terminal stdin would echo the token and wait for Ctrl-D: ask, hidden.
  const token = ctx.io.stdinIsTty
    ? (await ctx.prompter.password("Token (input hidden):")).trim()
    : (await ctx.io.readStdin()).trim();
  if (!token) throw new JdoError("USAGE", "--token-stdin was given but stdin held no token");
  if (/\s/.test(token)) {
    throw new JdoError("USAGE", "The token on stdin contains spaces or several lines");
  }
  return token;
}

/** Deletes every row of this device's data (after it was kept in a backup). */
async function startFromCloud(store: Store): Promise<void> {
  await store.write(async (w) => {
    for (const def of [...ENTITIES].reverse()) await w.tx.execute(`DELETE FROM ${def.table}`);
    await w.tx.execute("DELETE FROM _sync_conflicts");
    await w.tx.execute("DELETE FROM _sync_outbox");
    await writeSyncState(w, { watermark: "0", cloud_id: null, [RESTORE_MARK]: null });
  }, { foreignKeys: false });
}

/**
 * Removes a directory something may still write into (a replica's native
 * thread cannot be waited for when the network is dead): it is renamed
 * first, in one step, so no file created by path later lands under the old
 * name and it cannot be refilled half-way through the removal.
 */
async function removeAtOnce(dir: string): Promise<void> {
  const doomed = `${dir}.removing-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.rename(dir, doomed);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  await Deno.remove(doomed, { recursive: true });
}

/** Asks (or takes from a flag, or defaults to yes when nobody can be asked). */
function asker(ctx: AppContext, interactive: boolean) {
  return (message: string, flag: boolean | undefined, fallback = true) =>
    flag ?? (interactive ? ctx.prompter.confirm(message, fallback) : Promise.resolve(fallback));
}

const items = (n: number) => `${n} item${n === 1 ? "" : "s"}`;

/**
 * Decides what happens to this device's data before the first sync, and
 * never drops any of it unless --discard-local (or its interactive
 * equivalent) says so. Data already in this cloud (a re-run to replace a
 * token) needs no question: its unsynced changes are pushed by the first
 * sync. Data the cloud lacks is uploaded (merged by id), or, on request,
 * set aside in a backup while the device starts from the cloud's data.
 * Returns that backup's path when the device was emptied.
 */
async function settleLocalData(
  ctx: AppContext,
  store: Store,
  options: SetupOptions,
  interactive: boolean,
  cloudId: string | null,
): Promise<string | undefined> {
  const io = ctx.io;
  if (options.discardLocal && options.upload === true) {
    throw new JdoError("USAGE", "--upload and --discard-local contradict each other");
  }
  const localRows = await liveRowCount(store);
  const state = await readSyncState(store);
  const sameCloud = cloudId !== null && state.cloudId === cloudId;
  const ask = asker(ctx, interactive);
  if (options.discardLocal) {
    return await discardLocal(ctx, store, localRows, state.pendingChanges);
  }
  if (sameCloud) {
    // Already this cloud's data: nothing to upload or to decide.
    if (options.upload === false) {
      io.err(
        `This device's data is already in this cloud; --no-upload changes nothing${
          state.pendingChanges
            ? ` (${state.pendingChanges} unsynced changes are sent as usual)`
            : ""
        }`,
      );
    }
    return undefined;
  }
  if (localRows === 0) return undefined;
  if (options.upload === false) {
    throw new JdoError(
      "USAGE",
      `--no-upload would leave this device's ${
        items(localRows)
      } out of the cloud, and a synced device cannot keep items local-only`,
      {
        hint:
          "use --upload to merge them into the cloud, or --discard-local to replace them with the cloud's data (a backup is taken first); nothing was saved",
      },
    );
  }
  const wantBackup = await ask(
    `This device has ${items(localRows)}. Back up the local database first?`,
    options.backup,
  );
  if (wantBackup) {
    io.err(`Backed up to ${await backupNow(store, ctx.paths.backupsDir, ctx.clock.now())}`);
  }
  if (await ask(`Upload these ${items(localRows)} to the cloud?`, options.upload)) return undefined;
  const discard = await ctx.prompter.confirm(
    `Discard this device's ${
      items(localRows)
    } and start from the cloud's data instead? (a backup is taken first)`,
    false,
  );
  if (!discard) {
    throw new JdoError("CANCELLED", "Nothing was saved; this device's data is unchanged");
  }
  return await discardLocal(ctx, store, localRows, state.pendingChanges);
}

/** --discard-local: back up, then empty the device for the cloud's data. */
async function discardLocal(
  ctx: AppContext,
  store: Store,
  localRows: number,
  pending: number,
): Promise<string> {
  const backupPath = await backupNow(store, ctx.paths.backupsDir, ctx.clock.now());
  const lock = await acquireSyncLock(ctx.paths.syncLock, 15_000);
  try {
    await removeViewStamp(ctx);
    await startFromCloud(store);
  } finally {
    await lock.release();
  }
  ctx.io.err(
    `Discarded this device's ${items(localRows)}${
      pending ? ` and ${pending} unsynced changes` : ""
    }; they are kept in ${backupPath}. Starting from the cloud's data.`,
  );
  return backupPath;
}

export async function runSetup(ctx: AppContext, options: SetupOptions): Promise<SyncReport> {
  // Setup may point this device at another cloud: its view is asked of the
  // database until setup's own sync succeeds (src/sync/view_stamp.ts).
  await removeViewStamp(ctx);
  const io = ctx.io;
  const s = style(io.color);
  const interactive = io.stdinIsTty && !options.tokenStdin;
  const envToken = envCloudToken(ctx.env);
  const envUrl = envCloudUrl(ctx.env);
  if (!interactive && !(options.url ?? envUrl)) {
    throw new JdoError(
      "USAGE",
      'Non-interactive setup needs --url URL and the token on stdin: echo "$TOKEN" | jdo sync setup --url URL --token-stdin --yes',
    );
  }
  if (!interactive && !options.tokenStdin && !envToken) {
    throw new JdoError(
      "USAGE",
      "Give the token on stdin with --token-stdin (never as an argument)",
    );
  }
  const settings = await ctx.settings();
  if (settings.turso_enabled) {
    const current = settings.turso_db_url ? displayUrl(settings.turso_db_url) : "a database";
    if (!options.yes) {
      if (!interactive) {
        throw new JdoError(
          "USAGE",
          `Sync is already set up with ${current}; add --yes to replace it`,
        );
      }
      const replace = await ctx.prompter.confirm(
        `Sync is already set up with ${current}. Replace that configuration?`,
        false,
      );
      if (!replace) throw new JdoError("CANCELLED", "Kept the current sync configuration");
    }
  }

  let url: string;
  let token: string;
  let tokenFromEnv = false;
  let cloudId: string | null = null;
  let checked = { cloudId: null as string | null, encryption: null as string | null };
  if (interactive) {
    io.out(GUIDANCE);
    // A re-run offers the URL in use: Enter keeps it.
    let lastUrl = envUrl || settings.turso_db_url || undefined;
    for (;;) {
      const rawUrl = options.url ?? await ctx.prompter.input("Database URL:", { default: lastUrl });
      let tokenInput: string;
      try {
        url = validateCloudUrl(rawUrl);
        lastUrl = rawUrl.trim(); // a retry offers it again (only the token may be wrong)
        tokenInput = (await ctx.prompter.password("Token (input hidden):")).trim();
        if (!tokenInput) throw new JdoError("USAGE", "The token is empty");
        io.secrets.add(tokenInput);
        io.err(`Checking ${hostOf(url)}…`);
        checked = await validateCloud(url, tokenInput);
        cloudId = checked.cloudId;
        token = tokenInput;
        break;
      } catch (error) {
        if (!(error instanceof JdoError) || error.code === "CANCELLED") throw error;
        io.err(s.red(`✗ ${error.message}`));
        options.url = undefined;
        if (!await ctx.prompter.confirm("Try again?", true)) {
          throw withHint(error, NOTHING_SAVED);
        }
      }
    }
  } else {
    url = validateCloudUrl((options.url ?? envUrl)!);
    tokenFromEnv = !options.tokenStdin;
    token = options.tokenStdin ? await readToken(ctx) : envToken!;
    io.secrets.add(token);
    try {
      checked = await validateCloud(url, token);
      cloudId = checked.cloudId;
    } catch (error) {
      if (error instanceof JdoError) throw withHint(error, NOTHING_SAVED);
      throw error;
    }
  }
  io.err(s.green(`✓ Connected to ${hostOf(url)}: token accepted, can write, schema compatible`));
  let keyed: Awaited<ReturnType<typeof setupKey>>;
  try {
    keyed = await setupKey(ctx, options, url, token, checked);
  } catch (error) {
    if (error instanceof JdoError) throw withHint(error, error.hint ?? NOTHING_SAVED);
    throw error;
  }

  const store = await ctx.store();
  const setAside = await settleLocalData(ctx, store, options, interactive, cloudId);

  // The first sync runs with the new configuration held in memory: only
  // when it has worked are the token and the settings saved.
  const saved = await resolveSyncConfig(ctx, { token: false });
  const config: SyncConfig = {
    ...saved,
    enabled: true,
    url,
    urlSource: "settings",
    token,
    tokenSource: tokenFromEnv ? "env" : "auth_store",
    key: keyed?.key,
    keySource: keyed?.source,
  };
  // The name goes with the first sync's device record (a local setting).
  if (options.name !== undefined) await setDeviceName(await ctx.store(), options.name);
  let upload: ReturnType<typeof progressBar> | undefined;
  let report: SyncReport;
  let undone: Promise<void> | undefined;
  /**
   * Nothing of a failed (or interrupted) first sync stays; an emptied device
   * gets its data back. Once only: Ctrl-C's cleanup and the failed sync's
   * catch may both ask. On Ctrl-C the sync's own cleanup (registered later,
   * run first) has stopped the replica and the opened copy by then.
   */
  const undoFirstSync = () =>
    undone ??= (async () => {
      await removeAtOnce(ctx.paths.cloudDir).catch(() => {});
      if (!setAside) return;
      await ctx.close();
      await replaceDatabase(setAside, ctx.paths.database);
    })();
  const forgetUndo = ctx.interrupts.onInterrupt(undoFirstSync);
  try {
    report = await syncNow(ctx, {
      config,
      hooks: {
        replicaOnly: true,
        onPushProgress(done, total) {
          upload ??= progressBar(io, "Uploading", total);
          upload.update(done);
        },
      },
    });
  } catch (error) {
    upload?.abort();
    // --no-upload emptied this device for the cloud's data: it is put back.
    await undoFirstSync();
    const hint = setAside
      ? `nothing was saved; this device's data was put back from ${setAside}`
      : NOTHING_SAVED;
    throw error instanceof JdoError ? withHint(error, hint) : error;
  } finally {
    forgetUndo();
  }
  if (ctx.interrupts.interrupted) {
    // Ctrl-C came as the sync ended: it is undone, and nothing is saved.
    upload?.abort();
    await undoFirstSync();
    throw new JdoError("CANCELLED", "Interrupted; nothing was saved");
  }
  upload?.finish();

  const next = {
    ...settings,
    turso_enabled: true,
    turso_db_url: url,
    device_id: await (await ctx.store()).deviceId(),
  };
  if (!tokenFromEnv) {
    const where = await ctx.tokens.save(token, ctx.clock.now());
    io.err(
      where === "keyring"
        ? "Token saved in the OS keyring"
        : `Token saved in ${ctx.paths.auth} (readable only by you)`,
    );
  }
  // A key given for an encrypted cloud is kept once the first sync worked (a new one already is).
  if (keyed && !keyed.fresh && ["file", "prompt"].includes(keyed.source)) {
    io.err(await saveSyncKey(ctx, keyed.key));
  }
  await saveSettings(ctx.paths.settings, next);
  ctx.setSettings(next);
  return report;
}
