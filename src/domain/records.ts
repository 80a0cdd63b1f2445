import { collate, collatesShapesByCodePoint } from "./collate.ts";
import { entity, type EntityDef, type EntityName, type FieldDef, type Row } from "../db/schema.ts";
import type { Store } from "../db/store.ts";
import type { RowCursor } from "../db/row_cursor.ts";
import { dueInstantMs } from "./due.ts";
import { goalRollup, ROLLUP_COLUMN, rollupOf, type TimeRollup } from "./time.ts";
import {
  ODD_COMMITMENTS,
  ODD_STAKEHOLDERS,
  oddCommitmentValues,
  oddStakeholderName,
  UNORDERED_COMMITMENTS,
  unorderedCommitment,
  wallClockShape,
} from "../db/row_shapes.ts";

export type JsonRecord = Record<string, unknown>;

/** A stored row as the JSON object that `show --json` and `list --json` print. */
export function toRecord(def: EntityDef, row: Row): JsonRecord {
  const out: JsonRecord = { id: row.id, kind: def.name };
  for (const field of def.fields) out[field.name] = recordValue(field, row);
  if (!("status" in out)) out.status = null;
  out.created_at = row.created_at;
  out.updated_at = row.updated_at;
  out.version = row.version;
  if (row.deleted_at) out.deleted_at = row.deleted_at;
  return out;
}

/** A field's value as a record holds it. */
function recordValue(field: FieldDef, row: Row): unknown {
  const value = row[field.name] ?? null;
  if (field.type === "bool") return value === null ? null : Boolean(value);
  if (field.type === "json") return parseJsonList(value);
  return value;
}

function parseJsonList(value: string | number | null): unknown {
  if (value === null) return [];
  try {
    return JSON.parse(String(value));
  } catch {
    return [String(value)];
  }
}

const ACTIVE: Record<EntityName, readonly string[] | null> = {
  commitment: ["pending", "in_progress", "at_risk"],
  goal: ["active", "on_hold"],
  vision: ["active"],
  milestone: ["pending", "in_progress"],
  task: ["pending", "in_progress"],
  inbox: ["open"],
  cleanup_plan: ["planned", "in_progress"],
  recurring: null,
  stakeholder: null,
  task_event: null,
};

const ORDER: Record<EntityName, string> = {
  commitment: "c.due_date, c.due_time, c.created_at",
  goal: "c.created_at",
  vision: "c.created_at",
  milestone: "c.target_date, c.created_at",
  task: 'c.commitment_id, c."order", c.created_at',
  inbox: "c.created_at",
  cleanup_plan: "c.created_at",
  recurring: "c.created_at",
  stakeholder: "lower(c.name)",
  task_event: "c.created_at, c.version",
};

export interface ListOptions {
  all?: boolean;
  status?: string;
  /** At most this many rows (SQL LIMIT). */
  limit?: number;
  /** The zone a commitment made without one is read in (the viewer's; default UTC). */
  timeZone?: string;
  /** Whether commitments carry their `time` roll-up (default true; the list table has no use for it). */
  time?: boolean;
  /**
   * forEachRecordPage only: commitments' records built by SQLite as JSON
   * text and parsed (the same keys, order and values as toRecord's), for
   * `list --json`: one string per row crosses into JavaScript instead of
   * one per column (issue 20).
   */
  json?: boolean;
  /**
   * forEachRecordPage and commitments only (the list table): records of just
   * these fields, with id, created_at (which the order's ties need) and
   * stakeholder, in that order, so fewer values cross into JavaScript. The
   * due date, time and zone must be among them: the order needs them too.
   */
  fields?: readonly string[];
  /**
   * forEachRecordPage only, for tests: never take the shortcuts of rows
   * whose wall-clock order is their due-instant order (the general path,
   * which they are held to).
   */
  general?: boolean;
}

/**
 * Commitments are listed by their absolute due instant (each one's due date
 * and time in its own zone). SQL orders them by wall-clock due date and time,
 * and an instant is never more than MAX_ZONE_AHEAD_MS before its wall-clock
 * time read as UTC (real offsets stay within +14 h), so once the rows read
 * have reached due date D, every row still to come is due after the start of
 * D - MAX_ZONE_AHEAD_MS: whatever is due before that can be sorted and
 * written. Only the date is trusted: a due time may be written oddly ("9:00"
 * is read as 09:00 but sorts after "23:59"), a due date cannot (reading one
 * fails). The rows held back cover at most two days of due dates.
 */
