import type { ReplicaReply, ReplicaRequest } from "./replica_worker.ts";

type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

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

  #request(body: WithoutId<ReplicaRequest>, timeoutMs: number): Promise<void> {
    const worker = this.#start();
    const id = this.#nextId++;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        this.stop();
        reject(new ReplicaTimeout(`the replica did not answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.#pending.set(id, (reply) => {
        clearTimeout(timer);
        if (reply.ok) resolve();
        else reject(new Error(reply.message));
      });
      worker.postMessage({ ...body, id } as ReplicaRequest);
    });
  }

  /** Pulls the cloud's new frames into the replica file. */
  sync(): Promise<void> {
    return this.#request(
      { op: "sync", path: this.path, url: this.url, token: this.token },
      this.timeoutMs,
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
