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
import { liveRowCount } from "./engine.ts";
import { LibsqlCloud, schemaMismatch } from "./libsql_cloud.ts";
import { syncNow, type SyncReport } from "./service.ts";
import { acquireSyncLock } from "./lock.ts";
import { writeSyncState } from "./state.ts";
import { setDeviceName } from "./devices.ts";

export interface SetupOptions {
  url?: string;
  tokenStdin?: boolean;
  upload?: boolean;
  backup?: boolean;
  yes?: boolean;
  /** This device's name in the device directory. */
  name?: string;
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

/** Checks everything before anything is saved: reachable, token, write access, schema. */
export async function validateCloud(url: string, token: string): Promise<void> {
  const cloud = new LibsqlCloud({ url, token, requestTimeoutMs: 10_000 });
  try {
    const info = await cloud.info();
    if (info.schemaVersion > LATEST_SCHEMA_VERSION) throw schemaMismatch(info.schemaVersion);
    if (info.schemaVersion < LATEST_SCHEMA_VERSION) await cloud.migrate();
    await cloud.assertWritable();
  } finally {
    await cloud.close();
  }
}

async function readToken(ctx: AppContext): Promise<string> {
  const token = (await ctx.io.readStdin()).trim();
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
    await writeSyncState(w, { watermark: "0", cloud_id: null });
  }, { foreignKeys: false });
}

export async function runSetup(ctx: AppContext, options: SetupOptions): Promise<SyncReport> {
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
  if (interactive) {
    io.out(GUIDANCE);
    let lastUrl = envUrl;
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
        await validateCloud(url, tokenInput);
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
      await validateCloud(url, token);
    } catch (error) {
      if (error instanceof JdoError) throw withHint(error, NOTHING_SAVED);
      throw error;
    }
  }
  io.err(s.green(`✓ Connected to ${hostOf(url)}: token accepted, can write, schema compatible`));

  const store = await ctx.store();
  const localRows = await liveRowCount(store);
  /** The backup this device's data went to when it starts from the cloud's data. */
  let setAside: string | undefined;
  if (localRows > 0) {
    const ask = (message: string, flag: boolean | undefined) =>
      flag ?? (interactive ? ctx.prompter.confirm(message, true) : Promise.resolve(true));
    const wantBackup = await ask(
      `This device has ${localRows} items. Back up the local database first?`,
      options.backup,
    );
    let backupPath: string | undefined;
    if (wantBackup) {
      backupPath = await backupNow(store, ctx.paths.backupsDir, ctx.clock.now());
      io.err(`Backed up to ${backupPath}`);
    }
    const upload = await ask(`Upload these ${localRows} items to the cloud?`, options.upload);
    if (!upload) {
      backupPath ??= await backupNow(store, ctx.paths.backupsDir, ctx.clock.now());
      setAside = backupPath;
      const lock = await acquireSyncLock(ctx.paths.syncLock, 15_000);
      try {
        await startFromCloud(store);
      } finally {
        await lock.release();
      }
      io.err(
        `Starting this device from the cloud's data; your old local data is kept in ${backupPath}`,
      );
    }
  }

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
  };
  // The name goes with the first sync's device record (a local setting).
  if (options.name !== undefined) await setDeviceName(await ctx.store(), options.name);
  let upload: ReturnType<typeof progressBar> | undefined;
  let report: SyncReport;
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
    await Deno.remove(ctx.paths.cloudDir, { recursive: true }).catch(() => {});
    let hint = NOTHING_SAVED;
    if (setAside) {
      // --no-upload emptied this device for the cloud's data: put it back.
      ctx.close();
      await replaceDatabase(setAside, ctx.paths.database);
      hint = `nothing was saved; this device's data was put back from ${setAside}`;
    }
    throw error instanceof JdoError ? withHint(error, hint) : error;
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
  await saveSettings(ctx.paths.settings, next);
  ctx.setSettings(next);
  return report;
}
