import type { ReplSync } from "../sync/repl_hook.ts";
import { firstLine } from "../errors.ts";

/**
 * Runs the REPL's background syncs: one at start, then one every
 * `intervalSeconds`, never two at once, and reports the prompt indicator
 * after each. Nothing here throws or waits for the network on the caller's
 * behalf, except `now()`, which is what `/sync` awaits.
 */
export class SyncLoop {
  readonly #sync: ReplSync;
  readonly #onIndicator: (indicator: string) => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #inFlight: Promise<string> | undefined;
  #stopped = false;
  /** Only the newest indicator request may update the prompt. */
  #indicatorRequest = 0;

  constructor(sync: ReplSync, onIndicator: (indicator: string) => void) {
    this.#sync = sync;
    this.#onIndicator = onIndicator;
  }

  /** Shows the current indicator, syncs once in the background and starts the timer. */
  start(): void {
    this.refreshIndicator();
    void this.#background();
    const seconds = this.#sync.intervalSeconds;
    if (Number.isFinite(seconds) && seconds > 0) {
      this.#timer = setInterval(() => void this.#background(), seconds * 1000);
    }
  }

  /** Whether a sync is running right now. */
  get busy(): boolean {
    return this.#inFlight !== undefined;
  }

  /** One sync for `/sync`: waits for a running one first, then runs its own. */
  async now(): Promise<string> {
    if (this.#inFlight) await this.#inFlight;
    if (this.#stopped) return "";
    return await this.#run();
  }

  /** Asks the hook for the indicator and passes it on, unless something newer did. */
  refreshIndicator(): void {
    const request = ++this.#indicatorRequest;
    let pending: Promise<string>;
    try {
      pending = Promise.resolve(this.#sync.indicator());
    } catch {
      return;
    }
    pending.then((indicator) => {
      if (!this.#stopped && request === this.#indicatorRequest) {
        this.#onIndicator(String(indicator ?? ""));
      }
    }, () => {});
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #background(): Promise<void> {
    if (this.#inFlight || this.#stopped) return;
    await this.#run();
  }

  #run(): Promise<string> {
    const run = (async () => {
      try {
        return String(await this.#sync.syncNow());
      } catch (error) {
        // The hook promises not to throw; if it does, say so in one line.
        return `Sync failed: ${firstLine(error instanceof Error ? error.message : String(error))}`;
      }
    })();
    this.#inFlight = run;
    return run.finally(() => {
      if (this.#inFlight === run) this.#inFlight = undefined;
      this.refreshIndicator();
    });
  }
}
