/**
 * Recurrence rules, as the original jdo computes them: the next occurrence
 * of a daily, weekly (days of the week), monthly (a day of the month, or the
 * nth weekday) or yearly pattern after a given date, with an interval, an
 * end (never, after N occurrences, by a date), and month-end clamping (the
 * 31st is the last day of a shorter month; February 29th is the 28th in a
 * common year). Dates are calendar dates ("YYYY-MM-DD"): no clock, no zone,
 * so daylight-saving changes cannot move an occurrence.
 */
export type RecurrenceType = "daily" | "weekly" | "monthly" | "yearly";
export type EndType = "never" | "after_count" | "by_date";

export const RECURRENCE_TYPES: readonly RecurrenceType[] = ["daily", "weekly", "monthly", "yearly"];
export const MAX_INTERVAL = 365;
/** week_of_month for "the last one" (the original also accepts 5 for it). */
export const LAST_WEEK = -1;

export interface Pattern {
  recurrence_type: RecurrenceType;
  interval: number;
  /** 0 = Monday … 6 = Sunday (weekly: the days; nth weekday: the first one is the day). */
  days_of_week: number[] | null;
  day_of_month: number | null;
  /** 1-4, or -1 for the last. */
  week_of_month: number | null;
  month_of_year: number | null;
}

export interface Schedule extends Pattern {
  /** The series starts with the first occurrence on or after this date. */
  start_date: string;
  end_type: EndType;
  end_after_count: number | null;
  end_by_date: string | null;
}

export const DAY_NAMES = [
  "monday",
  "tuesday",
  "wednesday",
  "thursday",
  "friday",
  "saturday",
  "sunday",
];
export const MONTH_NAMES = [
  "january",
  "february",
  "march",
  "april",
  "may",
  "june",
  "july",
  "august",
  "september",
  "october",
  "november",
  "december",
];

interface Ymd {
  y: number;
  m: number;
  d: number;
}

function parse(date: string): Ymd {
  const [y, m, d] = date.split("-").map(Number);
  return { y, m, d };
}

function format({ y, m, d }: Ymd): string {
  return `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${
    String(d).padStart(2, "0")
  }`;
}

const DAY_MS = 86_400_000;

function toDays(date: string): number {
  const { y, m, d } = parse(date);
  return Date.UTC(y, m - 1, d) / DAY_MS;
}

function fromDays(days: number): string {
  const t = new Date(days * DAY_MS);
  return format({ y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() });
}

export function plusDays(date: string, days: number): string {
  return fromDays(toDays(date) + days);
}

/** 0 = Monday … 6 = Sunday. */
export function weekdayOf(date: string): number {
  return (new Date(toDays(date) * DAY_MS).getUTCDay() + 6) % 7;
}

export function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

function nextMonth(y: number, m: number, by = 1): { y: number; m: number } {
  const index = y * 12 + (m - 1) + by;
  return { y: Math.floor(index / 12), m: (index % 12) + 1 };
}

/** The same day `months` later, clamped to the end of a shorter month. */
export function plusMonths(date: string, months: number): string {
  const { y, m, d } = parse(date);
  const next = nextMonth(y, m, months);
  return format({ ...next, d: Math.min(d, daysInMonth(next.y, next.m)) });
}

/** The nth (1-4, or -1 for the last) given weekday of a month. */
export function nthWeekday(y: number, m: number, weekday: number, n: number): string {
  if (n > 0) {
    const first = format({ y, m, d: 1 });
    const ahead = (weekday - weekdayOf(first) + 7) % 7;
    return plusDays(first, ahead + (n - 1) * 7);
  }
  const last = format({ y, m, d: daysInMonth(y, m) });
  const back = (weekdayOf(last) - weekday + 7) % 7;
  return plusDays(last, -back + (n + 1) * 7);
}

function daily(p: Pattern, after: string): string {
  return plusDays(after, p.interval);
}

