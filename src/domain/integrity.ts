/**
 * The integrity report: how reliably commitments are kept. A pure function
 * of the commitments and "now", so it is tested without a database.
 */
export interface CommitmentFacts {
  status: string;
  /** Due instant in ms since the epoch. */
  dueAt: number;
  completedOnTime: boolean | null;
  /** When the commitment was completed (ms), if it was. */
  completedAt: number | null;
  /** When it was marked at risk (ms), if it was. */
  markedAtRiskAt: number | null;
}

export interface IntegrityReport {
  score: number;
  grade: string;
  on_time_rate: number;
  completed: number;
  on_time: number;
  /** At-risk notifications given before the due date. */
  at_risk: number;
  /** Commitments that became late (completed late, or open past due). */
  late: number;
  at_risk_rate: number;
  abandoned: number;
  streak_weeks: number;
}

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

const WEEK_MS = 7 * 24 * 3600 * 1000;
const OPEN = new Set(["pending", "in_progress", "at_risk"]);

/** Monday 00:00 UTC of the week containing `ms`. */
function weekStart(ms: number): number {
  const day = new Date(ms);
  const weekday = (day.getUTCDay() + 6) % 7;
  return Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate() - weekday);
}

/** Completions per week (keyed by the week's Monday 00:00 UTC, ms). */
export type WeekTally = Map<number, { onTime: number; late: number }>;

function weeksOf(facts: CommitmentFacts[]): WeekTally {
  const weeks: WeekTally = new Map();
  for (const f of facts) {
    if (f.status !== "completed" || f.completedAt === null) continue;
    const key = weekStart(f.completedAt);
    const w = weeks.get(key) ?? { onTime: 0, late: 0 };
    if (f.completedOnTime) w.onTime++;
    else w.late++;
    weeks.set(key, w);
  }
  return weeks;
}

/**
 * Consecutive weeks, counting back from this week (or last week when this
 * week has no completion yet), each with at least one completion and no
 * late completion.
 */
export function streakWeeks(facts: CommitmentFacts[], now: number): number {
  return streakOf(weeksOf(facts), now);
}

export function streakOf(weeks: WeekTally, now: number): number {
  let week = weekStart(now);
  if (!weeks.has(week)) week -= WEEK_MS;
  let streak = 0;
  for (;;) {
    const w = weeks.get(week);
    if (!w || w.late > 0 || w.onTime === 0) return streak;
    streak++;
    week -= WEEK_MS;
  }
}

/** The counts the score is made of (computed in SQL by integrityOf). */
export interface IntegrityCounts {
  completed: number;
  onTime: number;
  /** Completed late, or open past due. */
  late: number;
  /** Of the late ones, marked at risk before their due instant. */
  notified: number;
  abandoned: number;
}

/**
 * Score = 60% on-time rate + 25% at-risk notification rate + 15% not
 * abandoned, plus one point per streak week (at most 5), capped at 100.
 * With no history every rate counts as perfect.
 */
export function computeIntegrity(facts: CommitmentFacts[], now: number): IntegrityReport {
  const completed = facts.filter((f) => f.status === "completed");
  const lateFacts = facts.filter((f) =>
    (f.status === "completed" && !f.completedOnTime) ||
    (OPEN.has(f.status) && f.dueAt < now)
  );
  return reportFrom(
    {
      completed: completed.length,
      onTime: completed.filter((f) => f.completedOnTime).length,
      late: lateFacts.length,
      notified: lateFacts.filter((f) => f.markedAtRiskAt !== null && f.markedAtRiskAt < f.dueAt)
        .length,
      abandoned: facts.filter((f) => f.status === "abandoned").length,
    },
    weeksOf(facts),
    now,
  );
}

export function reportFrom(c: IntegrityCounts, weeks: WeekTally, now: number): IntegrityReport {
  const closed = c.completed + c.abandoned;
  const onTimeRate = c.completed ? c.onTime / c.completed : 1;
  const atRiskRate = c.late ? c.notified / c.late : 1;
  const keptRate = closed ? 1 - c.abandoned / closed : 1;
  const streak = streakOf(weeks, now);
  const base = 100 * (0.6 * onTimeRate + 0.25 * atRiskRate + 0.15 * keptRate);
  const score = Math.min(100, Math.round(base + Math.min(streak, 5)));
  return {
    score,
    grade: gradeFor(score),
    on_time_rate: Math.round(onTimeRate * 1000) / 1000,
    completed: c.completed,
    on_time: c.onTime,
    at_risk: c.notified,
    late: c.late,
    at_risk_rate: Math.round(atRiskRate * 1000) / 1000,
    abandoned: c.abandoned,
    streak_weeks: streak,
  };
}
