/**
 * The sealed form of everything an encrypted cloud stores: AES-256-GCM
 * (node:crypto) with a random 96-bit nonce, in a versioned text envelope
 *
 *     e2.<key id, 16 hex>.<base64: nonce ‖ ciphertext ‖ tag>
 *
 * `e2` seals a row's payload in short form (src/sync/e2e_payload.ts); `e1`,
 * the same cipher over every column under its name, is what device names
 * and the key check are sealed in, and what rows were sealed in before
 * `e2`: both open.
 *
 * The associated data binds a row's payload to the cloud, table, row id,
 * version and per-field versions: the server cannot move a payload to
 * another row, replay an older one under a newer version, or swap the field
 * versions the merge reads in clear.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { Buffer } from "node:buffer";
import { FIELD_VERSIONS, q, type Row } from "../db/schema.ts";
import {
  payloadKey,
  payloadSql,
  payloadText,
  recodeE1Payload,
  rowOfPayload,
} from "./e2e_payload.ts";
import { JdoError } from "../errors.ts";
import type { SealedChunk } from "./cloud_store.ts";
import type { DataKey } from "./e2e_key.ts";

/** What texts and the key check are sealed in. */
const TEXT_VERSION = "e1";
/** What rows are sealed in. */
const ROW_VERSION = "e2";
const NONCE = 12;
const TAG = 16;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A payload that does not open: another key, or bytes changed in the cloud. */
export class EnvelopeError extends Error {}

export function seal(
  key: Uint8Array,
  keyId: string,
  plain: Uint8Array,
  aad: Uint8Array,
  version = TEXT_VERSION,
): string {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(aad);
  const body = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return `${version}.${keyId}.${body.toString("base64")}`;
}

/** The key id an envelope names in clear (null: not an envelope). */
export function envelopeKeyId(envelope: string): string | null {
  const m = /^e[12]\.([0-9a-f]{16})\./.exec(envelope);
  return m ? m[1] : null;
}

/** Whether an envelope holds an `e1` payload (every column under its name). */
function namedPayload(envelope: string): boolean {
  return envelope.startsWith("e1.");
}

export function open(
  key: Uint8Array,
  keyId: string,
  envelope: string,
  aad: Uint8Array,
): Uint8Array {
  const named = envelopeKeyId(envelope);
  if (named === null) {
    const version = /^(e[0-9]+)\.[0-9a-f]{16}\./.exec(envelope)?.[1];
    if (version !== undefined) {
      throw new JdoError(
        "SYNC_SCHEMA_MISMATCH",
        `The cloud holds rows sealed in a newer format (${version}) than this jdo reads; upgrade jdo`,
      );
    }
    throw new EnvelopeError("not a jdo envelope (unknown format or version)");
  }
  if (named !== keyId) throw new EnvelopeError(`sealed with key ${named}, not ${keyId}`);
  const body = Buffer.from(envelope.slice(20), "base64");
  if (body.length < NONCE + TAG) throw new EnvelopeError("truncated envelope");
  const decipher = createDecipheriv("aes-256-gcm", key, body.subarray(0, NONCE));
  decipher.setAAD(aad);
  decipher.setAuthTag(body.subarray(body.length - TAG));
  try {
    return new Uint8Array(
      Buffer.concat([decipher.update(body.subarray(NONCE, body.length - TAG)), decipher.final()]),
    );
  } catch {
    throw new EnvelopeError("authentication failed (wrong key, or changed in the cloud)");
  }
}

/** Columns a sealed row keeps in clear: what the cloud needs to order and guard rows. */
export const CLEAR_COLUMNS = ["id", "version", FIELD_VERSIONS] as const;
/** Columns the cloud adds to a row; never part of a payload. */
const CLOUD_COLUMNS = new Set(["_seq", "_by"]);

/** A row as an encrypted cloud holds it. */
export type SealedRow = {
  id: string;
  version: string;
  _fv: string | null;
  /** Every other column, as one envelope. */
  data: string;
};

function rowAad(cloudId: string, table: string, id: string, version: string, fv: string | null) {
  return encoder.encode(JSON.stringify(["jdo-row", cloudId, table, id, version, fv]));
}

