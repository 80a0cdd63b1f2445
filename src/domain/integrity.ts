/**
 * The integrity report, computed as the original jdo computes it
 * (models/integrity_metrics.py, integrity/service.py): a composite of
 *
 *   on-time rate              35 %   completed on time / completed
 *   notification timeliness   25 %   days of warning before the due date, 7+ = full
 *   cleanup completion        25 %   cleanup plans carried out / cleanup plans
 *   estimation accuracy       10 %   how close tasks came to their estimates
 *   streak bonus              2 points a week, at most 5
 *
 * Every rate is 1 (a clean slate) when nothing counts for it yet. The pure
 * parts live here; integrity_query.ts reads their inputs from the database.
 * docs/DESIGN.md lists where this deliberately differs from the original.
 */
import { daysBetween } from "./dates.ts";

export const WEIGHTS = {
  on_time: 0.35,
  notification: 0.25,
  cleanup: 0.25,
  estimation: 0.10,
} as const;

/** A change larger than this (on a 0–1 scale) is a trend. */
export const TREND_THRESHOLD = 0.05;
/** Trends compare the last 30 days with the 30 days before. */
export const PERIOD_DAYS = 30;
/** The commitments affecting the score: the last 30 days, at most 5. */
export const AFFECTING_DAYS = 30;
export const MAX_AFFECTING = 5;

const DAY_MS = 24 * 3600 * 1000;

const GRADES: [number, string][] = [
  [97, "A+"],
  [93, "A"],
  [90, "A-"],
  [87, "B+"],
  [83, "B"],
  [80, "B-"],
  [77, "C+"],
  [73, "C"],
  [70, "C-"],
  [67, "D+"],
  [63, "D"],
  [60, "D-"],
];

export function gradeFor(score: number): string {
  for (const [min, grade] of GRADES) if (score >= min) return grade;
  return "F";
}

/** Streak bonus in points: 2 per week, at most 5. */
export function streakBonus(weeks: number): number {
  return Math.min(weeks * 2, 5);
}

export interface Components {
  onTimeRate: number;
  notificationTimeliness: number;
  cleanupCompletionRate: number;
  estimationAccuracy: number;
  streakWeeks: number;
}

/** The composite score, 0–100 (unrounded). */
export function compositeScore(c: Components): number {
  return 100 * (
        c.onTimeRate * WEIGHTS.on_time +
        c.notificationTimeliness * WEIGHTS.notification +
        c.cleanupCompletionRate * WEIGHTS.cleanup +
        c.estimationAccuracy * WEIGHTS.estimation
      ) + streakBonus(c.streakWeeks);
}

/** Removes binary floating-point noise (0.97 × 100 is 97.00000000000001). */
const clean = (x: number) => Math.round(x * 1e6) / 1e6;
/** One decimal, never rounded up across a grade boundary: 96.96 shows as 96.9 (A), not 97.0. */
export const shownScore = (x: number) => Math.floor(clean(x) * 10) / 10;
const rate = (x: number) => Math.round(x * 1000) / 1000;

/** Credit for a warning given this many calendar days before the due date: 7+ full, 0 or after none. */
export function warningCredit(daysBeforeDue: number): number {
  if (daysBeforeDue >= 7) return 1;
  if (daysBeforeDue <= 0) return 0;
  return daysBeforeDue / 7;
}

/** A commitment that was marked at risk (marked_at_risk_at set). */
export interface AtRiskFacts {
  /** Due date (YYYY-MM-DD) and due instant (ms). */
  dueDate: string;
  dueAt: number;
  /** When it was marked (ms) and that day's date in the commitment's zone. */
  markedAt: number;
  markedDate: string;
  /** When the commitment was created (ms). */
  createdAt: number;
  status: string;
  completedOnTime: boolean | null;
}

/**
 * Whether a warning counts for timeliness. Not when the commitment was
 * recorded after its due instant (a backfill: no warning was possible), and
 * not when it was delivered on time anyway (the original's "at-risk
 * recovery": the at-risk event then does not count against the score).
 */
export function countsForTimeliness(f: AtRiskFacts): boolean {
  if (f.createdAt >= f.dueAt) return false;
  return !(f.status === "completed" && f.completedOnTime === true);
}