/** The next listed day later in the same week, else the first one `interval` weeks on. */
function weekly(p: Pattern, after: string): string {
  const days = [...(p.days_of_week ?? [])].sort((a, b) => a - b);
  const today = weekdayOf(after);
  const later = days.find((d) => d > today);
  if (later !== undefined) return plusDays(after, later - today);
  const untilFirst = (7 - today + days[0]) % 7 || 7;
  return plusDays(after, untilFirst + (p.interval - 1) * 7);
}

function byDayOfMonth(dayOfMonth: number, after: string, interval: number): string {
  let { y, m } = parse(after);
  let day = Math.min(dayOfMonth, daysInMonth(y, m));
  if (parse(after).d >= day) {
    ({ y, m } = nextMonth(y, m, interval));
    day = Math.min(dayOfMonth, daysInMonth(y, m));
  }
  return format({ y, m, d: day });
}

function byNthWeekday(week: number, weekday: number, after: string, interval: number): string {
  let { y, m } = parse(after);
  let target = nthWeekday(y, m, weekday, week);
  if (target <= after) {
    ({ y, m } = nextMonth(y, m, interval));
    target = nthWeekday(y, m, weekday, week);
  }
  return target;
}

function monthly(p: Pattern, after: string): string {
  if (p.day_of_month !== null) return byDayOfMonth(p.day_of_month, after, p.interval);
  return byNthWeekday(p.week_of_month!, p.days_of_week![0], after, p.interval);
}

function yearly(p: Pattern, after: string): string {
  const month = p.month_of_year!;
  const inYear = (y: number) =>
    p.day_of_month !== null
      ? format({ y, m: month, d: Math.min(p.day_of_month, daysInMonth(y, month)) })
      : nthWeekday(y, month, p.days_of_week![0], p.week_of_month!);
  const { y } = parse(after);
  const target = inYear(y);
  return target > after ? target : inYear(y + p.interval);
}

const STEP: Record<RecurrenceType, (p: Pattern, after: string) => string> = {
  daily,
  weekly,
  monthly,
  yearly,
};

/** The pattern's next date strictly after `after` (the original's calculator, before end conditions). */
export function nextAfter(p: Pattern, after: string): string {
  return STEP[p.recurrence_type](p, after);
}

/**
 * The series: its first occurrence is the first pattern date on or after the
 * start date, each next one the pattern's next date after it; it ends after
 * end_after_count occurrences, or with the last one on or before end_by_date.
 * Calls `visit` with each occurrence and its index (0-based) until it
 * returns false or the series ends.
 */
export function walkSeries(s: Schedule, visit: (date: string, index: number) => boolean): void {
  // The first date on or after the start that fits the pattern: the interval
  // counts from there (the original steps from the day before creation with
  // the interval, so "every 2 days" made today started tomorrow).
  let date = nextAfter({ ...s, interval: 1 }, plusDays(s.start_date, -1));
  for (let index = 0;; index++) {
    if (s.end_type === "after_count" && index >= (s.end_after_count ?? 0)) return;
    if (s.end_type === "by_date" && s.end_by_date !== null && date > s.end_by_date) return;
    if (!visit(date, index)) return;
    date = nextAfter(s, date);
  }
}

/** The first occurrences of the series on or after `from` (at most `limit`). */
export function occurrencesFrom(s: Schedule, from: string, limit: number): string[] {
  const out: string[] = [];
  walkSeries(s, (date) => {
    if (date >= from) out.push(date);
    return out.length < limit;
  });
  return out;
}

/**
 * How far ahead an instance is generated (the original's spec): a week for
 * daily patterns, two weeks for weekly, a month for monthly, a year for yearly.
 */
export function windowEnd(type: RecurrenceType, today: string): string {
  switch (type) {
    case "daily":
      return plusDays(today, 7);
    case "weekly":
      return plusDays(today, 14);
    case "monthly":
      return plusMonths(today, 1);
    case "yearly":
      return plusMonths(today, 12);
  }
}

/** The first day an occurrence could be generated on (its window opening). */
export function windowStart(type: RecurrenceType, occurrence: string): string {
  switch (type) {
    case "daily":
      return plusDays(occurrence, -7);
    case "weekly":
      return plusDays(occurrence, -14);
    case "monthly":
      return plusMonths(occurrence, -1);
    case "yearly":
      return plusMonths(occurrence, -12);
  }
}

