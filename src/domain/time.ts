/**
 * Time (issue 19, point 5): hours estimated and remaining on a commitment or
 * a goal, the overcommitting warning (commitments made faster than they are
 * kept), and the "stalled" risk: work in progress, due soon, untouched.
 */
import type { Row } from "../db/schema.ts";
import type { Store } from "../db/store.ts";
import { addDays, todayIn } from "./dates.ts";
import { dueZone } from "./due.ts";

const DAY_MS = 24 * 3_600_000;

/** The original's time roll-up of a commitment's tasks. */
export interface TimeRollup {
  /** Estimated hours of every task. */
  total_estimated_hours: number;
  /** Estimated hours of the tasks still to do (pending or in progress). */
  remaining_estimated_hours: number;
  /** Estimated hours of the completed tasks (skipped ones count in neither). */
  completed_estimated_hours: number;
  task_count: number;
  tasks_with_estimates: number;
  completed_task_count: number;
}

/**
 * A correlated subquery giving a commitment's roll-up as JSON, for a SELECT
 * whose commitments are `c`: one index range of its tasks per commitment.
 */
export const ROLLUP_COLUMN = `(SELECT json_object(
  'total', coalesce(sum(t.estimated_hours), 0),
  'remaining', coalesce(sum(CASE WHEN t.status IN ('pending','in_progress') THEN t.estimated_hours END), 0),
  'completed', coalesce(sum(CASE WHEN t.status = 'completed' THEN t.estimated_hours END), 0),
  'tasks', count(*),
  'estimated', count(t.estimated_hours),
  'done', count(CASE WHEN t.status = 'completed' THEN 1 END))
  FROM tasks t WHERE t.commitment_id = c.id AND t.deleted_at IS NULL)`;

/** Hours are summed in floating point: 0.1 + 0.2 shows as 0.3. */
function hours(n: unknown): number {
  return Math.round(Number(n ?? 0) * 1e6) / 1e6;
}

/** The roll-up from ROLLUP_COLUMN's JSON. */
export function rollupOf(json: unknown): TimeRollup {
  const r = typeof json === "string" ? JSON.parse(json) : {};
  return {
    total_estimated_hours: hours(r.total),
    remaining_estimated_hours: hours(r.remaining),
    completed_estimated_hours: hours(r.completed),
    task_count: Number(r.tasks ?? 0),
    tasks_with_estimates: Number(r.estimated ?? 0),
    completed_task_count: Number(r.done ?? 0),
  };
}

/** One commitment's roll-up. */
export async function commitmentRollup(store: Store, commitmentId: string): Promise<TimeRollup> {
  const row = await store.one(`SELECT ${ROLLUP_COLUMN} AS r FROM commitments c WHERE c.id = ?`, [
    commitmentId,
  ]);
  return rollupOf(row?.r);
}

/**
 * A goal's roll-up: the tasks of the commitments that serve it, abandoned
 * commitments left out (their work will not be done), as goal progress
 * leaves them out.
 */
export async function goalRollup(store: Store, goalId: string): Promise<TimeRollup> {
  const row = await store.one(
    `SELECT json_object(
       'total', coalesce(sum(t.estimated_hours), 0),
       'remaining', coalesce(sum(CASE WHEN t.status IN ('pending','in_progress') THEN t.estimated_hours END), 0),
       'completed', coalesce(sum(CASE WHEN t.status = 'completed' THEN t.estimated_hours END), 0),
       'tasks', count(*),
       'estimated', count(t.estimated_hours),
       'done', count(CASE WHEN t.status = 'completed' THEN 1 END)) AS r
     FROM commitments c JOIN tasks t ON t.commitment_id = c.id AND t.deleted_at IS NULL
     WHERE c.goal_id = ? AND c.deleted_at IS NULL AND c.status <> 'abandoned'`,
    [goalId],
  );
  return rollupOf(row?.r);
}

