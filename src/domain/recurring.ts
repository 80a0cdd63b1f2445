/**
 * Recurring commitments: templates that generate commitment instances on a
 * schedule (src/domain/recurrence.ts), one open instance at a time.
 *
 * Generation is deterministic, so that devices generating while offline
 * agree: an instance's id is derived from its template and occurrence date,
 * its tasks' ids from the instance, and every value it is created with from
 * the template. Its field versions are a "generated" version
 * (generatedVersion) that sorts below every real edit, ordered by the
 * template's version: two devices that generate the same occurrence write
 * the same row, which syncs to one row; a generated value never beats an
 * edit a person made (completing the instance on one device survives the
 * other generating it later); and of two generations from different states
 * of the template, the newer template's wins.
 */
import { GENERATED_PREFIX } from "../db/hlc.ts";
import { entity, type Row } from "../db/schema.ts";
import type { Store, Writer } from "../db/store.ts";
import { JdoError } from "../errors.ts";
import { type DateContext, skippedWallTime, todayIn } from "./dates.ts";
import { DEFAULT_DUE_TIME } from "./due.ts";
import type { Domain } from "./input.ts";
import {
  type Pattern,
  patternProblem,
  plusDays,
  type Schedule,
  walkSeries,
  windowEnd,
  windowStart,
} from "./recurrence.ts";

export interface TaskTemplate {
  title: string;
  scope?: string | null;
  order?: number;
  estimated_hours?: number | null;
}

/** Commitment statuses that count as the template's open instance. */
const OPEN = ["pending", "in_progress", "at_risk"];

