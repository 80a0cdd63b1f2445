import type { Row } from "../db/schema.ts";
import type { Store } from "../db/store.ts";
import { addDays } from "./dates.ts";
import { dueInstantMs } from "./due.ts";
import {
  type CommitmentFacts,
  type IntegrityCounts,
  type IntegrityReport,
  reportFrom,
  type WeekTally,
} from "./integrity.ts";

const OPEN = "('pending', 'in_progress', 'at_risk')";
const ms = (iso: unknown) => iso ? Date.parse(String(iso)) : null;

/**
 * The integrity report of every live commitment in the store, from aggregate
 * queries on the commitments_by_status index. Only the rows whose lateness
 * depends on their time zone (open and due within a day of today, where the
 * zone decides) or on a timestamp comparison (marked at risk) are read one by
 * one, and their due instants are converted once per distinct (date, time,
 * zone). Same result as computeIntegrity over every row.
 */
export async function integrityOf(
  store: Store,
  now: Date,
  timeZone: string,
): Promise<IntegrityReport> {
  // Outside [today−1, today+1] (UTC dates) a due date is past or future in every zone.
  const today = now.toISOString().slice(0, 10);
  const lo = addDays(today, -1);
  const hi = addDays(today, 1);
  const totals = await store.one(
    `SELECT
       (SELECT count(*) FROM commitments WHERE deleted_at IS NULL AND status = 'completed') AS completed,
       (SELECT count(*) FROM commitments WHERE deleted_at IS NULL AND status = 'completed'
          AND completed_on_time) AS on_time,
       (SELECT count(*) FROM commitments WHERE deleted_at IS NULL AND status = 'abandoned') AS abandoned,
       (SELECT count(*) FROM commitments WHERE deleted_at IS NULL AND status = 'completed'
          AND NOT coalesce(completed_on_time, 0) AND marked_at_risk_at IS NULL) AS late_done,
       (SELECT count(*) FROM commitments WHERE deleted_at IS NULL AND status IN ${OPEN}
          AND due_date < ?1 AND marked_at_risk_at IS NULL) AS late_open`,
    [lo],
  );
  const counts: IntegrityCounts = {
    completed: Number(totals?.completed ?? 0),
    onTime: Number(totals?.on_time ?? 0),
    abandoned: Number(totals?.abandoned ?? 0),
    late: Number(totals?.late_done ?? 0) + Number(totals?.late_open ?? 0),
    notified: 0,
  };
  const columns = "status, due_date, due_time, timezone, completed_on_time, marked_at_risk_at";
  const delicate = [
    ...await store.query(
      `SELECT ${columns} FROM commitments WHERE deleted_at IS NULL
       AND status IN ${OPEN} AND marked_at_risk_at IS NULL AND due_date BETWEEN ?1 AND ?2`,
      [lo, hi],
    ),
    ...await store.query(
      `SELECT ${columns} FROM commitments WHERE deleted_at IS NULL
       AND status IN ('pending', 'in_progress', 'at_risk', 'completed')
       AND marked_at_risk_at IS NOT NULL
       AND (status <> 'completed' OR NOT coalesce(completed_on_time, 0))`,
    ),
  ];
  const dueCache = new Map<string, number>();
  const dueOf = (r: Row) => {
    const key = `${r.due_date}|${r.due_time}|${r.timezone}`;
    let due = dueCache.get(key);
    if (due === undefined) {
      due = dueInstantMs(r, timeZone);
      dueCache.set(key, due);
    }
    return due;
  };
  const nowMs = now.getTime();
  for (const r of delicate) {
    const f: CommitmentFacts = {
      status: String(r.status),
      dueAt: dueOf(r),
      completedOnTime: r.completed_on_time === null ? null : Boolean(r.completed_on_time),
      completedAt: null,
      markedAtRiskAt: ms(r.marked_at_risk_at),
    };
    const late = f.status === "completed" ? !f.completedOnTime : f.dueAt < nowMs;
    if (!late) continue;
    counts.late++;
    if (f.markedAtRiskAt !== null && f.markedAtRiskAt < f.dueAt) counts.notified++;
  }
  const weekRows = await store.query(
    `SELECT date(completed_at, 'weekday 0', '-6 days') AS week,
       sum(coalesce(completed_on_time, 0) <> 0) AS on_time,
       sum(coalesce(completed_on_time, 0) = 0) AS late
     FROM commitments
     WHERE deleted_at IS NULL AND status = 'completed' AND completed_at IS NOT NULL
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
  return reportFrom(counts, weeks, nowMs);
}
