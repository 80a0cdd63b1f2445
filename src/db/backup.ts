import { join } from "node:path";
import { pathExists } from "../config/atomic_file.ts";
import { ensurePrivateDir } from "../config/paths.ts";
import { JdoError } from "../errors.ts";
import { LATEST_SCHEMA_VERSION } from "./migrations.ts";
import { schemaVersion, sqliteMessage, tooNewError } from "./database.ts";
import type { Store } from "./store.ts";

function stamp(date: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}-${
    p(date.getUTCHours())
  }${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`;
}

/** backups/jdo-YYYYMMDD-HHMMSS.db, with a suffix if that name is taken. */
export async function defaultBackupPath(dir: string, now: Date): Promise<string> {
  await ensurePrivateDir(dir);
  const base = `jdo-${stamp(now)}`;
  let candidate = join(dir, `${base}.db`);
  for (let i = 2; await pathExists(candidate); i++) candidate = join(dir, `${base}-${i}.db`);
  return candidate;
}

/** A consistent copy of the working database (VACUUM INTO), mode 0600. */
export async function backupTo(store: Store, path: string): Promise<string> {
  if (await pathExists(path)) {
    throw new JdoError("IO_ERROR", `Cannot write the backup: ${path} already exists`);
  }
  try {
    await store.client.execute({ sql: "VACUUM INTO ?", args: [path] });
  } catch (error) {
    throw new JdoError("IO_ERROR", `Cannot write the backup ${path}: ${sqliteMessage(error)}`, {
      cause: error,
    });
  }
  if (Deno.build.os !== "windows") await Deno.chmod(path, 0o600);
  return path;
}

/** Checks that a file is a jdo database this binary can open; returns its schema version. */
export async function inspectBackup(path: string): Promise<number> {
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) throw new Error("not a file");
  } catch {
    throw new JdoError("NOT_FOUND", `No backup file at ${path}`);
  }
  let version: number;
  const { createClient } = await import("@libsql/client");
  const client = createClient({ url: `file:${path}` });
  try {
    version = await schemaVersion(client);
    await client.execute("SELECT count(*) FROM commitments");
  } catch (error) {
    throw new JdoError(
      "INVALID_INPUT",
      `${path} is not a jdo database (${sqliteMessage(error)})`,
    );
  } finally {
    client.close();
  }
  if (version === 0) throw new JdoError("INVALID_INPUT", `${path} is not a jdo database`);
  if (version > LATEST_SCHEMA_VERSION) throw tooNewError("backup", version);
  return version;
}

/** Replaces the working database file with a copy of `source` (atomic rename). */
export async function replaceDatabase(source: string, target: string): Promise<void> {
  const tmp = `${target}.restore-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.copyFile(source, tmp);
  if (Deno.build.os !== "windows") await Deno.chmod(tmp, 0o600);
  for (const suffix of ["-wal", "-shm"]) await Deno.remove(target + suffix).catch(() => {});
  await Deno.rename(tmp, target);
}

/** Backs the working database up (default: backups/jdo-YYYYMMDD-HHMMSS.db); returns the path. */
export async function backupNow(
  store: Store,
  backupsDir: string,
  now: Date,
  out?: string,
): Promise<string> {
  return await backupTo(store, out ?? await defaultBackupPath(backupsDir, now));
}

export interface SetAside {
  /** The backup file (a database, or the raw bytes of the working file). */
  path: string;
  /** Every file written: the copy, plus -wal and -shm for a raw copy. */
  files: string[];
  /** Why a byte-for-byte copy was made instead of a consistent backup. */
  rawBecause?: string;
}

/**
 * Keeps the working database before it is replaced: a consistent backup when
 * it can be read, otherwise (a corrupt or unreadable file) a byte-for-byte
 * copy of the file and its -wal/-shm next to it, so nothing of it is lost.
 */
export async function setAsideDatabase(
  openStore: () => Promise<Store>,
  database: string,
  backupsDir: string,
  now: Date,
): Promise<SetAside> {
  const path = await defaultBackupPath(backupsDir, now);
  let failure: unknown;
  try {
    await backupTo(await openStore(), path);
    return { path, files: [path] };
  } catch (error) {
    if (!await pathExists(database)) throw error;
    failure = error;
  }
  await Deno.remove(path).catch(() => {}); // a half-written VACUUM INTO
  const files: string[] = [];
  for (const suffix of ["", "-wal", "-shm"]) {
    const from = database + suffix;
    if (suffix && !await pathExists(from)) continue;
    try {
      await Deno.copyFile(from, path + suffix);
      if (Deno.build.os !== "windows") await Deno.chmod(path + suffix, 0o600);
    } catch (error) {
      throw new JdoError(
        "IO_ERROR",
        `Cannot copy ${from} aside to ${path + suffix}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    files.push(path + suffix);
  }
  const reason = failure instanceof JdoError ? failure.message : sqliteMessage(failure);
  return { path, files, rawBecause: reason };
}