/** Why a pattern is invalid, or null (the original's model validation). */
export function patternProblem(p: Pattern): string | null {
  if (!RECURRENCE_TYPES.includes(p.recurrence_type)) {
    return `unknown recurrence "${p.recurrence_type}" (use day, week, month or year)`;
  }
  if (!Number.isInteger(p.interval) || p.interval < 1 || p.interval > MAX_INTERVAL) {
    return `the interval must be a whole number from 1 to ${MAX_INTERVAL}`;
  }
  const days = p.days_of_week;
  if (days !== null) {
    if (days.some((d) => !Number.isInteger(d) || d < 0 || d > 6)) return "unknown day of the week";
    if (new Set(days).size !== days.length) return "a day of the week is given twice";
  }
  if (p.day_of_month !== null && !(p.day_of_month >= 1 && p.day_of_month <= 31)) {
    return "the day of the month must be 1-31";
  }
  if (p.week_of_month !== null && ![1, 2, 3, 4, LAST_WEEK].includes(p.week_of_month)) {
    return "the week of the month must be 1st-4th or last";
  }
  const nth = p.week_of_month !== null && days !== null && days.length === 1;
  switch (p.recurrence_type) {
    case "weekly":
      return days && days.length > 0 ? null : "a weekly pattern needs at least one day";
    case "monthly":
      return p.day_of_month !== null || nth
        ? null
        : "a monthly pattern needs a day of the month or an nth weekday";
    case "yearly":
      if (p.month_of_year === null || !(p.month_of_year >= 1 && p.month_of_year <= 12)) {
        return "a yearly pattern needs a month (1-12)";
      }
      return p.day_of_month !== null || nth
        ? null
        : "a yearly pattern needs a day of the month or an nth weekday";
    default:
      return null;
  }
}

function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? "th" : ({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[n % 10] ??
    "th";
  return `${n}${suffix}`;
}

const SHORT_DAYS = DAY_NAMES.map((d) => d[0].toUpperCase() + d.slice(1, 3));
const SHORT_MONTHS = MONTH_NAMES.map((m) => m[0].toUpperCase() + m.slice(1, 3));

/** "Daily", "Every 2 weeks on Mon, Thu", "Monthly on the last Fri", "Yearly on Mar 15". */
export function describePattern(p: Pattern): string {
  const every = (unit: string) => p.interval === 1 ? "" : `Every ${p.interval} ${unit}s`;
  const nth = () => {
    const day = SHORT_DAYS[p.days_of_week?.[0] ?? 0];
    return p.week_of_month === LAST_WEEK
      ? `the last ${day}`
      : `the ${ordinal(p.week_of_month!)} ${day}`;
  };
  switch (p.recurrence_type) {
    case "daily":
      return every("day") || "Daily";
    case "weekly": {
      const days = [...(p.days_of_week ?? [])].sort((a, b) => a - b).map((d) => SHORT_DAYS[d]);
      return `${every("week") || "Weekly"} on ${days.join(", ")}`;
    }
    case "monthly": {
      const on = p.day_of_month !== null ? `the ${ordinal(p.day_of_month)}` : nth();
      return `${every("month") || "Monthly"} on ${on}`;
    }
    case "yearly": {
      const month = SHORT_MONTHS[(p.month_of_year ?? 1) - 1];
      const on = p.day_of_month !== null ? `${month} ${p.day_of_month}` : `${nth()} of ${month}`;
      return `${every("year") || "Yearly"} on ${on}`;
    }
  }
}

/** "never", "after 5 times", "by 2027-06-30". */
export function describeEnd(s: Schedule): string {
  if (s.end_type === "after_count") {
    return `after ${s.end_after_count} time${s.end_after_count === 1 ? "" : "s"}`;
  }
  if (s.end_type === "by_date") return `by ${s.end_by_date}`;
  return "never";
}
