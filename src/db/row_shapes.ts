/**
 * The shapes of stored values that let `list` take its shortcuts, as SQL, and
 * the partial indexes that hold the rows *not* in those shapes (issue 20).
 *
 * `list` may let SQLite order commitments and write their JSON only when every
 * row it lists is regular: its due date a real YYYY-MM-DD, its due time HH:MM,
 * its created_at and id in the one shape jdo writes, its zone UTC or none, and
 * no value a blob or text with a NUL inside. jdo writes nothing else, but a
 * synced or hand-edited row may hold anything. Asking every listed row costs
 * ~4 ms over 1,000 of them; a partial index of the irregular ones (empty in
 * practice) answers in a lookup. SQLite uses a partial index only for a query
 * whose WHERE holds the index's condition as one of its AND terms, so the
 * index and the query are written from one function (`prefix` qualifies the
 * columns: "" in the index, "c." in the query).
 */
import { entity } from "./schema.ts";

/** Date.toISOString()'s shape, as a GLOB pattern. */
const ISO_INSTANT =
  "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z";
/** A lowercase UUID, as a GLOB pattern. */
const UUID = ["8", "4", "4", "4", "12"].map((n) => "[0-9a-f]".repeat(Number(n))).join("-");

/** Text of exactly `length` bytes matching `glob` (byte lengths keep out text with a NUL inside). */
function textOf(column: string, length: number, glob: string): string {
  return `(typeof(${column}) = 'text' AND length(CAST(${column} AS BLOB)) = ${length} AND ${column} GLOB '${glob}')`;
}

/**
 * Whether a commitment's text order is its time order (1 or 0, never null):
 * a real due date, a due time HH:MM, created_at and id in jdo's shapes. Its
 * zone is not part of it (see the callers).
 */
export function wallClockShape(prefix: string): string {
  const c = (column: string) => `${prefix}${column}`;
  return `coalesce(${
    [
      textOf(c("due_date"), 10, "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"),
      `date(${c("due_date")}) = ${c("due_date")}`,
      `(${textOf(c("due_time"), 5, "[0-1][0-9]:[0-5][0-9]")} OR ${
        textOf(c("due_time"), 5, "2[0-3]:[0-5][0-9]")
      })`,
      textOf(c("created_at"), 24, ISO_INSTANT),
      textOf(c("id"), 36, UUID),
    ].join(" AND ")
  }, 0)`;
}

/**
 * Some value among `columns` is a blob, or text with a NUL inside: their
 * types, run together, name a blob, or their bytes, run together, hold a NUL
 * (concat() copies text whole, NULs too). Two calls over the columns, not
 * two tests for each: the statement is parsed on every `list --json`.
 */
function oddValues(columns: string[]): string {
  return `(concat(${
    columns.map((c) => `typeof(${c})`).join(", ")
  }) GLOB '*blob*' OR instr(CAST(concat(${columns.join(", ")}) AS BLOB), x'00') > 0)`;
}

/** The columns of a commitment `list` reads into a record. */
const COMMITMENT_COLUMNS = [
  "id",
  ...entity("commitment").fields.map((f) => `"${f.name}"`),
  "created_at",
  "updated_at",
  "version",
];

/** A commitment whose text order may not be its due-instant order, or made in a zone other than UTC. */
export function unorderedCommitment(prefix: string): string {
  return `(NOT ${wallClockShape(prefix)} OR coalesce(${prefix}timezone NOT IN ('', 'UTC'), 0))`;
}

/** A commitment holding a blob, or text with a NUL inside, in a column `list` reads. */
export function oddCommitmentValues(prefix: string): string {
  return oddValues(COMMITMENT_COLUMNS.map((column) => prefix + column));
}

/** A stakeholder whose name is a blob or holds a NUL. */
export function oddStakeholderName(prefix: string): string {
  return oddValues([`${prefix}name`]);
}

export const UNORDERED_COMMITMENTS = "commitments_unordered";
export const ODD_COMMITMENTS = "commitments_odd_values";
export const ODD_STAKEHOLDERS = "stakeholders_odd_name";

/**
 * The partial indexes (local only, like every index localIndexes() names),
 * apart so that the table, which needs only the order, parses only its
 * condition. Built when asked for: an open whose stamp matches never needs
 * their SQL.
 */
export function irregularIndexes(): { name: string; sql: string }[] {
  return [
    [UNORDERED_COMMITMENTS, "commitments", unorderedCommitment("")],
    [ODD_COMMITMENTS, "commitments", oddCommitmentValues("")],
    [ODD_STAKEHOLDERS, "stakeholders", oddStakeholderName("")],
  ].map(([name, table, where]) => ({
    name,
    sql: `CREATE INDEX IF NOT EXISTS ${name} ON ${table}(id) WHERE ${where}`,
  }));
}