const MAX_ZONE_AHEAD_MS = 24 * 3_600_000;

interface Timed {
  record: JsonRecord;
  at: number;
}

function byDueInstant(a: Timed, b: Timed): number {
  return a.at - b.at ||
    collate(String(a.record.created_at), String(b.record.created_at)) ||
    collate(String(a.record.id), String(b.record.id));
}

function timed(records: JsonRecord[], zone: string | undefined): Timed[] {
  return records.map((record) => ({ record, at: dueInstantMs(record, zone ?? "UTC") }));
}

/** The start of a record's due date, read as if it were UTC (ms). */
function dueDayAsUtcMs(record: JsonRecord): number {
  return Date.parse(`${record.due_date}T00:00:00Z`);
}

/** Commitments in due-instant order, whatever zones they were made in. */
export function sortByDueInstant(records: JsonRecord[], zone?: string): JsonRecord[] {
  return timed(records, zone).sort(byDueInstant).map((t) => t.record);
}

function statusesOf(def: EntityDef, options: ListOptions): readonly string[] | null {
  if (options.status) return [options.status];
  if (!options.all && ACTIVE[def.name]) return ACTIVE[def.name];
  return null;
}

function filterOf(def: EntityDef, options: ListOptions): { where: string; args: string[] } {
  const statuses = statusesOf(def, options);
  if (!statuses) return { where: "c.deleted_at IS NULL", args: [] };
  return {
    where: `c.deleted_at IS NULL AND c.status IN (${statuses.map(() => "?").join(", ")})`,
    args: [...statuses],
  };
}

/** Text as the drivers hand it over: up to its first NUL (length() stops there); a blob as text. */
const textValue = (column: string) =>
  `CASE typeof(${column}) WHEN 'text' THEN substr(${column}, 1, length(${column})) ` +
  `WHEN 'blob' THEN CAST(${column} AS TEXT) ELSE ${column} END`;

/** Boolean(value) as JSON text: text or blob by length, numbers by being non-zero; null stays null. */
const boolJson = (column: string) =>
  `CASE WHEN ${column} IS NULL THEN 'null' WHEN typeof(${column}) IN ('text', 'blob') ` +
  `THEN iif(length(${column}) > 0, 'true', 'false') WHEN ${column} <> 0 THEN 'true' ELSE 'false' END`;

interface RecordColumn {
  key: string;
  /** An SQL expression, or the kind's name for `kind`. */
  sql: string;
  type: "text" | "bool" | "kind";
}

/**
 * toRecord's keys (plus withExtras' stakeholder), in its order, with the
 * columns they come from, for kinds whose fields are all text or bool; null
 * for the others.
 */
function recordColumnsOf(def: EntityDef): RecordColumn[] | null {
  if (def.name !== "commitment") return null;
  if (def.fields.some((f) => f.type !== "text" && f.type !== "bool")) return null;
  if (!def.fields.some((f) => f.name === "status")) return null;
  return [
    { key: "id", sql: "c.id", type: "text" },
    { key: "kind", sql: def.name, type: "kind" },
    ...def.fields.map((f): RecordColumn => ({
      key: f.name,
      sql: `c."${f.name}"`,
      type: f.type === "bool" ? "bool" : "text",
    })),
    ...["created_at", "updated_at", "version"].map((key): RecordColumn => ({
      key,
      sql: `c.${key}`,
      type: "text",
    })),
    { key: "stakeholder", sql: "s.name", type: "text" },
  ];
}

/** toRecord (plus withExtras' stakeholder) as an SQL expression (json_object). */
function recordJsonOf(def: EntityDef, clean = false): string | null {
  const columns = recordColumnsOf(def);
  if (columns === null) return null;
  const value = (c: RecordColumn) =>
    c.type === "kind"
      ? `'${c.sql}'`
      : c.type === "bool"
      ? `json(${boolJson(c.sql)})`
      : clean
      ? c.sql
      : textValue(c.sql);
  return `json_object(${columns.map((c) => `'${c.key}', ${value(c)}`).join(", ")})`;
}

