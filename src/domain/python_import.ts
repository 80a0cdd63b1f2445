/**
 * Reading a database of the original, Python jdo (JRedeker/jdo): an SQLite
 * file written by SQLModel/SQLAlchemy from its models and Alembic migrations.
 * Its rows become a jdo export document, which `importStream` then loads like
 * any other (idempotent by id, all-or-nothing, same-named stakeholders merged).
 *
 * How the original stores things (SQLAlchemy on SQLite):
 * - UUIDs as 32 hex characters without dashes (`Uuid`, not native here);
 * - enums by their member NAME ("IN_PROGRESS"), the lower-cased name being jdo's value;
 * - datetimes as naive UTC text "YYYY-MM-DD HH:MM:SS.ffffff", dates "YYYY-MM-DD",
 *   times "HH:MM:SS.ffffff"; booleans 0/1; JSON columns as JSON text.
 */
import type { Client, Row as SqlRow } from "@libsql/client";
import { JdoError } from "../errors.ts";
import { EXPORT_FORMAT } from "./transfer.ts";
import { DEFAULT_DUE_TIME } from "./due.ts";
import { LAST_WEEK, type Pattern, patternProblem } from "./recurrence.ts";

const SQLITE_HEADER = "SQLite format 3\0";

/** True when the file starts with SQLite's header (a database file, not a JSON document). */
export async function isSqliteFile(path: string): Promise<boolean> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch {
    return false; // reading it as JSON reports the error
  }
  try {
    const head = new Uint8Array(SQLITE_HEADER.length);
    let got = 0;
    while (got < head.length) {
      const n = await file.read(head.subarray(got));
      if (n === null) break;
      got += n;
    }
    return got === head.length && new TextDecoder().decode(head) === SQLITE_HEADER;
  } finally {
    file.close();
  }
}

/** Rows of the original that jdo has no place for, by kind (reported, not imported). */
export type NotImported = Record<string, number>;

export interface PythonJdoDocument {
  /** A jdo export document holding the original's rows. */
  document: string;
  rows: number;
  notImported: NotImported;
}

/** Tables every database of the original has (its first migration and `create_all`). */
const REQUIRED_TABLES = ["stakeholders", "visions", "goals", "milestones", "commitments", "tasks"];

type Value = string | number | null;
type Source = Record<string, Value>;

function bad(path: string, message: string): never {
  throw new JdoError("INVALID_INPUT", `Cannot import ${path}: ${message}`);
}

/** Reads a Python jdo database, read-only, into a jdo export document. */
export async function readPythonJdo(path: string): Promise<PythonJdoDocument> {
  // The same libSQL client jdo uses; query_only makes this connection unable to write.
  const { createClient } = await import("@libsql/client");
  let client: Client;
  try {
    client = createClient({ url: `file:${path}`, concurrency: 1 });
    await client.execute("PRAGMA query_only = ON");
  } catch (error) {
    bad(path, (error as Error).message.split("\n")[0]);
  }
  try {
    return await readTables(client, path);
  } finally {
    client.close();
  }
}

async function readTables(client: Client, path: string): Promise<PythonJdoDocument> {
  let tables: Set<string>;
  try {
    const rs = await client.execute("SELECT name FROM sqlite_master WHERE type = 'table'");
    tables = new Set(rs.rows.map((r) => String(r.name)));
  } catch (error) {
    bad(path, `not a readable SQLite database (${(error as Error).message.split("\n")[0]})`);
  }
  if (tables.has("_sync_outbox") || tables.has("_jdo_meta") || tables.has("_migrations")) {
    bad(path, "this is a jdo database, not an export; use `jdo db restore` to bring it back");
  }
  const missing = REQUIRED_TABLES.filter((t) => !tables.has(t));
  if (missing.length > 0) {
    bad(path, `an SQLite file, but not a Python jdo database (no ${missing[0]} table)`);
  }
  const all = async (table: string): Promise<Source[]> => {
    if (!tables.has(table)) return [];
    const rs = await client.execute(`SELECT * FROM "${table}" ORDER BY id`);
    return rs.rows.map((r: SqlRow) => plain(r));
  };
  const m = new Mapper(path);
  const drafts = await all("drafts");
  const triage = drafts.filter((d) => m.enumValue(d.entity_type, "entity_type") === "unknown");
  const doc = {
    format: EXPORT_FORMAT,
    format_version: 1,
    source: "python-jdo",
    stakeholders: (await all("stakeholders")).map((r) => m.stakeholder(r)),
    visions: (await all("visions")).map((r) => m.vision(r)),
    goals: (await all("goals")).map((r) => m.goal(r)),
    milestones: (await all("milestones")).map((r) => m.milestone(r)),
    recurring: (await all("recurring_commitments")).map((r) => m.recurring(r)),
    commitments: (await all("commitments")).map((r) => m.commitment(r)),
    tasks: (await all("tasks")).map((r) => m.task(r)),
    "cleanup-plans": (await all("cleanup_plans")).map((r) => m.cleanupPlan(r)),
    "task-history": (await all("task_history")).map((r) => m.taskEvent(r)),
    inbox: triage.map((r) => m.inboxItem(r)),
  };
  const notImported: NotImported = {};
  const skip = (kind: string, n: number) => {
    if (n > 0) notImported[kind] = n;
  };
  skip("unfinished drafts", drafts.length - triage.length);
  const rows = Object.values(doc).reduce<number>(
    (n, v) => n + (Array.isArray(v) ? v.length : 0),
    0,
  );
  return { document: JSON.stringify(doc), rows, notImported };
}

