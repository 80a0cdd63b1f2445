import { q, type Row } from "./schema.ts";

/**
 * Many rows in one statement: the rows travel as one JSON array of arrays
 * and SQLite unpacks them with json_each. One native statement per batch
 * instead of one per row keeps large syncs and imports fast and their
 * memory flat (each libSQL statement is freed only when the GC runs).
 */
export interface BulkUpsert {
  table: string;
  columns: string[];
  /** Extra column set from an SQL expression (the cloud's _seq). */
  extra?: { column: string; expr: string };
  /** Condition for replacing an existing row (DO UPDATE … WHERE). */
  updateWhere?: string;
  returningId?: boolean;
  /** "error": a plain INSERT (an existing id fails the statement). */
  onConflict?: "update" | "error";
}

/** `col = excluded.col` for every column but id: the DO UPDATE list of an upsert. */
export function excludedAssignments(columns: string[]): string {
  return columns.filter((c) => c !== "id").map((c) => `${q(c)} = excluded.${q(c)}`).join(", ");
}

export function bulkUpsertSql(spec: BulkUpsert): string {
  const { table, columns } = spec;
  const targets = [...columns, ...(spec.extra ? [spec.extra.column] : [])];
  const values = [
    ...columns.map((_, i) => `json_extract(value, '$[${i}]')`),
    ...(spec.extra ? [spec.extra.expr] : []),
  ];
  const conflict = spec.onConflict === "error"
    ? ""
    : `ON CONFLICT(id) DO UPDATE SET ${excludedAssignments(targets)}${
      spec.updateWhere ? ` WHERE ${spec.updateWhere}` : ""
    }`;
  return `INSERT INTO ${table} (${targets.map(q).join(", ")})
SELECT ${values.join(", ")} FROM json_each(?) WHERE true
${conflict}${spec.returningId ? " RETURNING id" : ""}`;
}

/** The JSON argument for bulkUpsertSql: each row's values in column order. */
export function bulkRowsJson(columns: string[], rows: Row[]): string {
  return JSON.stringify(rows.map((row) => columns.map((c) => row[c] ?? null)));
}