/**
 * toRecord's record (plus withExtras' stakeholder) as JSON.stringify(records,
 * null, 2) prints it in the array: "  {", a line a key, "  }". json_quote()
 * escapes text as JSON.stringify does (records_fast_test.ts holds them to
 * it). Text columns have TEXT affinity: they hold text, null or a blob, never
 * a number (which json_quote would print SQLite's way).
 */
function recordTextOf(def: EntityDef, clean = false): string | null {
  const columns = recordColumnsOf(def);
  if (columns === null) return null;
  const value = (c: RecordColumn) =>
    c.type === "kind"
      ? `'${JSON.stringify(c.sql)}'`
      : c.type === "bool"
      ? boolJson(c.sql)
      : `json_quote(${clean ? c.sql : textValue(c.sql)})`;
  // One concat() (SQLite 3.44; libSQL has 3.45): `||` would copy the growing text at each step.
  const parts = columns.flatMap((c, i) => [
    `'${i === 0 ? "  {\n" : ",\n"}    ${JSON.stringify(c.key)}: '`,
    value(c),
  ]);
  return `concat(${parts.join(", ")}, '\n  }')`;
}

/** What forEachRecordPage asks SQLite before it reads commitments (one statement). */
interface Probe {
  /** Some selected row holds a blob in a column recordJsonOf reads. */
  blob: boolean;
  /** The selected rows' wall-clock order is their due-instant order (see orderedByWallClock). */
  ordered: boolean;
  /** No selected value is a blob or text with a NUL inside: SQLite's text is the drivers' text. */
  clean: boolean;
}

/**
 * Whether a commitment row's due-instant order is SQL's
 * `due_date, due_time, created_at, id` order (as an SQL expression, 1 or 0):
 * its zone (its own, or the viewer's when it has none, the `?` argument) is
 * UTC, so its instant is its wall-clock due time read as UTC, and its values
 * are in wallClockShape, so text order is time order and collate() is
 * code-point order for byDueInstant's tie-breaks.
 */
function orderedByWallClock(): string {
  return `(${
    wallClockShape("c.")
  } AND coalesce(c.timezone = 'UTC' OR ((c.timezone IS NULL OR c.timezone = '') AND ? = 'UTC'), 0))`;
}

/**
 * The probe from the partial indexes of irregular rows (row_shapes.ts): a
 * lookup instead of a pass over the rows. Null when some selected row (or,
 * for JSON, some stakeholder) is irregular, or the indexes are missing (a
 * database jdo could not write): then the pass decides.
 */
async function probeByIndex(
  ask: (sql: string, args: string[]) => Promise<Row | undefined>,
  filter: string,
  args: string[],
  zone: string,
  json: boolean,
): Promise<Probe | null> {
  // Each subquery with the filter takes its arguments once more.
  const some = (table: string, index: string, where: string) =>
    `EXISTS (SELECT 1 FROM ${table} INDEXED BY ${index} WHERE ${where})`;
  const odd = [
    some("commitments c", UNORDERED_COMMITMENTS, `${filter} AND ${unorderedCommitment("c.")}`),
  ];
  let filters = 1;
  if (json) {
    odd.push(
      some("commitments c", ODD_COMMITMENTS, `${filter} AND ${oddCommitmentValues("c.")}`),
      some("stakeholders s", ODD_STAKEHOLDERS, oddStakeholderName("s.")),
    );
    filters++;
  }
  // Made without a zone, a row is read in the viewer's.
  let local = "0";
  if (zone !== "UTC") {
    local =
      `EXISTS (SELECT 1 FROM commitments c WHERE ${filter} AND coalesce(c.timezone, '') = '')`;
    filters++;
  }
  let row: Row | undefined;
  try {
    row = await ask(
      `SELECT ${odd.join(" OR ")} AS odd, ${local} AS local`,
      Array(filters).fill(args).flat(),
    );
  } catch (error) {
    // An index jdo could not make (a read-only database): the pass decides.
    if (/no such index|no query solution/.test(String((error as Error)?.message))) return null;
    throw error;
  }
  if (row === undefined || Number(row.odd) !== 0) return null;
  return {
    blob: false,
    clean: json,
    ordered: Number(row.local) === 0 && collatesShapesByCodePoint(),
  };
}

