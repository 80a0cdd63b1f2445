import { join } from "./file_path.ts";

export interface Paths {
  home: string;
  database: string;
  settings: string;
  auth: string;
  cloudDir: string;
  backupsDir: string;
  logsDir: string;
  log: string;
  syncLock: string;
}

type Env = Record<string, string | undefined>;

/** The platform's per-user data directory for jdo, or $JDO_HOME. */
export function dataHome(env: Env, os: string = Deno.build.os): string {
  if (env.JDO_HOME) return env.JDO_HOME;
  const home = env.HOME ?? env.USERPROFILE ?? ".";
  if (os === "darwin") return join(home, "Library", "Application Support", "jdo");
  if (os === "windows") {
    return join(env.LOCALAPPDATA ?? join(home, "AppData", "Local"), "jdo");
  }
  return join(env.XDG_DATA_HOME || join(home, ".local", "share"), "jdo");
}

export function resolvePaths(env: Env, os?: string): Paths {
  const home = dataHome(env, os);
  return {
    home,
    database: env.JDO_DATABASE_PATH || join(home, "jdo.db"),
    settings: join(home, "settings.json"),
    auth: join(home, "auth.json"),
    cloudDir: join(home, "cloud"),
    backupsDir: join(home, "backups"),
    logsDir: join(home, "logs"),
    log: join(home, "logs", "jdo.log"),
    syncLock: join(home, "sync.lock"),
  };
}

/** Creates a directory (and parents) readable only by the user. */
export async function ensurePrivateDir(path: string): Promise<void> {
  await Deno.mkdir(path, { recursive: true, mode: 0o700 });
  if (Deno.build.os !== "windows") {
    const info = await Deno.stat(path);
    if (info.mode !== null && (info.mode & 0o077) !== 0) {
      await Deno.chmod(path, 0o700);
    }
  }
}

/**
 * Makes every file directly in `dir` readable only by the user: the native
 * libSQL library creates the replica and its -wal, -shm and index files with
 * the process umask (0644 under the usual 022).
 */
export async function privateFilesIn(dir: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile) continue;
      const path = join(dir, entry.name);
      const info = await Deno.lstat(path).catch(() => undefined);
      if (info?.mode != null && (info.mode & 0o077) !== 0) {
        await Deno.chmod(path, 0o600).catch(() => {});
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