/** Seals every column but id, version and the field versions into one envelope. */
export function sealRow(key: DataKey, cloudId: string, table: string, row: Row): SealedRow {
  const payload = payloadText(table, row, Object.keys(row).filter(sealed));
  const id = String(row.id);
  const version = String(row.version);
  const fv = row[FIELD_VERSIONS] === null || row[FIELD_VERSIONS] === undefined
    ? null
    : String(row[FIELD_VERSIONS]);
  const data = seal(
    key.rows,
    key.id,
    encoder.encode(payload),
    rowAad(cloudId, table, id, version, fv),
    ROW_VERSION,
  );
  return { id, version, _fv: fv, data };
}

/** Whether a column goes into the payload (not in clear, not the cloud's own). */
function sealed(column: string): boolean {
  return column !== "id" && column !== "version" && column !== FIELD_VERSIONS &&
    !CLOUD_COLUMNS.has(column);
}

/**
 * The SQL of one row as a push of a sealed table reads it (alias `c`): a
 * JSON array [id, version, _fv, payload], the payload (e2e_payload.ts) as
 * text, built by SQLite so that no row object is made in JS on the way to
 * sealing (sealChunk).
 */
export function sealableRowSql(table: string, columns: string[]): string {
  return `json_array(c."id", c."version", c."${FIELD_VERSIONS}", ${
    payloadSql(table, columns.filter(sealed))
  })`;
}

/** One row of sealableRowSql's output. */
export type SealableRow = [id: string, version: string, fv: string | null, payload: string];

/** What sealing and opening rows need of a key. */
export type RowKey = Pick<DataKey, "rows" | "id">;

/** Seals the payloads SQLite encoded (sealableRowSql): one envelope a row, no row object. */
export function sealChunk(
  key: RowKey,
  cloudId: string,
  table: string,
  rows: SealableRow[],
): SealedChunk {
  const sealed: string[] = [];
  const keys: string[] = [];
  for (const [id, version, fv, payload] of rows) {
    const clear = `${JSON.stringify(String(id))},${JSON.stringify(String(version))},${
      JSON.stringify(fv)
    }`;
    const data = seal(
      key.rows,
      key.id,
      encoder.encode(payload),
      rowAad(cloudId, table, String(id), String(version), fv),
      ROW_VERSION,
    );
    sealed.push(`[${clear},"${data}"]`);
    keys.push(`[${clear}]`);
  }
  return { rowsJson: `[${sealed.join(",")}]`, keysJson: `[${keys.join(",")}]` };
}

/** A sealed row as read: its clear columns and payload first (a page row may carry more). */
export type SealedTuple = [
  id: string,
  version: string,
  fv: string | null,
  data: string,
  ...rest: unknown[],
];

/**
 * The payload text of each row, in e2e_payload.ts's form whatever the
 * envelope (an `e1` payload is recoded); throws SYNC_KEY_WRONG when one
 * does not open.
 */
export function openPayloads(
  key: RowKey,
  cloudId: string,
  table: string,
  rows: SealedTuple[],
): string[] {
  return rows.map(([id, version, fv, data]) => {
    let text: string;
    try {
      text = decoder.decode(open(key.rows, key.id, data, rowAad(cloudId, table, id, version, fv)));
    } catch (error) {
      throw keyWrong(table, error);
    }
    return namedPayload(data) ? recodeE1Payload(table, text) : text;
  });
}

/**
 * The rows opened as one JSON array of [id, version, _fv, payload]
 * (CLEAR_COLUMNS from the tuple, in that order, the payload object as
 * openPayloads gives it, not parsed here): a page SQLite inserts with
 * json_each (openedInsertSql).
 */
export function openRowsJson(
  key: RowKey,
  cloudId: string,
  table: string,
  rows: SealedTuple[],
): string {
  const payloads = openPayloads(key, cloudId, table, rows);
  const out: string[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const [id, version, fv] = rows[i];
    out[i] = `[${JSON.stringify(id)},${JSON.stringify(version)},${JSON.stringify(fv)},${
      payloads[i]
    }]`;
  }
  return `[${out.join(",")}]`;
}

/**
 * The statement that inserts (or replaces) a page of openRowsJson's rows of
 * `table`, bound as its one parameter, into `target` with `columns`: id,
 * version and _fv from the clear part, every other column from the payload
 * by its key (one it lacks is NULL). Each row is parsed once into JSONB and
 * its columns read from that: half the time of json_extract on the row's
 * text per column.
 */