/** A row cursor's first row of a statement. */
async function firstRow(cursor: RowCursor, sql: string, args: string[]): Promise<Row | undefined> {
  let first: Row | undefined;
  await cursor.pages(sql, args, (rows) => {
    first = rows[0];
  }, 1);
  return first;
}

async function probe(
  cursor: RowCursor,
  def: EntityDef,
  filter: string,
  args: string[],
  zone: string,
  json: boolean,
): Promise<Probe> {
  const quick = await probeByIndex((sql, a) => firstRow(cursor, sql, a), filter, args, zone, json);
  if (quick !== null) return quick;
  // The columns a record reads (json is only asked for kinds that have them).
  const blob = (recordColumnsOf(def) ?? []).filter((c) => c.type !== "kind")
    .map((c) => `typeof(${c.sql}) = 'blob'`).join(" OR ");
  let found: Probe = { blob: true, ordered: false, clean: false };
  // One pass over the rows (the orderedByWallClock `?` comes first).
  await cursor.pages(
    `SELECT coalesce(min(${orderedByWallClock()}), 1) AS o${
      json ? `, coalesce(max(${blob}), 0) AS b` : ""
    } FROM ${def.table} c${
      json ? " LEFT JOIN stakeholders s ON s.id = c.stakeholder_id" : ""
    } WHERE ${filter}`,
    [zone, ...args],
    (rows) => {
      found = {
        blob: !json || Number(rows[0]?.b) === 1,
        ordered: Number(rows[0]?.o) === 1 && collatesShapesByCodePoint(),
        clean: false,
      };
    },
    1,
  );
  return found;
}

/** A roll-up as it stands in JSON.stringify(records, null, 2), a record's key at depth 2. */
const rollupTexts = new Map<string, string>();
function rollupText(json: unknown): string {
  const key = String(json);
  let text = rollupTexts.get(key);
  if (text === undefined) {
    const rollup: TimeRollup = rollupOf(json);
    text = JSON.stringify(rollup, null, 2).replaceAll("\n", "\n    ");
    if (rollupTexts.size >= 1024) rollupTexts.clear();
    rollupTexts.set(key, text);
  }
  return text;
}

/**
 * A page of records as the body of JSON.stringify(records, null, 2) (its
 * "[\n" and "\n]" cut off), from recordTextOf's text of each record.
 */
function jsonBody(rows: Row[]): string {
  const bodies: string[] = [];
  for (const row of rows) {
    const body = String(row._json);
    bodies.push(
      "_time" in row ? `${body.slice(0, -4)},\n    "time": ${rollupText(row._time)}\n  }` : body,
    );
  }
  return bodies.join(",\n");
}

/** A record from recordJsonOf's text (and the roll-up, when read). */
function recordFromJson(row: Row): JsonRecord {
  const record = JSON.parse(String(row._json)) as JsonRecord;
  if ("_time" in row) record.time = rollupOf(row._time);
  return record;
}

function selectOf(def: EntityDef, time = true): string {
  return def.name === "commitment"
    ? `SELECT c.*, s.name AS stakeholder${
      time ? `, ${ROLLUP_COLUMN} AS _time` : ""
    } FROM commitments c LEFT JOIN stakeholders s ON s.id = c.stakeholder_id`
    : `SELECT c.* FROM ${def.table} c`;
}

/** ORDER's columns, for commitments with ties broken by id (as byDueInstant breaks them). */
export function orderOf(def: EntityDef): string {
  return def.name === "commitment" ? `${ORDER[def.name]}, c.id` : ORDER[def.name];
}

