/**
 * The sync lock and Ctrl-C: a Ctrl-C that lands while the lock file is being
 * written (after the file exists, before the acquisition returns) still
 * removes it. Registered only after the acquisition, the release missed that
 * window and the lock stayed behind (a flaky sync_ux test showed it once in
 * a fresh-clone CI run).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { captureIo } from "../app/io.ts";
import { signalInterrupts } from "../app/interrupt.ts";
import { acquireSyncLock, acquireSyncLockGuarded } from "./lock.ts";

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** Ctrl-C sent the moment the acquisition starts, before it returns; the exit recorded. */
async function ctrlCDuringAcquire(
  acquire: (i: ReturnType<typeof signalInterrupts>, path: string) => Promise<unknown>,
): Promise<boolean> {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "sync.lock");
  let handler!: () => void;
  let exited!: () => void;
  const exit = new Promise<void>((resolve) => exited = resolve);
  const interrupts = signalInterrupts({
    io: captureIo(),
    exit: () => exited(),
    signals: { add: (h) => handler = h, remove: () => {} },
  });
  try {
    let acquired!: Promise<unknown>;
    interrupts.guard("Interrupted", async () => {
      acquired = acquire(interrupts, path);
      handler(); // Ctrl-C before the acquisition's continuation runs
      await acquired;
      await new Promise(() => {}); // the work goes on until the exit
    }).catch(() => {});
    await exit;
    // What is left once the acquisition has run its course (a process
    // stays alive for it: the lock file is written by a pending fs call).
    await acquired.catch(() => {});
    return await exists(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("sync lock: Ctrl-C while the lock is being taken still releases it", async () => {
  const left = await ctrlCDuringAcquire((i, path) => acquireSyncLockGuarded(i, path, 0));
  assert.equal(left, false, "the lock file was left behind");
});

Deno.test("sync lock: registered after the acquisition, the same Ctrl-C leaves it (why the guard exists)", async () => {
  const left = await ctrlCDuringAcquire(async (i, path) => {
    const lock = await acquireSyncLock(path, 0);
    i.onInterrupt(() => lock.release());
  });
  assert.equal(left, true);
});
