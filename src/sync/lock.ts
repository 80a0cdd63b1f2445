import { JdoError } from "../errors.ts";

/** Stale after this long even if the pid looks alive (pid reuse). */
const STALE_MS = 10 * 60 * 1000;

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

async function readHolder(path: string): Promise<{ pid: number; at: number } | undefined> {
  try {
    const [pid, at] = (await Deno.readTextFile(path)).trim().split(" ").map(Number);
    return { pid, at };
  } catch {
    return undefined;
  }
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
          const holder = await readHolder(path);
          if (holder?.pid === Deno.pid) await Deno.remove(path).catch(() => {});
        },
      };
    }
    const holder = await readHolder(path);
    const stale = !holder || Number.isNaN(holder.pid) || !alive(holder.pid) ||
      Date.now() - holder.at > STALE_MS;
    if (stale) {
      // Take over by rename so two takers cannot both succeed.
      const grave = `${path}.stale-${Deno.pid}`;
      try {
        await Deno.rename(path, grave);
        await Deno.remove(grave).catch(() => {});
      } catch { /* someone else took it over first */ }
      continue;
    }
    if (Date.now() >= deadline) {
      throw new JdoError("SYNC_BUSY", `Another sync is running (process ${holder.pid})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
