/**
 * The task history (issue 19, point 5): one entry per task event, written in
 * the same transaction as the change it records and never changed after. An
 * entry keeps the estimate the task had at that moment and, for a completion,
 * how the time taken compared with it (the actual-hours category): the
 * estimation-accuracy part of the integrity score reads these.
 */
import { entity, type Row } from "../db/schema.ts";
import type { Writer } from "../db/store.ts";
import { JdoError } from "../errors.ts";

const eventDef = entity("task_event");

/** The original's five-point scale: the time taken against the estimate. */
export const ACTUAL_HOURS_CATEGORIES = [
  { code: "much_shorter", label: "Much shorter than estimated (<50%)" },
  { code: "shorter", label: "Shorter than estimated (50-85%)" },
  { code: "on_target", label: "On target (85-115%)" },
  { code: "longer", label: "Longer than estimated (115-150%)" },
  { code: "much_longer", label: "Much longer than estimated (>150%)" },
] as const;

export type ActualHoursCategory = typeof ACTUAL_HOURS_CATEGORIES[number]["code"];

const CODES = ACTUAL_HOURS_CATEGORIES.map((c) => c.code);

/**
 * Reads a category as a script or a person writes it: its name (`on_target`,
 * `on-target`, `on target`, any case) or its number on the scale (1-5).
 */
export function parseActualHours(input: string, flag = "--actual"): ActualHoursCategory {
  const text = input.trim().toLowerCase().replace(/[\s-]+/g, "_");
  const n = /^[1-5]$/.test(text) ? Number(text) : 0;
  const code = n ? CODES[n - 1] : CODES.find((c) => c === text);
  if (!code) {
    throw new JdoError(
      "USAGE",
      `${flag} must be one of ${CODES.join(", ")} (or 1-5), not "${input}"`,
    );
  }
  return code;
}

export type TaskEventType =
  | "created"
  | "started"
  | "completed"
  | "skipped"
  | "abandoned"
  | "reopened";

/**
 * The event a status change is: started, completed, skipped (abandoned when
 * the task was in progress), as the original names them; back to pending is
 * "reopened" (the original has no such event).
 */
export function eventOfTransition(previous: string, next: string): TaskEventType {
  if (next === "in_progress") return "started";
  if (next === "completed") return "completed";
  if (next === "skipped") return previous === "in_progress" ? "abandoned" : "skipped";
  return "reopened";
}

async function log(
  w: Writer,
  task: Row,
  event: TaskEventType,
  previous: string | null,
  extra: { actual?: ActualHoursCategory | null; notes?: string | null } = {},
): Promise<Row> {
  return await w.insert(eventDef, {
    task_id: task.id,
    commitment_id: task.commitment_id,
    event_type: event,
    previous_status: previous,
    new_status: task.status,
    estimated_hours: task.estimated_hours ?? null,
    actual_hours_category: extra.actual ?? null,
    notes: extra.notes ?? null,
  });
}

/** Records a new task (call with the row as inserted). */
export function logTaskCreated(w: Writer, task: Row): Promise<Row> {
  return log(w, task, "created", null);
}

/**
 * Records a task's status change (call with the row as updated and the
 * status it had before); nothing when the status did not change.
 */
export async function logTaskStatusChange(
  w: Writer,
  task: Row,
  previous: string,
  extra: { actual?: ActualHoursCategory | null; notes?: string | null } = {},
): Promise<Row | undefined> {
  const next = String(task.status);
  if (next === previous) return undefined;
  return await log(w, task, eventOfTransition(previous, next), previous, {
    actual: next === "completed" ? extra.actual : null,
    notes: extra.notes,
  });
}

/** The store or a write transaction: either can read the history. */
interface Reader {
  query(sql: string, args?: (string | number | null)[]): Promise<Row[]>;
}

/** The history of one task, or of every task of a commitment, oldest first. */
export async function taskHistory(
  r: Reader,
  of: { taskId: string } | { commitmentId: string },
): Promise<Row[]> {
  const [column, id] = "taskId" in of ? ["task_id", of.taskId] : ["commitment_id", of.commitmentId];
  return await r.query(
    `SELECT * FROM task_history WHERE ${column} = ? AND deleted_at IS NULL ORDER BY created_at, version, id`,
    [id],
  );
}