/** Average warning credit of the counted warnings; 1 when none count. */
export function notificationTimeliness(facts: AtRiskFacts[]): number {
  const counted = facts.filter(countsForTimeliness);
  if (counted.length === 0) return 1;
  let total = 0;
  for (const f of counted) total += warningCredit(daysBetween(f.markedDate, f.dueDate));
  return total / counted.length;
}

/** A cleanup plan, as the rate sees it. */
export interface PlanFacts {
  status: string;
  createdAt: number;
}

/**
 * Cleanup completion: plans carried out (completed, or in progress — the
 * stakeholder was notified) over plans that still call for a cleanup (all
 * but cancelled: a recovered commitment needs none). 1 when there are none.
 */
export function cleanupCompletionRate(plans: PlanFacts[]): number {
  const counted = plans.filter((p) => p.status !== "cancelled");
  if (counted.length === 0) return 1;
  const done = counted.filter((p) => p.status === "completed" || p.status === "in_progress");
  return done.length / counted.length;
}

/** Monday 00:00 UTC of the week containing `ms` (the ISO week). */
export function weekStart(ms: number): number {
  const day = new Date(ms);
  const weekday = (day.getUTCDay() + 6) % 7;
  return Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate() - weekday);
}

/** Completions per ISO week (keyed by the week's Monday 00:00 UTC, ms). */
export type WeekTally = Map<number, { onTime: number; late: number }>;

/**
 * The streak, as the original counts it: the weeks that had completions,
 * newest first, while every completion of the week was on time. A late
 * completion ends it, and so does an abandonment: only weeks after the
 * latest abandonment's week count. A week without completions neither adds
 * nor breaks.
 */
export function streakOf(weeks: WeekTally, lastAbandonedAt: number | null): number {
  const abandonedWeek = lastAbandonedAt === null ? -Infinity : weekStart(lastAbandonedAt);
  const newestFirst = [...weeks.keys()].sort((a, b) => b - a);
  let streak = 0;
  for (const week of newestFirst) {
    const w = weeks.get(week)!;
    if (week <= abandonedWeek || w.late > 0) break;
    streak++;
  }
  return streak;
}

/** The original's actual-hours categories and the share of the estimate each stands for. */
export const ACTUAL_HOURS_MULTIPLIERS: Record<string, number> = {
  much_shorter: 0.25,
  shorter: 0.675,
  on_target: 1.0,
  longer: 1.325,
  much_longer: 2.0,
};

export interface EstimateFacts {
  /** The completed task's actual-hours category. */
  category: string;
  /** When the task was completed (ms). */
  completedAt: number;
}

/**
 * Estimation accuracy over tasks completed in the last 90 days that had an
 * estimate and an actual-hours category: on target 1, shorter or longer
 * 0.75, much shorter or much longer 0.25, each weighted 2^(−age in days / 7).
 * Fewer than 5 such tasks: 1 (the benefit of the doubt).
 */
export function estimationAccuracy(
  entries: EstimateFacts[],
  now: number,
): { accuracy: number; count: number } {
  const recent = entries.filter((e) =>
    e.completedAt >= now - 90 * DAY_MS && e.category in ACTUAL_HOURS_MULTIPLIERS
  );
  if (recent.length < 5) return { accuracy: 1, count: recent.length };
  let weighted = 0;
  let total = 0;
  for (const e of recent) {
    const ageDays = Math.floor((now - e.completedAt) / DAY_MS);
    const weight = 2 ** (-ageDays / 7);
    const m = ACTUAL_HOURS_MULTIPLIERS[e.category];
    const accuracy = m >= 0.85 && m <= 1.15 ? 1 : m >= 0.5 && m <= 1.5 ? 0.75 : 0.25;
    weighted += accuracy * weight;
    total += weight;
  }
  return { accuracy: total ? weighted / total : 1, count: recent.length };
}

export type Trend = "up" | "down" | "stable";

export function trendOf(previous: number, current: number): Trend {
  const diff = clean(current - previous);
  if (diff > TREND_THRESHOLD) return "up";
  if (diff < -TREND_THRESHOLD) return "down";
  return "stable";
}

/** What one 30-day period's trend is computed from. */
export interface PeriodFacts {
  /** Completed within the period (by completed_at), and of those on time. */
  completed: number;
  onTime: number;
}

export interface AffectingCommitment {
  id: string;
  deliverable: string;
  stakeholder: string;
  reason: "completed late" | "abandoned";
  /** When it was completed or abandoned (ISO). */
  at: string;
}