export function openedInsertSql(target: string, table: string, columns: string[]): string {
  const clear: readonly string[] = CLEAR_COLUMNS;
  const values = columns.map((c) =>
    clear.includes(c)
      ? `r ->> ${clear.indexOf(c)}`
      : `r ->> '$[${clear.length}]."${
        payloadKey(table, c).replaceAll('"', '""').replaceAll("'", "''")
      }"'`
  );
  return `WITH page AS MATERIALIZED (SELECT jsonb(value) AS r FROM json_each(?))
INSERT OR REPLACE INTO ${target} (${columns.map(q).join(", ")})
SELECT ${values.join(", ")} FROM page`;
}

function keyWrong(table: string, error: unknown): JdoError {
  if (error instanceof JdoError) return error; // a newer envelope: upgrade jdo
  return new JdoError(
    "SYNC_KEY_WRONG",
    `A ${table} row in the cloud does not open with this device's key (${
      (error as Error).message
    }); nothing was merged or pushed`,
    { cause: error },
  );
}

/** The row a sealed row holds; throws SYNC_KEY_WRONG when it does not open. */
export function openRow(key: DataKey, cloudId: string, table: string, sealed: Row): Row {
  const id = String(sealed.id);
  const version = String(sealed.version);
  const fv = sealed._fv === null || sealed._fv === undefined ? null : String(sealed._fv);
  const data = String(sealed.data);
  let plain: Uint8Array;
  try {
    plain = open(key.rows, key.id, data, rowAad(cloudId, table, id, version, fv));
  } catch (error) {
    throw keyWrong(table, error);
  }
  const row: Row = {
    id,
    version,
    ...rowOfPayload(table, decoder.decode(plain)),
  };
  row[FIELD_VERSIONS] = fv;
  if (sealed._seq !== undefined) row._seq = sealed._seq;
  if (sealed._by !== undefined) row._by = sealed._by;
  return row;
}

/** A short text (a device name) sealed for one purpose and owner. */
export function sealText(key: DataKey, cloudId: string, purpose: string, text: string): string {
  return seal(
    key.rows,
    key.id,
    encoder.encode(text),
    encoder.encode(JSON.stringify(["jdo-text", cloudId, purpose])),
  );
}

/** The text sealText sealed; a plain text (written before encryption) is returned as it is. */
export function openText(key: DataKey, cloudId: string, purpose: string, text: string): string {
  if (envelopeKeyId(text) === null) return text;
  try {
    return decoder.decode(
      open(key.rows, key.id, text, encoder.encode(JSON.stringify(["jdo-text", cloudId, purpose]))),
    );
  } catch {
    return "(sealed with another key)";
  }
}

/** What `_jdo_meta` key 'e2e' holds: proof of the key, readable by nobody without it. */
export interface CheckRecord {
  v: 1;
  key_id: string;
  check: string;
}

const CHECK_TEXT = "jdo end-to-end key check";

function checkAad(cloudId: string) {
  return encoder.encode(JSON.stringify(["jdo-check", cloudId]));
}

export function makeCheckRecord(key: DataKey, cloudId: string): string {
  const record: CheckRecord = {
    v: 1,
    key_id: key.id,
    check: seal(key.check, key.id, encoder.encode(CHECK_TEXT), checkAad(cloudId)),
  };
  return JSON.stringify(record);
}

export function parseCheckRecord(text: string): CheckRecord {
  const record = JSON.parse(text) as CheckRecord;
  if (record.v !== 1 || typeof record.key_id !== "string" || typeof record.check !== "string") {
    throw new JdoError(
      "SYNC_SCHEMA_MISMATCH",
      "The cloud's encryption record has a format this jdo does not know; upgrade jdo",
    );
  }
  return record;
}

/**
 * Proves `key` is the cloud's: missing → SYNC_KEY_MISSING, another key or a
 * check that does not open → SYNC_KEY_WRONG. Nothing is written either way.
 */
export function verifyKey(key: DataKey | undefined, cloudId: string, recordText: string): void {
  const record = parseCheckRecord(recordText);
  if (!key) {
    throw new JdoError(
      "SYNC_KEY_MISSING",
      `This cloud is end-to-end encrypted (key ${
        record.key_id.slice(0, 4)
      }…) and this device has no key for it; nothing was pushed`,
    );
  }
  const wrong = new JdoError(
    "SYNC_KEY_WRONG",
    `The key on this device (${key.id.slice(0, 4)}…) is not this cloud's (${
      record.key_id.slice(0, 4)
    }…); nothing was pushed`,
  );
  if (record.key_id !== key.id) throw wrong;
  try {
    if (decoder.decode(open(key.check, key.id, record.check, checkAad(cloudId))) !== CHECK_TEXT) {
      throw wrong;
    }
  } catch {
    throw wrong;
  }
}
