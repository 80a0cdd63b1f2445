/**
 * Sealing and opening an encrypted cloud's rows, on worker threads for
 * large batches. Each row costs ~15–40 µs of AEAD work in node:crypto (a
 * cipher object a row); on a worker, a first upload seals chunk n+1 while
 * the cloud applies chunk n and the main thread reads and drops outbox
 * entries, and a first download opens pages n+1 and n+2 (two workers) while
 * the main thread writes page n. A few rows (an everyday sync) are done
 * inline: a worker costs ~30–50 ms to start.
 */
import { JdoError } from "../errors.ts";
import type { SealedChunk } from "./cloud_store.ts";
import {
  openPayloads,
  openRowsJson,
  type RowKey,
  type SealableRow,
  sealChunk,
  type SealedTuple,
} from "./e2e_envelope.ts";
import type { RowCryptoReply, RowCryptoRequest } from "./row_crypto_worker.ts";

/** From this many rows (or, for encoded chunks, characters) a batch goes to the worker. */
const WORKER_ROWS = 300;
const WORKER_CHARS = 150_000;

type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

/**
 * Worker threads that large batches share, in turn. Two, even on two cores:
 * opening a page (~45 µs a row) is slower than the main thread's insert of
 * one (~20 µs a row), and a second worker cut a 100k-row first download's
 * wait for opened pages from 5.7–7.2 s to 2.6–2.9 s (docs/BENCHMARKS.md).
 */
export const ROW_WORKERS = Math.min(2, Math.max(1, navigator.hardwareConcurrency ?? 1));

export class RowCrypto {
  #pool: Worker[] = [];
  #turn = 0;
  #nextId = 1;
  #pending = new Map<number, (reply: RowCryptoReply) => void>();

  /** `workers`: how many batches can be under way at once, one a worker. */
  constructor(
    readonly key: RowKey,
    readonly cloudId: string,
    readonly workers: number = ROW_WORKERS,
  ) {}

  /** Seals one table's rows as SQLite encoded them (sealableRowSql). */
  seal(table: string, rowsJson: string): Promise<SealedChunk> {
    if (rowsJson.length < WORKER_CHARS) {
      return attempt(() =>
        sealChunk(this.key, this.cloudId, table, JSON.parse(rowsJson) as SealableRow[])
      );
    }
    return this.#request({ op: "seal", key: this.key, cloudId: this.cloudId, table, rowsJson })
      .then((reply) => reply.sealed!);
  }

  /** The payload text of each sealed row; SYNC_KEY_WRONG when one does not open. */
  open(table: string, rows: SealedTuple[]): Promise<string[]> {
    if (rows.length < WORKER_ROWS) {
      return attempt(() => openPayloads(this.key, this.cloudId, table, rows));
    }
    return this.#request({ op: "open", key: this.key, cloudId: this.cloudId, table, rows })
      .then((reply) => reply.payloads!);
  }

  /** The rows opened as a JSON page of [id, version, _fv, payload] (openRowsJson). */
  openRows(table: string, rows: SealedTuple[]): Promise<string> {
    if (rows.length < WORKER_ROWS) {
      return attempt(() => openRowsJson(this.key, this.cloudId, table, rows));
    }
    return this.#request({
      op: "rows",
      key: this.key,
      cloudId: this.cloudId,
      table,
      rows,
    }).then((reply) => reply.rowsJson!);
  }

  #request(body: WithoutId<RowCryptoRequest>): Promise<RowCryptoReply & { ok: true }> {
    const worker = this.#start(this.#turn++ % this.workers);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, (reply) => {
        if (reply.ok) resolve(reply);
        else if (reply.code) reject(new JdoError(reply.code as JdoError["code"], reply.message));
        else reject(new Error(reply.message));
      });
      worker.postMessage({ ...body, id } as RowCryptoRequest);
    });
  }

  #start(slot: number): Worker {
    if (this.#pool[slot]) return this.#pool[slot];
    const worker = new Worker(new URL("./row_crypto_worker.ts", import.meta.url), {
      type: "module",
    });
    worker.onmessage = (event: MessageEvent<RowCryptoReply>) => {
      this.#pending.get(event.data.id)?.(event.data);
      this.#pending.delete(event.data.id);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.#failAll(event.message ?? "row encryption worker failed");
    };
    this.#pool[slot] = worker;
    return worker;
  }

  #failAll(message: string): void {
    for (const [id, answer] of this.#pending) answer({ id, ok: false, message });
    this.#pending.clear();
  }

  /** Ends the workers (pending batches fail). */
  close(): void {
    for (const worker of this.#pool) worker.terminate();
    this.#pool = [];
    this.#failAll("row encryption stopped");
  }
}

function attempt<T>(run: () => T): Promise<T> {
  try {
    return Promise.resolve(run());
  } catch (error) {
    return Promise.reject(error);
  }
}