function plain(row: SqlRow): Source {
  const out: Source = {};
  for (const [key, value] of Object.entries(row)) {
    if (typeof value === "bigint") out[key] = Number(value);
    else if (value instanceof ArrayBuffer) out[key] = hexOf(new Uint8Array(value));
    else out[key] = value as Value;
  }
  return out;
}

function hexOf(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const DATETIME_RE =
  /^(\d{4}-\d{2}-\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}/;
const TIME_RE = /^(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?$/;

/** Converts one row of the original into a jdo export record, field by field. */
class Mapper {
  constructor(private readonly path: string) {}

  #fail(what: string, message: string): never {
    bad(this.path, `${what}: ${message}`);
  }

  /** "0f8e…" (32 hex) or a dashed UUID → jdo's lowercase dashed form. */
  uuid(value: Value, what: string): string | null {
    if (value === null) return null;
    const hex = String(value).replaceAll("-", "").toLowerCase();
    if (!/^[0-9a-f]{32}$/.test(hex)) this.#fail(what, `"${value}" is not a UUID`);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
      hex.slice(20)
    }`;
  }

  /** An enum stored by member name ("ON_HOLD") or by value ("on_hold") → "on_hold". */
  enumValue(value: Value, what: string): string | null {
    if (value === null) return null;
    const text = String(value).trim().toLowerCase();
    if (!/^[a-z_]+$/.test(text)) this.#fail(what, `unknown value "${value}"`);
    return text;
  }

  /** A naive datetime (UTC, as the original's utc_now stores it) → ISO-8601 UTC. */
  instant(value: Value, what: string): string | null {
    if (value === null || value === "") return null;
    const m = DATETIME_RE.exec(String(value));
    if (!m) this.#fail(what, `"${value}" is not a date and time`);
    const [, day, hh, mm, ss = "00", frac = "", zone] = m;
    const ms = (frac + "000").slice(0, 3);
    let offset = zone ?? "Z";
    if (offset !== "Z" && !offset.includes(":")) {
      offset = `${offset.slice(0, 3)}:${offset.slice(3)}`;
    }
    const date = new Date(`${day}T${hh}:${mm}:${ss}.${ms}${offset}`);
    if (Number.isNaN(date.getTime())) this.#fail(what, `"${value}" is not a date and time`);
    return date.toISOString();
  }

  day(value: Value, what: string): string | null {
    if (value === null || value === "") return null;
    const m = DATE_RE.exec(String(value));
    if (!m) this.#fail(what, `"${value}" is not a date`);
    return m[0];
  }

  /** "09:00:00.000000" → "09:00" (jdo keeps minutes). */
  clock(value: Value, what: string): string | null {
    if (value === null || value === "") return null;
    const m = TIME_RE.exec(String(value));
    if (!m) this.#fail(what, `"${value}" is not a time`);
    return `${m[1]}:${m[2]}`;
  }

  bool(value: Value): boolean | null {
    if (value === null || value === undefined) return null;
    return value === 1 || value === "1" || String(value).toLowerCase() === "true";
  }

  /** A JSON list column (NULL or unreadable → empty list). */
  list(value: Value): unknown[] {
    if (value === null || value === undefined) return [];
    try {
      const parsed = JSON.parse(String(value));
      return Array.isArray(parsed) ? parsed : [];
    } catch {
      return [];
    }
  }

  text(value: Value | undefined): string | null {
    return value === null || value === undefined ? null : String(value);
  }

  num(value: Value | undefined): number | null {
    return value === null || value === undefined ? null : Number(value);
  }

  #base(r: Source, kind: string) {
    const id = this.uuid(r.id, `a ${kind} row`)!;
    const what = `${kind} ${id.slice(0, 8)}`;
    return { id, what, created_at: this.instant(r.created_at, `${what} created_at`) };
  }

  stakeholder(r: Source) {
    const { id, what, created_at } = this.#base(r, "stakeholder");
    return {
      id,
      created_at,
      name: this.text(r.name),
      type: this.enumValue(r.type, `${what} type`) ?? "person",
      contact_info: this.text(r.contact_info),
      notes: this.text(r.notes),
    };
  }

  vision(r: Source) {
    const { id, what, created_at } = this.#base(r, "vision");
    return {
      id,
      created_at,
      title: this.text(r.title),
      narrative: this.text(r.narrative),
      timeframe: this.text(r.timeframe),
      metrics: this.list(r.metrics),
      why_it_matters: this.text(r.why_it_matters),
      next_review_date: this.day(r.next_review_date, `${what} next_review_date`),
      status: this.enumValue(r.status, `${what} status`),
    };
  }

  goal(r: Source) {
    const { id, what, created_at } = this.#base(r, "goal");
    return {
      id,
      created_at,
      title: this.text(r.title),
      problem_statement: this.text(r.problem_statement),
      solution_vision: this.text(r.solution_vision),
      motivation: this.text(r.motivation),
      vision_id: this.uuid(r.vision_id, `${what} vision_id`),
      parent_goal_id: this.uuid(r.parent_goal_id, `${what} parent_goal_id`),
      review_interval_days: this.num(r.review_interval_days),
      next_review_date: this.day(r.next_review_date, `${what} next_review_date`),
      status: this.enumValue(r.status, `${what} status`),
    };
  }

  milestone(r: Source) {
    const { id, what, created_at } = this.#base(r, "milestone");
    return {
      id,
      created_at,
      goal_id: this.uuid(r.goal_id, `${what} goal_id`),
      title: this.text(r.title),
      target_date: this.day(r.target_date, `${what} target_date`),
      description: this.text(r.description),
      completed_at: this.instant(r.completed_at, `${what} completed_at`),
      status: this.enumValue(r.status, `${what} status`),
    };
  }

  commitment(r: Source) {
    const { id, what, created_at } = this.#base(r, "commitment");
    return {
      id,
      created_at,
      deliverable: this.text(r.deliverable),
      stakeholder_id: this.uuid(r.stakeholder_id, `${what} stakeholder_id`),
      due_date: this.day(r.due_date, `${what} due_date`),
      due_time: this.clock(r.due_time, `${what} due_time`),
      timezone: this.text(r.timezone),
      goal_id: this.uuid(r.goal_id, `${what} goal_id`),
      milestone_id: this.uuid(r.milestone_id, `${what} milestone_id`),
      notes: this.text(r.notes),
      status: this.enumValue(r.status, `${what} status`),
      completed_at: this.instant(r.completed_at, `${what} completed_at`),
      completed_on_time: this.bool(r.completed_on_time),
      marked_at_risk_at: this.instant(r.marked_at_risk_at, `${what} marked_at_risk_at`),
      recurring_id: this.uuid(r.recurring_commitment_id, `${what} recurring_commitment_id`),
    };
  }

  /**
   * A recurring commitment template. The original has no start date: its
   * series starts on the day the template was made. Its "5th week" means the
   * last; sub-tasks of task templates become a checklist in the scope.
   */
  recurring(r: Source) {
    const { id, what, created_at } = this.#base(r, "recurring commitment");
    const week = this.num(r.week_of_month);
    const days = r.days_of_week === null ? null : this.list(r.days_of_week).map(Number);
    const schedule = {
      recurrence_type: this.enumValue(r.recurrence_type, `${what} recurrence_type`),
      interval: this.num(r.interval) ?? 1,
      days_of_week: days,
      day_of_month: this.num(r.day_of_month),
      week_of_month: week === 5 ? LAST_WEEK : week,
      month_of_year: this.num(r.month_of_year),
    };
    const problem = patternProblem(schedule as Pattern);
    if (problem) this.#fail(what, problem);
    const tasks = this.list(r.task_templates)
      .filter((t): t is Record<string, unknown> => typeof t === "object" && t !== null)
      .map((t, i) => {
        const subTasks = Array.isArray(t.sub_tasks)
          ? t.sub_tasks.map((st) => `- [ ] ${String(st?.description ?? "")}`)
          : [];
        const scope = typeof t.scope === "string" ? t.scope : null;
        return {
          title: String(t.title ?? ""),
          scope: subTasks.length ? [scope ?? "", ...subTasks].join("\n").trim() : scope,
          order: typeof t.order === "number" ? t.order : i + 1,
        };
      });
    return {
      id,
      created_at,
      deliverable: this.text(r.deliverable_template),
      stakeholder_id: this.uuid(r.stakeholder_id, `${what} stakeholder_id`),
      goal_id: this.uuid(r.goal_id, `${what} goal_id`),
      due_time: this.clock(r.due_time, `${what} due_time`) ?? DEFAULT_DUE_TIME,
      timezone: this.text(r.timezone),
      ...schedule,
      start_date: created_at?.slice(0, 10) ?? null,
      end_type: this.enumValue(r.end_type, `${what} end_type`) ?? "never",
      end_after_count: this.num(r.end_after_count),
      end_by_date: this.day(r.end_by_date, `${what} end_by_date`),
      task_templates: tasks,
      notes: this.text(r.notes),
      status: this.enumValue(r.status, `${what} status`),
    };
  }

  /** Sub-tasks (a JSON list in the original) are kept as a checklist in the scope. */
  task(r: Source) {
    const { id, what, created_at } = this.#base(r, "task");
    const subTasks = this.list(r.sub_tasks)
      .filter((s): s is { description: unknown; completed?: unknown } =>
        typeof s === "object" && s !== null && "description" in s
      )
      .map((s) => `- [${s.completed === true ? "x" : " "}] ${String(s.description)}`);
    const scope = this.text(r.scope);
    return {
      id,
      created_at,
      commitment_id: this.uuid(r.commitment_id, `${what} commitment_id`),
      title: this.text(r.title),
      scope: subTasks.length ? [scope ?? "", ...subTasks].join("\n").trim() : scope,
      order: this.num(r.order),
      estimated_hours: this.num(r.estimated_hours),
      status: this.enumValue(r.status, `${what} status`),
      is_notification_task: this.bool(r.is_notification_task) ?? false,
      actual_hours_category: this.enumValue(
        r.actual_hours_category ?? null,
        `${what} actual_hours_category`,
      ),
    };
  }

  /** A task history entry: the same event, kept even when its task is gone (as there). */
  taskEvent(r: Source) {
    const { id, what, created_at } = this.#base(r, "task history entry");
    return {
      id,
      created_at,
      task_id: this.uuid(r.task_id, `${what} task_id`),
      commitment_id: this.uuid(r.commitment_id, `${what} commitment_id`),
      event_type: this.enumValue(r.event_type, `${what} event_type`),
      previous_status: this.enumValue(r.previous_status ?? null, `${what} previous_status`),
      new_status: this.enumValue(r.new_status, `${what} new_status`),
      estimated_hours: this.num(r.estimated_hours),
      actual_hours_category: this.enumValue(
        r.actual_hours_category ?? null,
        `${what} actual_hours_category`,
      ),
      notes: this.text(r.notes),
    };
  }

  cleanupPlan(r: Source) {
    const { id, what, created_at } = this.#base(r, "cleanup plan");
    return {
      id,
      created_at,
      commitment_id: this.uuid(r.commitment_id, `${what} commitment_id`),
      impact_description: this.text(r.impact_description),
      mitigation_actions: this.list(r.mitigation_actions).map(String),
      notification_task_id: this.uuid(r.notification_task_id, `${what} notification_task_id`),
      status: this.enumValue(r.status, `${what} status`),
      completed_at: this.instant(r.completed_at, `${what} completed_at`),
      skipped_reason: this.text(r.skipped_reason),
    };
  }

  /** A triage draft (entity type UNKNOWN, {"raw_text": …}) → an open inbox item. */
  inboxItem(r: Source) {
    const { id, created_at } = this.#base(r, "draft");
    let text: string | null = null;
    try {
      const data = JSON.parse(String(r.partial_data ?? "{}"));
      if (data && typeof data.raw_text === "string") text = data.raw_text;
    } catch { /* no text: imported as "(empty capture)" below */ }
    return { id, created_at, text: text?.trim() ? text : "(empty capture)", status: "open" };
  }
}
