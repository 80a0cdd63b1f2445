import type { ReplicaReply, ReplicaRequest } from "./replica_worker.ts";

type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

/** However much it keeps moving, one replica sync stops after this long. */
const MAX_SYNC_MS = 15 * 60_000;

/** Total size of the replica file and the files libSQL keeps beside it. */
async function filesSize(path: string): Promise<number> {
  let total = 0;
  for (const suffix of ["", "-wal", "-shm", "-info", "-client_wal_index"]) {
    total += await Deno.stat(path + suffix).then((s) => s.size, () => 0);
  }
  return total;
}

/** Raised when the replica did not finish syncing in time (its worker was stopped). */
export class ReplicaTimeout extends Error {}

/**
 * The embedded replica of the cloud, synced in a worker thread under a
 * timeout. The replica file itself is read by the caller with a plain
 * file: client.
 */
export class ReplicaSyncer {
  #worker?: Worker;
  #nextId = 1;
  #pending = new Map<number, (reply: ReplicaReply) => void>();

  constructor(
    readonly path: string,
    readonly url: string,
    readonly token: string | null,
    readonly timeoutMs: number,
  ) {}

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL("./replica_worker.ts", import.meta.url), {
      type: "module",
    });
    worker.onmessage = (event: MessageEvent<ReplicaReply>) => {
      this.#pending.get(event.data.id)?.(event.data);
      this.#pending.delete(event.data.id);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.#failAll(event.message ?? "replica worker failed");
    };
    this.#worker = worker;
    return worker;
  }

  #failAll(message: string) {
    for (const [id, resolve] of this.#pending) resolve({ id, ok: false, message });
    this.#pending.clear();
  }

  /**
   * Sends one request; fails with ReplicaTimeout (and stops the worker) when
   * no answer came within `timeoutMs`. With `progress`, that is a stall
   * timeout: whenever `progress()` grows (the replica file filling with
   * frames) the wait starts again, up to MAX_SYNC_MS in all, so a first
   * download of a million rows is not cut off while a dead link still is.
   */
  #request(
    body: WithoutId<ReplicaRequest>,
    timeoutMs: number,
    progress?: () => Promise<number>,
  ): Promise<void> {
    const worker = this.#start();
    const id = this.#nextId++;
    const started = performance.now();
    return new Promise<void>((resolve, reject) => {
      let lastMove = performance.now();
      let last = -1;
      let done = false;
      const fail = (message: string) => {
        done = true;
        clearInterval(timer);
        this.#pending.delete(id);
        this.stop();
        reject(new ReplicaTimeout(message));
      };
      const timer = setInterval(async () => {
        if (done) return;
        const now = performance.now();
        if (progress) {
          const size = await progress().catch(() => last);
          if (size > last) {
            if (last >= 0) lastMove = now;
            last = size;
          }
        }
        if (now - started > MAX_SYNC_MS) {
          fail(`the replica did not finish within ${MAX_SYNC_MS / 60_000} minutes`);
        } else if (now - (progress ? lastMove : started) > timeoutMs) {
          fail(`the replica did not answer within ${timeoutMs / 1000} s`);
        }
      }, Math.min(250, timeoutMs / 4));
      this.#pending.set(id, (reply) => {
        done = true;
        clearInterval(timer);
        if (reply.ok) resolve();
        else reject(new Error(reply.message));
      });
      worker.postMessage({ ...body, id } as ReplicaRequest);
    });
  }

  /** Pulls the cloud's new frames into the replica file (stall timeout: see #request). */
  sync(): Promise<void> {
    return this.#request(
      { op: "sync", path: this.path, url: this.url, token: this.token },
      this.timeoutMs,
      () => filesSize(this.path),
    );
  }

  /** Closes the replica and ends the worker. */
  async close(): Promise<void> {
    if (!this.#worker) return;
    await this.#request({ op: "close" }, 2_000).catch(() => {});
    this.stop();
  }

  /** Ends the worker at once, even in the middle of a native call. */
  stop(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#failAll("the replica worker was stopped");
  }
}