/** "6 h estimated, 4 h remaining, 2 h done (3 of 4 tasks estimated)", or null without estimates. */
export function rollupText(r: TimeRollup): string | null {
  if (r.tasks_with_estimates === 0) return null;
  const h = (n: number) => `${n} h`;
  const coverage = r.tasks_with_estimates === r.task_count
    ? `all ${r.task_count} task${r.task_count === 1 ? "" : "s"} estimated`
    : `${r.tasks_with_estimates} of ${r.task_count} tasks estimated`;
  return `${h(r.total_estimated_hours)} estimated, ${h(r.remaining_estimated_hours)} remaining, ${
    h(r.completed_estimated_hours)
  } done (${coverage})`;
}

/** The original's window for commitment velocity. */
export const VELOCITY_DAYS = 7;

export interface Velocity {
  /** Commitments made in the last seven days. */
  created: number;
  /** Commitments completed in the last seven days. */
  completed: number;
}

/** Commitments made and completed in the last seven days (deleted ones are not counted). */
export async function commitmentVelocity(store: Store, now: Date): Promise<Velocity> {
  const since = new Date(now.getTime() - VELOCITY_DAYS * DAY_MS).toISOString();
  const row = await store.one(
    `SELECT
       (SELECT count(*) FROM commitments WHERE deleted_at IS NULL AND created_at >= ?1) AS created,
       (SELECT count(*) FROM commitments WHERE deleted_at IS NULL AND status = 'completed'
          AND completed_at >= ?1) AS completed`,
    [since],
  );
  return { created: Number(row?.created ?? 0), completed: Number(row?.completed ?? 0) };
}

/**
 * The original's coaching note, given the velocity before the new commitment
 * is made: more made than kept this week.
 */
export function overcommitWarning(v: Velocity): string | null {
  if (v.created <= v.completed) return null;
  return `you've created ${v.created} commitment${
    v.created === 1 ? "" : "s"
  } this week but only completed ${v.completed}. Are you overcommitting?`;
}

/** How long without activity makes due-soon work in progress stalled. */
export const STALLED_AFTER_MS = DAY_MS;
/** Stalled counts for commitments due today or within this many days. */
export const STALLED_DUE_WITHIN_DAYS = 2;

export interface StalledCommitment {
  id: string;
  deliverable: string;
  stakeholder: string;
  due_date: string;
  due_time: string;
  /** When it or one of its tasks last changed. */
  last_activity_at: string;
}

/**
 * The original's "stalled" risk: in progress, due today, tomorrow or the day
 * after (in the commitment's zone), and no activity for 24 hours. Activity
 * is a change to the commitment or to any of its tasks (the original reads
 * the commitment's own update time only, as a stand-in for task activity).
 */
export async function stalledCommitments(
  store: Store,
  now: Date,
  viewerZone: string,
): Promise<StalledCommitment[]> {
  // Dates in the widest band any zone could need; each is checked in its own zone below.
  const utcToday = todayIn({ now, timeZone: "UTC" });
  const rows = await store.query(
    `SELECT c.id, c.deliverable, c.due_date, c.due_time, c.timezone, s.name AS stakeholder,
       max(c.updated_at, coalesce((SELECT max(t.updated_at) FROM tasks t
         WHERE t.commitment_id = c.id AND t.deleted_at IS NULL), '')) AS last_activity_at
     FROM commitments c LEFT JOIN stakeholders s ON s.id = c.stakeholder_id
     WHERE c.deleted_at IS NULL AND c.status = 'in_progress'
       AND c.due_date >= ? AND c.due_date <= ?
     ORDER BY c.due_date, c.due_time, c.id`,
    [addDays(utcToday, -1), addDays(utcToday, STALLED_DUE_WITHIN_DAYS + 1)],
  );
  const quietSince = now.getTime() - STALLED_AFTER_MS;
  return rows.filter((r: Row) => {
    const today = todayIn({ now, timeZone: dueZone(r, viewerZone) });
    const due = String(r.due_date);
    return due >= today && due <= addDays(today, STALLED_DUE_WITHIN_DAYS) &&
      Date.parse(String(r.last_activity_at)) < quietSince;
  }).map((r) => ({
    id: String(r.id),
    deliverable: String(r.deliverable),
    stakeholder: String(r.stakeholder ?? ""),
    due_date: String(r.due_date),
    due_time: String(r.due_time),
    last_activity_at: String(r.last_activity_at),
  }));
}