/** Live rows of one kind: active ones by default, soonest first. */
export async function listRecords(
  store: Store,
  def: EntityDef,
  options: ListOptions = {},
): Promise<JsonRecord[]> {
  const statuses = statusesOf(def, options);
  if (options.limit !== undefined && statuses && statuses.length > 1) {
    // The first N of each status (each an ordered index range), merged: the
    // cost follows N, not the number of rows with those statuses.
    const n = Math.max(0, Math.floor(options.limit));
    const branches = statuses.map(() =>
      `SELECT * FROM (${
        selectOf(def, options.time !== false)
      } WHERE c.deleted_at IS NULL AND c.status = ? ORDER BY ${orderOf(def)} LIMIT ${n})`
    );
    const rows = await store.query(
      `SELECT * FROM (${branches.join(" UNION ALL ")}) c ORDER BY ${orderOf(def)} LIMIT ${n}`,
      [...statuses],
    );
    const records = rows.map((row) => withExtras(def, row));
    if (def.name !== "commitment" || records.length < n) {
      return def.name === "commitment" ? sortByDueInstant(records, options.timeZone) : records;
    }
    return await firstByDueInstant(store, def, options, records, n);
  }
  const { where, args } = filterOf(def, options);
  const limit = options.limit === undefined
    ? ""
    : ` LIMIT ${Math.max(0, Math.floor(options.limit))}`;
  const rows = await store.query(
    `${selectOf(def, options.time !== false)} WHERE ${where} ORDER BY ${orderOf(def)}${limit}`,
    args,
  );
  const records = rows.map((row) => withExtras(def, row));
  if (def.name !== "commitment") return records;
  if (options.limit === undefined || records.length < options.limit) {
    return sortByDueInstant(records, options.timeZone);
  }
  return await firstByDueInstant(store, def, options, records, options.limit);
}

/**
 * The first `n` commitments by due instant, given `n` of them (the first by
 * wall-clock due time): any one due sooner than the last of those has a
 * wall-clock time within MAX_ZONE_AHEAD_MS after it, so only rows due on or
 * before that day are read too (by date alone, as forEachRecordPage trusts
 * only the date).
 */
async function firstByDueInstant(
  store: Store,
  def: EntityDef,
  options: ListOptions,
  firstByWallClock: JsonRecord[],
  n: number,
): Promise<JsonRecord[]> {
  const { where, args } = filterOf(def, options);
  const found = await probeByIndex(
    (sql, a) => store.one(sql, a),
    where,
    args,
    options.timeZone ?? "UTC",
    false,
  );
  // Every row in wall-clock order (orderOf's): the first n read are the first n due.
  if (found?.ordered) return firstByWallClock;
  const sorted = timed(firstByWallClock, options.timeZone).sort(byDueInstant);
  const bound = new Date(sorted[sorted.length - 1].at + MAX_ZONE_AHEAD_MS).toISOString();
  const rows = await store.query(
    `${selectOf(def, options.time !== false)} WHERE ${where} AND c.due_date <= ?`,
    [...args, bound.slice(0, 10)],
  );
  return sortByDueInstant(rows.map((row) => withExtras(def, row)), options.timeZone).slice(0, n);
}

/**
 * Rows a page. Small on purpose: a page stays alive while it is printed, and
 * whatever is alive when V8 collects its young generation moves to the old
 * one, where it piles up until a full collection (larger pages cost memory,
 * not SQL: the statement steps either way).
 */
export const PAGE_SIZE = 100;

/**
 * The rows listRecords returns (ties broken by id), a page at a time from one
 * statement that steps as pages are asked for, so memory stays flat however
 * many there are. `onPage` may write them out; it is also told how many
 * records there are in all when the read took them at once (node:sqlite).
 * Given `onText` (list --json), a page may come instead as the body of
 * JSON.stringify(page, null, 2) (without its "[\n" and "\n]"), written by
 * SQLite.
 */
