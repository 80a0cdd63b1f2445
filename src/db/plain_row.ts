/**
 * Rows as jdo holds them: plain objects of column name → text, number or
 * null, whichever engine read them (@libsql/client, the `libsql` package or
 * node:sqlite).
 */
import type { Row } from "./schema.ts";

/** A column value as jdo's rows hold it (jdo stores no blobs; one would read as text). */
export function normalise(value: unknown): string | number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "number" || typeof value === "string") return value;
  if (value instanceof ArrayBuffer || value instanceof Uint8Array) {
    return new TextDecoder().decode(value);
  }
  return String(value);
}

/**
 * A row read as an array, by column name. A repeated name keeps its first
 * column, as @libsql/client's rows do (none of jdo's queries repeats one).
 */
export function plainRowOf(columns: readonly string[], values: ArrayLike<unknown>): Row {
  const out: Row = {};
  for (let i = 0; i < columns.length; i++) {
    if (!Object.hasOwn(out, columns[i])) out[columns[i]] = normalise(values[i]);
  }
  return out;
}
