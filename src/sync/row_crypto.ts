/**
 * Sealing and opening an encrypted cloud's rows, on a worker thread for
 * large batches. Each row costs ~15–40 µs of AEAD work in node:crypto (a
 * cipher object a row); on the worker, a first upload seals chunk n+1 while
 * the cloud applies chunk n and the main thread reads and drops outbox
 * entries, and a first download opens page n+1 while the main thread writes
 * page n. A few rows (an everyday sync) are done inline: a worker costs
 * ~30–50 ms to start.
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

export class RowCrypto {
  #worker?: Worker;
  #nextId = 1;
  #pending = new Map<number, (reply: RowCryptoReply) => void>();

  constructor(readonly key: RowKey, readonly cloudId: string) {}

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

  /** The rows opened as a JSON page of value arrays in `columns` order (openRowsJson). */
  openRows(table: string, rows: SealedTuple[], columns: string[]): Promise<string> {
    if (rows.length < WORKER_ROWS) {
      return attempt(() => openRowsJson(this.key, this.cloudId, table, rows, columns));
    }
    return this.#request({
      op: "rows",
      key: this.key,
      cloudId: this.cloudId,
      table,
      rows,
      columns,
    }).then((reply) => reply.rowsJson!);
  }

  #request(body: WithoutId<RowCryptoRequest>): Promise<RowCryptoReply & { ok: true }> {
    const worker = this.#start();
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

  #start(): Worker {
    if (this.#worker) return this.#worker;
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
    this.#worker = worker;
    return worker;
  }

  #failAll(message: string): void {
    for (const [id, answer] of this.#pending) answer({ id, ok: false, message });
    this.#pending.clear();
  }

  /** Ends the worker (pending batches fail). */
  close(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
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
