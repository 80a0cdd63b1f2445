import type { Interrupts } from "../app/interrupt.ts";
import { JdoError } from "../errors.ts";

/** Stale after this long even if the pid looks alive (pid reuse). */
const STALE_MS = 10 * 60 * 1000;
/** A lock file without a valid "pid time" line is stale after this long. */
const HALF_WRITTEN_MS = 5_000;

export interface SyncLock {
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  if (pid === Deno.pid) return true;
  if (Deno.build.os === "linux") {
    try {
      Deno.statSync(`/proc/${pid}`);
      return true;
    } catch {
      return false;
    }
  }
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

/** The lock file's text, or undefined when there is none. */
async function readLock(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
}

function parseHolder(text: string): { pid: number; at: number } | undefined {
  const [pid, at] = text.trim().split(" ").map(Number);
  return Number.isInteger(pid) && pid > 0 && Number.isFinite(at) ? { pid, at } : undefined;
}

/** Whether the lock text names a dead process, or is too old, or is left half-written. */
async function isStale(path: string, text: string): Promise<boolean> {
  const holder = parseHolder(text);
  if (holder) return !alive(holder.pid) || Date.now() - holder.at > STALE_MS;
  // Empty or garbled: being written this very moment, or its writer was
  // killed while writing it. Only the latter stays that way for long.
  const info = await Deno.stat(path).catch(() => undefined);
  return info?.mtime ? Date.now() - info.mtime.getTime() > HALF_WRITTEN_MS : false;
}

/**
 * Removes the lock at `path` if it still holds `staleText`. Only the process
 * that created `path.takeover` (exclusively) may remove a lock, and it looks
 * again first: so a lock that another process has just taken over is never
 * removed by a late taker that judged the previous one stale. Returns false
 * when another process is taking over right now.
 */
async function takeOver(path: string, staleText: string): Promise<boolean> {
  const mutex = `${path}.takeover`;
  if (!await tryCreate(mutex)) {
    const text = await readLock(mutex);
    // A taker killed in the middle leaves its mutex behind.
    if (text !== undefined && await isStale(mutex, text)) {
      await Deno.remove(mutex).catch(() => {});
    }
    return false;
  }
  try {
    if (await readLock(path) === staleText) await Deno.remove(path).catch(() => {});
  } finally {
    await Deno.remove(mutex).catch(() => {});
  }
  return true;
}

async function tryCreate(path: string): Promise<boolean> {
  try {
    await Deno.writeTextFile(path, `${Deno.pid} ${Date.now()}\n`, { createNew: true, mode: 0o600 });
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return false;
    throw error;
  }
}

/**
 * Takes the per-data-directory sync lock (a file holding "pid time"). A lock
 * left by a dead process, or older than ten minutes, is taken over.
 * Waits up to `waitMs`, then fails with SYNC_BUSY.
 */
export async function acquireSyncLock(path: string, waitMs: number): Promise<SyncLock> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (await tryCreate(path)) {
      return {
        release: async () => {
          const text = await readLock(path);
          if (text && parseHolder(text)?.pid === Deno.pid) await Deno.remove(path).catch(() => {});
        },
      };
    }
    const text = await readLock(path);
    if (text === undefined) continue; // released meanwhile: try again
    if (await isStale(path, text)) {
      if (!await takeOver(path, text)) await new Promise((r) => setTimeout(r, 20));
      continue;
    }
    if (Date.now() >= deadline) {
      const pid = parseHolder(text)?.pid;
      throw new JdoError(
        "SYNC_BUSY",
        `Another sync is running${pid ? ` (process ${pid})` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * acquireSyncLock for work Ctrl-C may stop: the release is registered as an
 * interrupt cleanup before the lock file exists, so a Ctrl-C that lands
 * while the file is being written still removes it (the cleanup waits for
 * the acquisition, then releases). Registered after the acquisition, a
 * Ctrl-C in between left the lock behind. `release()` also drops the cleanup.
 */
export function acquireSyncLockGuarded(
  interrupts: Pick<Interrupts, "onInterrupt">,
  path: string,
  waitMs: number,
): Promise<SyncLock> {
  const acquiring = acquireSyncLock(path, waitMs);
  const forget = interrupts.onInterrupt(async () => {
    await (await acquiring.catch(() => undefined))?.release();
  });
  return acquiring.then(
    (lock) => ({
      release: async () => {
        await lock.release();
        forget();
      },
    }),
    (error) => {
      forget();
      throw error;
    },
  );
}

/**
 * Who holds the lock at `path`: undefined when free; otherwise the holder's
 * pid (when readable) and whether the lock is stale (a dead process, too
 * old, or left half-written) and may be taken over.
 */
export async function inspectSyncLock(
  path: string,
): Promise<{ pid?: number; stale: boolean } | undefined> {
  const text = await readLock(path);
  if (text === undefined) return undefined;
  return { pid: parseHolder(text)?.pid, stale: await isStale(path, text) };
}
