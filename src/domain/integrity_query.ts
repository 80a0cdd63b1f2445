import type { Row } from "../db/schema.ts";
import type { Store } from "../db/store.ts";
import { todayIn } from "./dates.ts";
import { dueInstantMs, dueZone } from "./due.ts";
import {
  AFFECTING_DAYS,
  type AffectingCommitment,
  type AtRiskFacts,
  buildReport,
  type EstimateFacts,
  type IntegrityReport,
  MAX_AFFECTING,
  PERIOD_DAYS,
  type PeriodFacts,
  type WeekTally,
} from "./integrity.ts";

const DAY_MS = 24 * 3600 * 1000;
const LIVE = "deleted_at IS NULL";

/**
 * The integrity report of the live data in the store. Counts come from
 * aggregate queries (the commitments_by_status index); only the few rows
 * that need a per-row rule are read one by one: commitments ever marked at
 * risk, cleanup plans, and the handful affecting the score.
 */
export async function integrityOf(
  store: Store,
  now: Date,
  timeZone: string,
): Promise<IntegrityReport> {
  const nowMs = now.getTime();
  const iso = (ms: number) => new Date(ms).toISOString();
  const periodStart = iso(nowMs - PERIOD_DAYS * DAY_MS);
  const previousStart = iso(nowMs - 2 * PERIOD_DAYS * DAY_MS);
  // The totals and both periods' counts in one statement: each statement costs
  // ~0.1 ms to prepare and read, and the dashboard runs this on every start.
  const period = (key: string, from: string, to: string) => {
    const rows = `FROM commitments WHERE ${LIVE} AND status = 'completed'
        AND completed_at >= ${from} AND (${to} IS NULL OR completed_at < ${to})`;
    return `(SELECT count(*) ${rows}) AS ${key}_completed,
       (SELECT coalesce(sum(completed_on_time = 1), 0) ${rows}) AS ${key}_on_time`;
  };
  const totals = await store.one(
    `SELECT
       (SELECT count(*) FROM commitments WHERE ${LIVE} AND status = 'completed') AS completed,
       (SELECT count(*) FROM commitments WHERE ${LIVE} AND status = 'completed'
          AND completed_on_time) AS on_time,
       (SELECT count(*) FROM commitments WHERE ${LIVE} AND status = 'abandoned') AS abandoned,
       (SELECT max(updated_at) FROM commitments WHERE ${LIVE} AND status = 'abandoned')
          AS last_abandoned_at,
       ${period("current", "?1", "NULL")},
       ${period("previous", "?2", "?1")}`,
    [periodStart, previousStart],
  );
  const periodCounts = (key: string): PeriodFacts => ({
    completed: Number(totals?.[`${key}_completed`] ?? 0),
    onTime: Number(totals?.[`${key}_on_time`] ?? 0),
  });

  const marked = await store.query(
    `SELECT status, due_date, due_time, timezone, completed_on_time, marked_at_risk_at, created_at
     FROM commitments WHERE ${LIVE} AND marked_at_risk_at IS NOT NULL`,
  );
  const atRisk: AtRiskFacts[] = marked.map((r: Row) => {
    const markedAt = Date.parse(String(r.marked_at_risk_at));
    return {
      dueDate: String(r.due_date),
      dueAt: dueInstantMs(r, timeZone),
      markedAt,
      markedDate: todayIn({ now: new Date(markedAt), timeZone: dueZone(r, timeZone) }),
      createdAt: Date.parse(String(r.created_at)),
      status: String(r.status),
      completedOnTime: r.completed_on_time === null ? null : Boolean(r.completed_on_time),
    };
  });

  const plans = (await store.query(`SELECT status, created_at FROM cleanup_plans WHERE ${LIVE}`))
    .map((r) => ({ status: String(r.status), createdAt: Date.parse(String(r.created_at)) }));

  const weekRows = await store.query(
    `SELECT date(completed_at, 'weekday 0', '-6 days') AS week,
       sum(coalesce(completed_on_time, 0) <> 0) AS on_time,
       sum(coalesce(completed_on_time, 0) = 0) AS late
     FROM commitments
     WHERE ${LIVE} AND status = 'completed' AND completed_at IS NOT NULL
     GROUP BY week`,
  );
  const weeks: WeekTally = new Map();
  for (const w of weekRows) {
    if (w.week === null) continue;
    weeks.set(Date.parse(`${w.week}T00:00:00Z`), {
      onTime: Number(w.on_time),
      late: Number(w.late),
    });
  }

  const lastAbandoned = totals?.last_abandoned_at;
  return buildReport({
    completed: Number(totals?.completed ?? 0),
    onTime: Number(totals?.on_time ?? 0),
    abandoned: Number(totals?.abandoned ?? 0),
    atRisk,
    plans,
    weeks,
    lastAbandonedAt: lastAbandoned ? Date.parse(String(lastAbandoned)) : null,
    estimates: await completedEstimates(store, iso(nowMs - ESTIMATE_DAYS * DAY_MS)),
    current: periodCounts("current"),
    previous: periodCounts("previous"),
    affecting: await affectingCommitments(store, iso(nowMs - AFFECTING_DAYS * DAY_MS)),
  }, nowMs);
}

/** How far back estimation accuracy looks (the original's 90 days). */
const ESTIMATE_DAYS = 90;

/**
 * Completions recorded in the task history since `since` that had an
 * estimate and an actual-hours category (the task_history_event index).
 */
async function completedEstimates(store: Store, since: string): Promise<EstimateFacts[]> {
  const rows = await store.query(
    `SELECT actual_hours_category AS category, created_at FROM task_history
     WHERE event_type = 'completed' AND created_at >= ? AND ${LIVE}
       AND estimated_hours IS NOT NULL AND actual_hours_category IS NOT NULL`,
    [since],
  );
  return rows.map((r) => ({
    category: String(r.category),
    completedAt: Date.parse(String(r.created_at)),
  }));
}

/**
 * The commitments that lowered the score in the last 30 days: late
 * completions (newest first), then abandonments, at most five in all.
 */
async function affectingCommitments(store: Store, since: string): Promise<AffectingCommitment[]> {
  const select = (at: string) =>
    `SELECT c.id, c.deliverable, s.name AS stakeholder, c.${at} AS at
     FROM commitments c LEFT JOIN stakeholders s ON s.id = c.stakeholder_id
     WHERE c.${LIVE}`;
  const late = await store.query(
    `${select("completed_at")} AND c.status = 'completed' AND NOT coalesce(c.completed_on_time, 0)
     AND c.completed_at >= ? ORDER BY c.completed_at DESC, c.id LIMIT ?`,
    [since, MAX_AFFECTING],
  );
  const abandoned = late.length >= MAX_AFFECTING ? [] : await store.query(
    `${select("updated_at")} AND c.status = 'abandoned' AND c.updated_at >= ?
     ORDER BY c.updated_at DESC, c.id LIMIT ?`,
    [since, MAX_AFFECTING - late.length],
  );
  const out = (r: Row, reason: AffectingCommitment["reason"]): AffectingCommitment => ({
    id: String(r.id),
    deliverable: String(r.deliverable),
    stakeholder: String(r.stakeholder ?? ""),
    reason,
    at: String(r.at),
  });
  return [
    ...late.map((r) => out(r, "completed late")),
    ...abandoned.map((r) => out(r, "abandoned")),
  ];
}