export async function forEachRecordPage(
  store: Store,
  def: EntityDef,
  options: ListOptions,
  onPage: (records: JsonRecord[], total?: number) => void | Promise<void>,
  pageSize = PAGE_SIZE,
  onText?: (body: string) => void | Promise<void>,
): Promise<number> {
  const { where, args } = filterOf(def, options);
  // "+c.status": walk the order's index (commitments_due) instead of sorting
  // every row of the status index.
  const filter = where.replace("c.status IN", "+c.status IN");
  const time = options.time !== false;
  const toRecords = (rows: Row[]) => rows.map((row) => withExtras(def, row));
  if (def.name !== "commitment") {
    return await store.reading((cursor) =>
      cursor.pages(
        `${selectOf(def, time)} WHERE ${filter} ORDER BY ${ORDER[def.name]}, c.id`,
        args,
        (rows, total) => onPage(toRecords(rows), total),
        pageSize,
      )
    );
  }
  const jsonable = options.json === true && recordColumnsOf(def) !== null;
  const narrow = options.fields ? def.fields.filter((f) => options.fields!.includes(f.name)) : null;
  // A narrow record of text fields is its row as it stands: no second object per row.
  const rowSelect = narrow === null
    ? `${selectOf(def, time)} WHERE ${filter}`
    : narrowCommitmentsSelect(narrow, time, filter);
  const rowRecords = narrow === null
    ? toRecords
    : !time && narrow.every((f) => f.type === "text")
    ? (rows: Row[]) => rows as JsonRecord[] // as toRecord would give each value
    : (rows: Row[]) => rows.map((row) => narrowRecord(narrow, row));
  const jsonSelect = (record: string) =>
    `SELECT ${record} AS _json${
      time ? `, ${ROLLUP_COLUMN} AS _time` : ""
    } FROM commitments c LEFT JOIN stakeholders s ON s.id = c.stakeholder_id WHERE ${filter}`;
  // Rows come in wall-clock order; each is written once no row still to come can be due sooner.
  let held: Timed[] = [];
  let known: number | undefined;
  const ready: JsonRecord[] = [];
  const release = async (before: number, last: boolean) => {
    held.sort(byDueInstant);
    const cut = held.findIndex((t) => t.at >= before);
    const out = cut === -1 ? held : held.slice(0, cut);
    held = cut === -1 ? [] : held.slice(cut);
    for (const t of out) ready.push(t.record);
    while (ready.length >= pageSize || (last && ready.length > 0)) {
      await onPage(ready.splice(0, pageSize), known);
    }
  };
  const total = await store.reading(async (cursor) => {
    const zone = options.timeZone ?? "UTC";
    const found = await probe(cursor, def, filter, args, zone, jsonable);
    // A blob (never written by jdo) would reach SQLite's JSON as text that
    // may not be UTF-8, which libSQL's driver cannot read: rows as before.
    const json = jsonable && !found.blob ? recordJsonOf(def, found.clean) : null;
    const order = ` ORDER BY ${orderOf(def)}`;
    const select = (json !== null ? jsonSelect(json) : rowSelect) + order;
    const pageRecords = (rows: Row[]) =>
      json !== null ? rows.map(recordFromJson) : rowRecords(rows);
    if (found.ordered && !options.general) {
      // Rows due in wall-clock order (all in UTC, the common case): as SQL
      // orders them, nothing held back or sorted here.
      const text = recordTextOf(def, found.clean);
      if (json !== null && text !== null && onText) {
        return await cursor.pages(
          jsonSelect(text) + order,
          args,
          (rows) => onText(jsonBody(rows)),
          pageSize,
        );
      }
      return await cursor.pages(
        select,
        args,
        (rows, total) => onPage(pageRecords(rows), total),
        pageSize,
      );
    }
    return await cursor.pages(
      select,
      args,
      async (rows, total) => {
        known = total;
        const records = pageRecords(rows);
        held.push(...timed(records, options.timeZone));
        await release(dueDayAsUtcMs(records[records.length - 1]) - MAX_ZONE_AHEAD_MS, false);
      },
      pageSize,
    );
  });
  await release(Infinity, true);
  return total;
}

/**
 * The fields of a commitment `jdo list`'s table shows: the index
 * commitments_listed (src/db/database.ts) holds exactly these, so the table's
 * rows are read from it alone, already in order (records_test.ts holds the two
 * together).
 */
export const LIST_TABLE_FIELDS: readonly string[] = [
  "deliverable",
  "due_date",
  "due_time",
  "timezone",
  "status",
];

/**
 * Narrow commitment rows (forEachRecordPage with `fields`): the id, `fields`,
 * created_at and the stakeholder's name, and the hour roll-up with `time`.
 */