async function sha256Hex(text: string): Promise<string> {
  const bytes = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A UUID derived from a name (the layout of RFC 9562's version 8, "custom"):
 * the same name gives the same id on every device.
 */
export async function derivedUuid(name: string): Promise<string> {
  const hex = (await sha256Hex(`jdo:${name}`)).slice(0, 32).split("");
  hex[12] = "8";
  hex[16] = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  const h = hex.join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The id of a template's instance for one occurrence date. */
export function instanceId(templateId: string, occurrence: string): Promise<string> {
  return derivedUuid(`recurring/${templateId}/${occurrence}`);
}

/**
 * The version of a generated row: the generated prefix, then the template's
 * version (a newer template's generation wins), a digest of the row's values
 * (two different generations never tie), and the row id (unique per row).
 */
async function generatedVersion(templateVersion: string, row: Row): Promise<string> {
  const digest = (await sha256Hex(JSON.stringify(row))).slice(0, 12);
  return `${GENERATED_PREFIX}${templateVersion}~${digest}~${row.id}`;
}

export function scheduleOf(row: Row): Schedule {
  const int = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    recurrence_type: String(row.recurrence_type) as Schedule["recurrence_type"],
    interval: Number(row.interval ?? 1),
    days_of_week: row.days_of_week === null || row.days_of_week === undefined
      ? null
      : JSON.parse(String(row.days_of_week)),
    day_of_month: int(row.day_of_month),
    week_of_month: int(row.week_of_month),
    month_of_year: int(row.month_of_year),
    start_date: String(row.start_date),
    end_type: String(row.end_type ?? "never") as Schedule["end_type"],
    end_after_count: int(row.end_after_count),
    end_by_date: row.end_by_date === null || row.end_by_date === undefined
      ? null
      : String(row.end_by_date),
  };
}

export function taskTemplatesOf(row: Row): TaskTemplate[] {
  if (row.task_templates === null || row.task_templates === undefined) return [];
  try {
    const parsed = JSON.parse(String(row.task_templates));
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

/** The template's zone (the zone it was made in): its "today" and its instances' due times. */
function zoneOf(template: Row, dates: DateContext): string {
  return template.timezone ? String(template.timezone) : dates.timeZone;
}

export function todayOf(template: Row, dates: DateContext): string {
  return todayIn({ now: dates.now, timeZone: zoneOf(template, dates) });
}

/** Refuses a schedule the original's model would refuse (a usage error: exit 2). */
export function assertSchedule(s: Schedule): void {
  const problem = patternProblem(s);
  if (problem) throw new JdoError("USAGE", `Bad recurrence: ${problem}`);
  if (s.end_type === "after_count" && !(Number(s.end_after_count) >= 1)) {
    throw new JdoError("USAGE", "Bad recurrence: --count must be at least 1");
  }
  if (s.end_type === "by_date" && s.end_by_date !== null && s.end_by_date < s.start_date) {
    throw new JdoError(
      "USAGE",
      `Bad recurrence: --until ${s.end_by_date} is before the start ${s.start_date}`,
    );
  }
}

/** The next occurrence of the series on or after `from`, or null once it has ended. */
export function nextOccurrence(s: Schedule, from: string): string | null {
  let found: string | null = null;
  walkSeries(s, (date) => {
    if (date >= from) found = date;
    return found === null;
  });
  return found;
}

/** How many occurrences the series has before `date` (its index, were `date` one). */
export function occurrencesBefore(s: Schedule, date: string): number {
  let n = 0;
  walkSeries(s, (d) => {
    if (d >= date) return false;
    n++;
    return true;
  });
  return n;
}

export interface Generated {
  commitment: Row;
  tasks: Row[];
}

/** The instance rows of one occurrence, as every device would make them. */
async function instanceRows(template: Row, occurrence: string, dates: DateContext): Promise<Row[]> {
  const id = await instanceId(String(template.id), occurrence);
  const zone = zoneOf(template, dates);
  const wanted = String(template.due_time ?? DEFAULT_DUE_TIME);
  // A due time inside a daylight-saving gap moves to the time it becomes.
  const due = skippedWallTime(occurrence, wanted, zone) ?? { date: occurrence, time: wanted };
  const s = scheduleOf(template);
  // Made when the occurrence's window opened (not before its template):
  // the same on every device, whenever each one got to generate it.
  const opened = `${windowStart(s.recurrence_type, occurrence)}T00:00:00.000Z`;
  const createdAt = String(template.created_at) > opened ? String(template.created_at) : opened;
  const common = { created_at: createdAt, updated_at: createdAt, deleted_at: null };
  const commitment: Row = {
    id,
    ...common,
    deliverable: template.deliverable,
    stakeholder_id: template.stakeholder_id,
    due_date: due.date,
    due_time: due.time,
    timezone: zone,
    goal_id: template.goal_id ?? null,
    milestone_id: null,
    notes: template.notes ?? null,
    status: "pending",
    completed_at: null,
    completed_on_time: null,
    marked_at_risk_at: null,
    recurring_id: template.id,
  };
  const rows = [commitment];
  const templates = taskTemplatesOf(template);
  for (let i = 0; i < templates.length; i++) {
    const t = templates[i];
    rows.push({
      id: await derivedUuid(`recurring-task/${id}/${i}`),
      ...common,
      commitment_id: id,
      title: t.title,
      scope: t.scope ?? null,
      order: t.order ?? i + 1,
      estimated_hours: t.estimated_hours ?? null,
      status: "pending",
    });
  }
  return rows;
}

/**
 * Writes the instance of `occurrence` unless a row with its id exists here
 * (live, done or deleted): generating twice is a no-op. Returns it when made.
 */
export async function generateOccurrence(
  w: Writer,
  template: Row,
  occurrence: string,
  dates: DateContext,
): Promise<Generated | null> {
  const [commitment, ...tasks] = await instanceRows(template, occurrence, dates);
  const exists = await w.one("SELECT id FROM commitments WHERE id = ?", [commitment.id]);
  if (exists) return null;
  const templateVersion = String(template.version);
  const stamp = async (r: Row) => ({ ...r, version: await generatedVersion(templateVersion, r) });
  const made = await w.insertGenerated(entity("commitment"), [await stamp(commitment)]);
  const madeTasks = tasks.length
    ? await w.insertGenerated(entity("task"), await Promise.all(tasks.map(stamp)))
    : [];
  return { commitment: made[0], tasks: madeTasks };
}

/**
 * The original's rule, one open instance at a time: when an active template
 * has no open instance, its next occurrence — the first of the series on or
 * after today and after every instance it already has (missed occurrences
 * are skipped, not generated late) — is generated once it falls within the
 * generation window (`anyWindow`: whenever it falls, for a new template's
 * first instance).
 */
/**
 * The occurrence a template would generate now (see generateNext), or null:
 * paused or deleted, an open instance, nothing left in the series or in the
 * window. Reads only.
 */
async function dueOccurrenceFrom(
  r: Store | Writer,
  template: Row,
  dates: DateContext,
  anyWindow: boolean,
): Promise<{ occurrence: string; schedule: Schedule } | null> {
  if (template.status !== "active" || template.deleted_at !== null) return null;
  const id = String(template.id);
  const state = await r.one(
    `SELECT max(due_date) AS last,
       count(CASE WHEN deleted_at IS NULL AND status IN (${
      OPEN.map(() => "?").join(", ")
    }) THEN 1 END) AS open
     FROM commitments WHERE recurring_id = ?`,
    [...OPEN, id],
  );
  if (Number(state?.open ?? 0) > 0) return null;
  const today = todayOf(template, dates);
  let from = today;
  if (state?.last && plusDays(String(state.last), 1) > from) {
    from = plusDays(String(state.last), 1);
  }
  const schedule = scheduleOf(template);
  const occurrence = nextOccurrence(schedule, from);
  if (occurrence === null) return null;
  if (!anyWindow && occurrence > windowEnd(schedule.recurrence_type, today)) return null;
  return { occurrence, schedule };
}

/**
 * The original's rule, one open instance at a time: when an active template
 * has no open instance, its next occurrence — the first of the series on or
 * after today and after every instance it already has (missed occurrences
 * are skipped, not generated late) — is generated once it falls within the
 * generation window (`anyWindow`: whenever it falls, for a new template's
 * first instance).
 */
export async function generateNext(
  w: Writer,
  template: Row,
  dates: DateContext,
  anyWindow = false,
): Promise<Generated | null> {
  const due = await dueOccurrenceFrom(w, template, dates, anyWindow);
  if (!due) return null;
  const horizon = windowEnd(due.schedule.recurrence_type, todayOf(template, dates));
  // An occurrence already here under its id (its instance moved to another
  // due date) is passed over: a few tries find the next one.
  let occurrence: string | null = due.occurrence;
  for (let tries = 0; tries < 8 && occurrence !== null; tries++) {
    if (!anyWindow && occurrence > horizon) return null;
    const made = await generateOccurrence(w, template, occurrence, dates);
    if (made) return made;
    occurrence = nextOccurrence(due.schedule, plusDays(occurrence, 1));
  }
  return null;
}

/** Generates what is due for every active template (run when commitments are viewed). */
export async function generateDue(d: Domain): Promise<Generated[]> {
  const store = d.store;
  const active = await store.query(
    "SELECT * FROM recurring_commitments WHERE status = 'active' AND deleted_at IS NULL",
  );
  // Reads first: a list with nothing due takes no write lock.
  const due: string[] = [];
  for (const template of active) {
    if (await dueOccurrenceFrom(store, template, d.dates(), false)) due.push(String(template.id));
  }
  if (due.length === 0) return [];
  return await store.write(async (w) => {
    const out: Generated[] = [];
    for (const id of due) {
      // Read again inside the transaction: another process may have generated it meanwhile.
      const template = await w.one("SELECT * FROM recurring_commitments WHERE id = ?", [id]);
      if (!template) continue;
      const made = await generateNext(w, template, d.dates());
      if (made) out.push(made);
    }
    return out;
  });
}

/** After an instance is completed or abandoned: its template's next instance, when due. */
export async function followInstanceClosed(
  w: Writer,
  commitment: Row,
  dates: DateContext,
): Promise<Generated | null> {
  if (!commitment.recurring_id) return null;
  const template = await w.one(
    "SELECT * FROM recurring_commitments WHERE id = ? AND deleted_at IS NULL",
    [commitment.recurring_id],
  );
  return template ? await generateNext(w, template, dates) : null;
}

/** What the list and show of a template print beside its fields. */
export interface TemplateState {
  instances: number;
  /** The open instance's due date, else the next occurrence to be generated (null: paused or ended). */
  next: string | null;
}

export async function templateState(
  w: Store | Writer,
  template: Row,
  dates: DateContext,
): Promise<TemplateState> {
  const row = await w.one(
    `SELECT count(*) AS n, max(due_date) AS d,
       min(CASE WHEN deleted_at IS NULL AND status IN (${
      OPEN.map((s) => `'${s}'`).join(", ")
    }) THEN due_date END) AS open
     FROM commitments WHERE recurring_id = ?`,
    [String(template.id)],
  );
  if (template.status !== "active") return { instances: Number(row?.n ?? 0), next: null };
  if (row?.open) return { instances: Number(row.n), next: String(row.open) };
  const s = scheduleOf(template);
  let from = todayOf(template, dates);
  if (row?.d && plusDays(String(row.d), 1) > from) from = plusDays(String(row.d), 1);
  return { instances: Number(row?.n ?? 0), next: nextOccurrence(s, from) };
}

/** The columns a schedule is stored in. */
export function scheduleColumns(s: Schedule): Row {
  return {
    recurrence_type: s.recurrence_type,
    interval: s.interval,
    days_of_week: s.days_of_week === null ? null : JSON.stringify(s.days_of_week),
    day_of_month: s.day_of_month,
    week_of_month: s.week_of_month,
    month_of_year: s.month_of_year,
    start_date: s.start_date,
    end_type: s.end_type,
    end_after_count: s.end_after_count,
    end_by_date: s.end_by_date,
  };
}

export type { Pattern };