/** Everything the report is computed from (read by integrity_query.ts). */
export interface IntegrityInputs {
  completed: number;
  onTime: number;
  abandoned: number;
  atRisk: AtRiskFacts[];
  plans: PlanFacts[];
  weeks: WeekTally;
  lastAbandonedAt: number | null;
  estimates: EstimateFacts[];
  current: PeriodFacts;
  previous: PeriodFacts;
  affecting: AffectingCommitment[];
}

export interface PeriodReport {
  on_time_rate: number;
  notification_timeliness: number;
  cleanup_completion_rate: number;
  score: number;
}

export interface IntegrityReport {
  score: number;
  grade: string;
  on_time_rate: number;
  completed: number;
  on_time: number;
  /** Commitments ever marked at risk (the original's total_at_risk). */
  at_risk: number;
  abandoned: number;
  streak_weeks: number;
  notification_timeliness: number;
  cleanup_completion_rate: number;
  cleanup_plans: number;
  cleanup_plans_done: number;
  estimation_accuracy: number;
  tasks_with_estimates: number;
  streak_bonus: number;
  weights: typeof WEIGHTS;
  trends: {
    on_time: Trend;
    notification: Trend;
    cleanup: Trend;
    overall: Trend;
    current: PeriodReport;
    previous: PeriodReport;
  };
  affecting: AffectingCommitment[];
}

function periodReport(
  p: PeriodFacts,
  atRisk: AtRiskFacts[],
  plans: PlanFacts[],
  from: number,
  to: number,
  estimation: number,
  streakWeeks: number,
): PeriodReport {
  const inPeriod = (ms: number) => ms >= from && ms < to;
  const components: Components = {
    onTimeRate: p.completed ? p.onTime / p.completed : 1,
    notificationTimeliness: notificationTimeliness(atRisk.filter((f) => inPeriod(f.markedAt))),
    cleanupCompletionRate: cleanupCompletionRate(plans.filter((pl) => inPeriod(pl.createdAt))),
    estimationAccuracy: estimation,
    streakWeeks,
  };
  return {
    on_time_rate: rate(components.onTimeRate),
    notification_timeliness: rate(components.notificationTimeliness),
    cleanup_completion_rate: rate(components.cleanupCompletionRate),
    score: shownScore(compositeScore(components)),
  };
}

export function buildReport(input: IntegrityInputs, now: number): IntegrityReport {
  const { accuracy, count } = estimationAccuracy(input.estimates, now);
  const streak = streakOf(input.weeks, input.lastAbandonedAt);
  const components: Components = {
    onTimeRate: input.completed ? input.onTime / input.completed : 1,
    notificationTimeliness: notificationTimeliness(input.atRisk),
    cleanupCompletionRate: cleanupCompletionRate(input.plans),
    estimationAccuracy: accuracy,
    streakWeeks: streak,
  };
  const raw = compositeScore(components);
  const periodMs = PERIOD_DAYS * DAY_MS;
  const period = (p: PeriodFacts, from: number, to: number) =>
    periodReport(p, input.atRisk, input.plans, from, to, accuracy, streak);
  const current = period(input.current, now - periodMs, now + 1);
  const previous = period(input.previous, now - 2 * periodMs, now - periodMs);
  const counted = input.plans.filter((p) => p.status !== "cancelled");
  return {
    score: shownScore(raw),
    grade: gradeFor(clean(raw)),
    on_time_rate: rate(components.onTimeRate),
    completed: input.completed,
    on_time: input.onTime,
    at_risk: input.atRisk.length,
    abandoned: input.abandoned,
    streak_weeks: streak,
    notification_timeliness: rate(components.notificationTimeliness),
    cleanup_completion_rate: rate(components.cleanupCompletionRate),
    cleanup_plans: counted.length,
    cleanup_plans_done:
      counted.filter((p) => p.status === "completed" || p.status === "in_progress")
        .length,
    estimation_accuracy: rate(accuracy),
    tasks_with_estimates: count,
    streak_bonus: streakBonus(streak),
    weights: WEIGHTS,
    trends: {
      on_time: trendOf(previous.on_time_rate, current.on_time_rate),
      notification: trendOf(previous.notification_timeliness, current.notification_timeliness),
      cleanup: trendOf(previous.cleanup_completion_rate, current.cleanup_completion_rate),
      overall: trendOf(previous.score / 100, current.score / 100),
      current,
      previous,
    },
    affecting: input.affecting,
  };
}
