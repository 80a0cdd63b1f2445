/**
 * Ctrl-C during work that talks to the cloud (setup's checks and upload,
 * `sync now`): instead of dying mid-line with the sync lock left behind, jdo
 * runs the registered cleanups (release the lock, drop a half-made replica),
 * prints one line saying what to do next and exits 130. Every write jdo
 * makes is one transaction, so nothing already done is lost; the next run
 * finishes the job. A second Ctrl-C stops at once.
 *
 * Outside a guard Ctrl-C keeps the default behaviour (the listener is only
 * installed while a guard runs).
 */
import type { Io } from "./io.ts";

export const EXIT_INTERRUPTED = 130;

export interface Interrupts {
  /** Runs `work` with Ctrl-C turned into cleanups, `message` on stderr and exit 130. */
  guard<T>(message: string, work: () => Promise<T>): Promise<T>;
  /** A cleanup for Ctrl-C (newest runs first); returns its removal. */
  onInterrupt(cleanup: () => unknown): () => void;
  /** Whether Ctrl-C came (true from before the first cleanup runs). */
  readonly interrupted: boolean;
}

export interface InterruptOptions {
  io: Io;
  /** How the process ends (tests pass a recorder). */
  exit?: (code: number) => void;
  signals?: {
    add(handler: () => void): void;
    remove(handler: () => void): void;
  };
}

const denoSignals = {
  add: (handler: () => void) => Deno.addSignalListener("SIGINT", handler),
  remove: (handler: () => void) => Deno.removeSignalListener("SIGINT", handler),
};

/** Cleanups get this long in all before jdo exits anyway. */
const CLEANUP_BUDGET_MS = 3_000;

export function signalInterrupts(options: InterruptOptions): Interrupts {
  const exit = options.exit ?? ((code: number) => Deno.exit(code));
  const signals = options.signals ?? denoSignals;
  const messages: string[] = [];
  const cleanups = new Set<() => unknown>();
  let firing = false;
  /** The Ctrl-C under way: its cleanups, its line and the exit. */
  let handling: Promise<void> | undefined;

  const runCleanups = async () => {
    for (const cleanup of [...cleanups].reverse()) {
      try {
        await cleanup();
      } catch {
        // Best effort: the next run takes over whatever is left.
      }
    }
  };

  const onSignal = () => {
    if (firing) return exit(EXIT_INTERRUPTED); // a second Ctrl-C: stop now
    firing = true;
    handling = handle();
  };

  const handle = async () => {
    const message = messages[0];
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      runCleanups(),
      new Promise((resolve) => timer = setTimeout(resolve, CLEANUP_BUDGET_MS)),
    ]);
    clearTimeout(timer);
    // The terminal echoed "^C" without a newline: start a line of our own.
    if (options.io.stderrIsTty) options.io.errRaw("\n");
    options.io.err(`jdo: ${message}`);
    exit(EXIT_INTERRUPTED);
  };

  return {
    get interrupted() {
      return firing;
    },
    async guard(message, work) {
      messages.push(message);
      if (messages.length === 1) signals.add(onSignal);
      try {
        return await work();
      } finally {
        // Work that ends (fails, mostly) because of the Ctrl-C waits for its
        // cleanups and exit: it must not end the process first.
        if (handling) await handling;
        messages.pop();
        if (messages.length === 0) signals.remove(onSignal);
      }
    },
    onInterrupt(cleanup) {
      const entry = () => cleanup();
      cleanups.add(entry);
      return () => cleanups.delete(entry);
    },
  };
}