export function narrowCommitmentsSelect(
  fields: readonly FieldDef[],
  time: boolean,
  filter: string,
): string {
  return `SELECT c.id${fields.map((f) => `, c."${f.name}"`).join("")}, c.created_at, ${
    time ? `s.name AS stakeholder, ${ROLLUP_COLUMN} AS _time` : "s.name AS stakeholder"
  } FROM commitments c LEFT JOIN stakeholders s ON s.id = c.stakeholder_id WHERE ${filter}`;
}

/** A narrow row as forEachRecordPage's `fields` record, by toRecord's rules. */
function narrowRecord(fields: readonly FieldDef[], row: Row): JsonRecord {
  const record: JsonRecord = { id: row.id };
  for (const field of fields) record[field.name] = recordValue(field, row);
  record.created_at = row.created_at;
  return withCommitmentExtras(record, row);
}

/** How many rows listRecords would return (one count(*) query). */
export async function countRecords(
  store: Store,
  def: EntityDef,
  options: ListOptions = {},
): Promise<number> {
  const { where, args } = filterOf(def, options);
  const row = await store.one(`SELECT count(*) AS n FROM ${def.table} c WHERE ${where}`, args);
  return Number(row?.n ?? 0);
}

function withExtras(def: EntityDef, row: Row): JsonRecord {
  const record = toRecord(def, row);
  return def.name === "commitment" ? withCommitmentExtras(record, row) : record;
}

/** A commitment record with its stakeholder's name and, when read, its tasks' hour roll-up. */
function withCommitmentExtras(record: JsonRecord, row: Row): JsonRecord {
  record.stakeholder = row.stakeholder ?? null;
  // Hours estimated, remaining and done over its tasks (issue 19, point 5).
  if ("_time" in row) record.time = rollupOf(row._time);
  return record;
}

/** One live row with its related rows, as `show --json` prints it. */
export async function loadRecord(
  store: Store,
  def: EntityDef,
  id: string,
): Promise<JsonRecord> {
  const rows = def.name === "commitment"
    ? await store.query(`${selectOf(def)} WHERE c.id = ?`, [id])
    : await store.query(`SELECT * FROM ${def.table} WHERE id = ?`, [id]);
  const record = withExtras(def, rows[0]);
  if (def.name === "commitment") {
    const tasks = await store.query(
      `SELECT * FROM tasks WHERE commitment_id = ? AND deleted_at IS NULL ORDER BY "order", created_at`,
      [id],
    );
    record.tasks = tasks.map((t) => toRecord(entity("task"), t));
    const plan = await store.one(
      `SELECT * FROM cleanup_plans WHERE commitment_id = ? AND deleted_at IS NULL ORDER BY created_at, id LIMIT 1`,
      [id],
    );
    if (plan) record.cleanup_plan = toRecord(entity("cleanup_plan"), plan);
  }
  if (def.name === "goal") {
    const milestones = await store.query(
      "SELECT * FROM milestones WHERE goal_id = ? AND deleted_at IS NULL ORDER BY target_date",
      [id],
    );
    record.milestones = milestones.map((m) => toRecord(entity("milestone"), m));
    record.progress = await goalProgress(store, id);
    record.time = await goalRollup(store, id);
  }
  return record;
}

export interface Progress {
  done: number;
  total: number;
}

/** Completed share of a goal's milestones and commitments (abandoned ones excluded). */
export async function goalProgress(store: Store, goalId: string): Promise<Progress> {
  const row = await store.one(
    `SELECT
       (SELECT count(*) FROM milestones WHERE goal_id = ?1 AND deleted_at IS NULL AND status = 'completed')
     + (SELECT count(*) FROM commitments WHERE goal_id = ?1 AND deleted_at IS NULL AND status = 'completed') AS done,
       (SELECT count(*) FROM milestones WHERE goal_id = ?1 AND deleted_at IS NULL)
     + (SELECT count(*) FROM commitments WHERE goal_id = ?1 AND deleted_at IS NULL AND status <> 'abandoned') AS total`,
    [goalId],
  );
  return { done: Number(row?.done ?? 0), total: Number(row?.total ?? 0) };
}
