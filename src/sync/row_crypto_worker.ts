/// <reference lib="deno.worker" />
/**
 * Seals and opens rows of an encrypted cloud on a thread of their own
 * (src/sync/row_crypto.ts), so that a large push or first download does its
 * ~15–40 µs of AEAD work a row beside the main thread's reading, writing
 * and talking to the cloud instead of before it.
 */
import { JdoError } from "../errors.ts";
import {
  openPayloads,
  openRowsJson,
  type RowKey,
  type SealableRow,
  sealChunk,
  type SealedTuple,
} from "./e2e_envelope.ts";
import type { SealedChunk } from "./cloud_store.ts";

export type RowCryptoRequest =
  | { id: number; op: "seal"; key: RowKey; cloudId: string; table: string; rowsJson: string }
  | { id: number; op: "open"; key: RowKey; cloudId: string; table: string; rows: SealedTuple[] }
  | {
    id: number;
    op: "rows";
    key: RowKey;
    cloudId: string;
    table: string;
    rows: SealedTuple[];
  };

export type RowCryptoReply =
  | { id: number; ok: true; sealed?: SealedChunk; payloads?: string[]; rowsJson?: string }
  | { id: number; ok: false; code?: string; message: string };

self.onmessage = (event: MessageEvent<RowCryptoRequest>) => {
  const r = event.data;
  try {
    const reply: RowCryptoReply = r.op === "seal"
      ? {
        id: r.id,
        ok: true,
        sealed: sealChunk(r.key, r.cloudId, r.table, JSON.parse(r.rowsJson) as SealableRow[]),
      }
      : r.op === "open"
      ? { id: r.id, ok: true, payloads: openPayloads(r.key, r.cloudId, r.table, r.rows) }
      : {
        id: r.id,
        ok: true,
        rowsJson: openRowsJson(r.key, r.cloudId, r.table, r.rows),
      };
    self.postMessage(reply);
  } catch (error) {
    self.postMessage(
      {
        id: r.id,
        ok: false,
        code: error instanceof JdoError ? error.code : undefined,
        message: error instanceof Error ? error.message : String(error),
      } satisfies RowCryptoReply,
    );
  }
};
