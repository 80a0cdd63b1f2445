/**
 * Calendar dates, times of day and time zones.
 *
 * Dates are plain "YYYY-MM-DD" strings (proleptic Gregorian calendar); all
 * arithmetic on them is pure integer calendar arithmetic, independent of the
 * host's time zone. Natural-language phrases are parsed with chrono-node,
 * resolved against the wall-clock time of `ctx.now` in `ctx.timeZone`.
 *
 * This module has no side effects at import time.
 */
import type * as Chrono from "chrono-node";
import type * as ChronoParser from "./chrono.ts";
import { lazyModuleUrl } from "../lazy_module.ts";

// chrono-node costs ~40 ms to load and most commands never parse a phrase:
// it is loaded on demand by loadDateParser(), which callers await first.
let chrono: typeof ChronoParser | undefined;

/** Days from today of the phrases read without chrono. */
const CASUAL_DAYS = new Map([["today", 0], ["tomorrow", 1]]);

/**
 * parseDate()/parseDateTime() met a phrase only chrono-node reads, before
 * loadDateParser(): load it and ask again (ISO dates, numeric dates, today
 * and tomorrow never need it).
 */
export class DateParserNotLoaded extends Error {
  constructor() {
    super("parseDate() needs `await loadDateParser()` first");
  }
}

/** Loads the natural-language date parser; await it before parseDate(). */
export async function loadDateParser(): Promise<void> {
  // A variable specifier (src/lazy_module.ts says why).
  chrono ??= await import(lazyModuleUrl("domain/chrono.ts")) as typeof ChronoParser;
}

/** How to read a numeric date like 1/2/2027: month first or day first. */
export type DateOrder = "mdy" | "dmy";

export interface DateContext {
  now: Date;
  /** IANA name, e.g. "America/New_York" */
  timeZone: string;
  /**
   * How to read 1/2/2027. Unset: a numeric date that reads as two different
   * days is refused with both ISO forms suggested (never guessed).
   */
  dateOrder?: DateOrder;
}

export class InvalidDateError extends Error {
  readonly input: string;
  constructor(input: string, reason?: string) {
    super(
      reason
        ? `Cannot use the date "${input}": ${reason}`
        : `Cannot understand the date "${input}": use YYYY-MM-DD or a phrase like "tomorrow", "friday", "in 3 days"`,
    );
    this.name = "InvalidDateError";
    this.input = input;
  }
}

export class InvalidTimeError extends Error {
  readonly input: string;
  constructor(input: string, hint = `use 24-hour HH:MM, e.g. "09:30" or "17:00"`) {
    super(`Cannot understand the time "${input}": ${hint}`);
    this.name = "InvalidTimeError";
    this.input = input;
  }
}

// ---------------------------------------------------------------------------
// Pure calendar arithmetic (days since 1970-01-01, H. Hinnant's algorithms)
// ---------------------------------------------------------------------------

interface Ymd {
  year: number;
  month: number; // 1-12
  day: number; // 1-31
}

const MS_PER_DAY = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function isRealDate({ year, month, day }: Ymd): boolean {
  return Number.isInteger(year) && Number.isInteger(month) &&
    Number.isInteger(day) && month >= 1 && month <= 12 && day >= 1 &&
    day <= daysInMonth(year, month);
}

function daysFromCivil({ year, month, day }: Ymd): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) +
    day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function civilFromDays(days: number): Ymd {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) -
      Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** 0 = Sunday … 6 = Saturday */
function weekdayOf(ymd: Ymd): number {
  return (((daysFromCivil(ymd) + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

function formatYmd(ymd: Ymd): string {
  if (!isRealDate(ymd) || ymd.year < 0 || ymd.year > 9999) {
    throw new RangeError(
      `Date out of range: ${ymd.year}-${ymd.month}-${ymd.day}`,
    );
  }
  return `${pad(ymd.year, 4)}-${pad(ymd.month, 2)}-${pad(ymd.day, 2)}`;
}

/** Parses a strict, real "YYYY-MM-DD" date, or returns undefined. */
function parseIso(date: string): Ymd | undefined {
  const m = ISO_DATE.exec(date);
  if (!m) return undefined;
  const ymd = { year: +m[1], month: +m[2], day: +m[3] };
  return isRealDate(ymd) ? ymd : undefined;
}

function requireIso(date: string): Ymd {
  const ymd = parseIso(date);
  if (!ymd) throw new RangeError(`Invalid date "${date}": expected YYYY-MM-DD`);
  return ymd;
}

/** add days to a YYYY-MM-DD date (pure calendar arithmetic) */
export function addDays(date: string, days: number): string {
  if (!Number.isInteger(days)) {
    throw new RangeError(`Cannot add a fractional number of days: ${days}`);
  }
  return formatYmd(civilFromDays(daysFromCivil(requireIso(date)) + days));
}

/** whole days from a to b (b - a) for YYYY-MM-DD dates */
export function daysBetween(a: string, b: string): number {
  return daysFromCivil(requireIso(b)) - daysFromCivil(requireIso(a));
}

// ---------------------------------------------------------------------------
// Time zones
// ---------------------------------------------------------------------------

interface WallClock extends Ymd {
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let fmt = formatters.get(timeZone);
  if (!fmt) {
    try {
      fmt = new Intl.DateTimeFormat("en-US", {
        timeZone,
        hourCycle: "h23",
        era: "short",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
      });
    } catch {
      throw new Error(`Unknown time zone "${timeZone}"`);
    }
    formatters.set(timeZone, fmt);
  }
  return fmt;
}

/**
 * The wall-clock fields of an instant in a zone. UTC is plain arithmetic:
 * the first Intl.DateTimeFormat of a process costs 20–30 ms (issue 20).
 */
function wallClockAt(epochMs: number, timeZone: string): WallClock {
  if (timeZone === "UTC") {
    const d = new Date(Math.floor(epochMs / 1000) * 1000); // Intl drops milliseconds
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
    };
  }
  const fields: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(epochMs)) {
    fields[part.type] = part.value;
  }
  let year = Number(fields.year);
  if (fields.era === "BC" || fields.era === "B") year = 1 - year;
  return {
    year,
    month: Number(fields.month),
    day: Number(fields.day),
    hour: Number(fields.hour) % 24, // some engines print midnight as "24"
    minute: Number(fields.minute),
    second: Number(fields.second),
  };
}

/** Milliseconds since the epoch of a wall clock read as if it were UTC. */
function wallClockAsUtcMs(w: WallClock): number {
  return daysFromCivil(w) * MS_PER_DAY +
    ((w.hour * 60 + w.minute) * 60 + w.second) * 1000;
}

/** The zone's UTC offset (ms, local - UTC) at an instant. */
function offsetAt(epochMs: number, timeZone: string): number {
  const whole = Math.floor(epochMs / 1000) * 1000; // Intl drops milliseconds
  return wallClockAsUtcMs(wallClockAt(whole, timeZone)) - whole;
}

/** system time zone name via Intl */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** validate an IANA zone name; throws Error `Unknown time zone "${name}"` */
export function assertTimeZone(name: string): string {
  if (typeof name !== "string" || name.trim() === "") {
    throw new Error(`Unknown time zone "${name}"`);
  }
  // UTC needs no Intl (see wallClockAt).
  if (name.toUpperCase() === "UTC") return "UTC";
  // Normalise case ("utc" -> "UTC") but never swap in a different zone's
  // name (some engines resolve "EST" to "America/Panama").
  const resolved = formatterFor(name).resolvedOptions().timeZone;
  return resolved.toLowerCase() === name.toLowerCase() ? resolved : name;
}

/** today's date "YYYY-MM-DD" in the zone */
export function todayIn(ctx: DateContext): string {
  return formatYmd(wallClockAt(nowMs(ctx), ctx.timeZone));
}

function nowMs(ctx: DateContext): number {
  const ms = ctx.now.getTime();
  if (Number.isNaN(ms)) throw new RangeError("Invalid reference time (now)");
  return ms;
}

const TIME = /^(\d{1,2}):(\d{2})$/;

/** "HH:MM" 24h validation; throws InvalidTimeError (message names the input) */
export function parseTime(input: string): string {
  const m = typeof input === "string" ? TIME.exec(input.trim()) : null;
  if (!m) throw new InvalidTimeError(String(input));
  const hour = Number(m[1]);
  const minute = Number(m[2]);
  if (hour > 23 || minute > 59) throw new InvalidTimeError(input);
  return `${pad(hour, 2)}:${pad(minute, 2)}`;
}

/** Named times of day, as the original reads them ("eod" is 17:00). */
const NAMED_TIMES: Record<string, string> = {
  noon: "12:00",
  midday: "12:00",
  midnight: "00:00",
  eod: "17:00",
  "end of day": "17:00",
  "end of the day": "17:00",
};
const CLOCK_12H = /^(\d{1,2})(?::(\d{2}))?\s*([ap])\.?m\.?$/;
/** A time of day at the end of a phrase: "3pm", "3:30 pm", "15:00", noon, midnight, eod, end of day. */
const TIME_WORDS = String
  .raw`\d{1,2}(?::\d{2})?\s*[ap]\.?m\.?|\d{1,2}:\d{2}|noon|midday|midnight|eod|end of (?:the )?day`;
const TRAILING_TIME = new RegExp(String.raw`^(.*?)\s*\b((?:at|by|@)\s+)?(${TIME_WORDS})$`, "i");

/** "HH:MM" for a time of day in any form the original reads, or undefined. */
function readTimeOfDay(text: string): string | undefined {
  const words = text.trim().toLowerCase().replace(/\s+/g, " ").replace(/^(?:at|by|@) /, "");
  if (NAMED_TIMES[words]) return NAMED_TIMES[words];
  const m = CLOCK_12H.exec(words);
  if (m) {
    const hour = Number(m[1]);
    const minute = Number(m[2] ?? 0);
    if (hour < 1 || hour > 12 || minute > 59) return undefined;
    const h24 = (hour % 12) + (m[3] === "p" ? 12 : 0);
    return `${pad(h24, 2)}:${pad(minute, 2)}`;
  }
  try {
    return parseTime(words);
  } catch {
    return undefined;
  }
}

/**
 * A time of day as `--time` takes it: 24-hour "HH:MM", "3pm", "3:30 pm",
 * "noon", "midnight", "eod" / "end of day" (17:00), optionally after "at" or
 * "by" ("by 5pm"). Returns "HH:MM"; throws InvalidTimeError naming the input.
 */
export function parseTimeOfDay(input: string): string {
  const time = typeof input === "string" ? readTimeOfDay(input) : undefined;
  if (time === undefined) {
    throw new InvalidTimeError(
      String(input),
      `use HH:MM (24-hour), 3pm, 3:30pm, noon, midnight or eod`,
    );
  }
  return time;
}

/**
 * The UTC instant of a wall-clock date+time "YYYY-MM-DD","HH:MM" in a zone.
 *
 * Follows Temporal's "compatible" disambiguation: a time repeated when the
 * clocks go back resolves to the earlier instant; a time skipped when the
 * clocks go forward resolves as if the old offset still applied, i.e. it is
 * moved forward by the length of the gap (02:30 -> 03:30).
 */
export function zonedInstant(
  date: string,
  time: string,
  timeZone: string,
): Date {
  const ymd = requireIso(date);
  const [hour, minute] = parseTime(time).split(":").map(Number);
  const local = wallClockAsUtcMs({ ...ymd, hour, minute, second: 0 });
  if (timeZone === "UTC") return new Date(local); // no offsets, no transitions
  // Offsets a day either side bracket any single transition near `local`.
  const before = offsetAt(local - MS_PER_DAY, timeZone);
  const after = offsetAt(local + MS_PER_DAY, timeZone);
  const candidates = [local - before, local - after].filter((t) =>
    t + offsetAt(t, timeZone) === local
  );
  const instant = candidates.length > 0 ? Math.min(...candidates) : local - before; // in a gap
  return new Date(instant);
}

/** A wall-clock date and time in some zone. */
export interface WallTime {
  date: string;
  /** "HH:MM" */
  time: string;
}

/** The wall-clock date and time ("HH:MM") of an instant in a zone. */
export function wallTimeIn(instant: Date | number, timeZone: string): WallTime {
  const ms = typeof instant === "number" ? instant : instant.getTime();
  const w = wallClockAt(Math.floor(ms / 60_000) * 60_000, timeZone);
  return { date: formatYmd(w), time: `${pad(w.hour, 2)}:${pad(w.minute, 2)}` };
}

/**
 * When a wall-clock time does not exist in the zone (skipped when the clocks
 * go forward: 02:30 on a spring-forward night), the date and time it moves to
 * (02:30 -> 03:30, as zonedInstant reads it); undefined when it exists.
 */
export function skippedWallTime(
  date: string,
  time: string,
  timeZone: string,
): WallTime | undefined {
  const moved = wallTimeIn(zonedInstant(date, time, timeZone), timeZone);
  return moved.date === date && moved.time === parseTime(time) ? undefined : moved;
}

// ---------------------------------------------------------------------------
// parseDate
// ---------------------------------------------------------------------------

/** Words allowed before the phrase chrono matched ("by friday", "due jan 17"). */
const ALLOWED_PREFIXES = new Set([
  "",
  "on",
  "by",
  "due",
  "due on",
  "due by",
  "coming",
  "upcoming",
  "this coming",
]);
const IGNORABLE_SUFFIX = /^[\s.,;:!?]*$/;
const MONTH_NAME = /\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?(\s|$|\d)/i;

function normalizeWords(text: string): string {
  return text.toLowerCase().replace(/[.,;:!?]/g, " ").trim().replace(
    /\s+/g,
    " ",
  );
}

/** How far from today a date may be, in years either way ("0001-01-01" is a typo). */
export const MAX_YEARS_FROM_TODAY = 100;

/** A parsed date, with the time of day when the phrase named one ("tomorrow 3pm"). */
export interface DateTime {
  date: string;
  /** "HH:MM", only when the phrase gave an hour. */
  time?: string;
}

/**
 * Returns a calendar date "YYYY-MM-DD" in ctx.timeZone, or throws
 * InvalidDateError. Weekday names and month-day phrases resolve forward
 * (friday = the next Friday, or today if today is Friday; "jan 17" = the next
 * Jan 17 on or after today). "next friday" is, as in the original jdo, the
 * first Friday after today ("next saturday" on a Friday is tomorrow). "last
 * friday" is the most recent Friday before today.
 */
export function parseDate(input: string, ctx: DateContext): string {
  return parseDateTime(input, ctx).date;
}

/** Phrases that name no day; refused with a hint, as the original does. */
const VAGUE = new Set([
  "soon",
  "later",
  "asap",
  "eventually",
  "sometime",
  "someday",
  "whenever",
  "next week",
  "this week",
  "next month",
  "this month",
  "next year",
  "this year",
]);
const VAGUE_HINT = 'name a day, e.g. "next monday", "jan 17" or "2031-03-14"';
const NUMERIC_DATE = /^(\d{1,2})[/.](\d{1,2})(?:[/.](\d{4}|\d{2}))?$/;

/** The phrase without harmless lead-in words ("by friday" -> "friday"). */
function withoutLeadIn(words: string): string {
  return words.replace(/^(?:this coming|due on|due by|on|by|due|coming|upcoming) /, "");
}

/**
 * Like parseDate, and also returns the time of day a phrase names
 * ("tomorrow 3pm" → 15:00, "friday at 9:30" → 09:30, "dec 20 by 5pm",
 * "friday eod" → 17:00, "tomorrow noon"). Rejects impossible dates ("dec 32",
 * "2026-02-30"), a month without a day ("march"), vague phrases ("soon",
 * "next week"), a bare time ("5pm": which day?), a numeric date that reads as
 * two days (1/2/2027) unless ctx.dateOrder says how, and dates more than
 * MAX_YEARS_FROM_TODAY years from today.
 */
export function parseDateTime(input: string, ctx: DateContext): DateTime {
  if (typeof input !== "string") throw new InvalidDateError(String(input));
  const text = input.trim();
  if (text === "") throw new InvalidDateError(input);
  const words = withoutLeadIn(normalizeWords(text));
  if (VAGUE.has(words)) {
    throw new InvalidDateError(input, `it is too vague; ${VAGUE_HINT}`);
  }

  const trailing = TRAILING_TIME.exec(text);
  const trailingTime = trailing ? readTimeOfDay(trailing[3]) : undefined;
  if (trailing && trailingTime !== undefined) {
    const datePart = trailing[1].trim();
    if (ALLOWED_PREFIXES.has(normalizeWords(datePart)) || /^(at|@)$/i.test(datePart)) {
      throw new InvalidDateError(
        input,
        `a time of day needs a day too, e.g. "today ${trailing[3].trim()}" or "2031-03-14 ${
          trailing[3].trim()
        }"`,
      );
    }
    const day = parseDateTime(datePart, ctx);
    if (day.time !== undefined) throw new InvalidDateError(input);
    return { date: day.date, time: trailingTime };
  }

  const wall = wallClockAt(nowMs(ctx), ctx.timeZone);
  const today = daysFromCivil(wall);
  let found: { ymd: Ymd; time?: string } | undefined;
  const numeric = NUMERIC_DATE.exec(text);
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const ymd = parseIso(text);
    if (!ymd) throw new InvalidDateError(input, "there is no such day in the calendar");
    found = { ymd };
  } else if (numeric) {
    found = { ymd: resolveNumeric(numeric, input, ctx.dateOrder, wall, today) };
  } else {
    found = resolveNatural(text, input, wall, today);
    if (!found) throw new InvalidDateError(input);
  }
  const { ymd, time } = found;
  if (Math.abs(ymd.year - wall.year) > MAX_YEARS_FROM_TODAY) {
    throw new InvalidDateError(
      input,
      `the year ${ymd.year} is more than ${MAX_YEARS_FROM_TODAY} years from today`,
    );
  }
  return time === undefined ? { date: formatYmd(ymd) } : { date: formatYmd(ymd), time };
}

/**
 * A numeric date (1/2/2027, 25.12.2027, 12/25): the reading ctx.dateOrder
 * names; unset, the only reading that is a real day, and a refusal naming
 * both ISO forms when it reads as two different days.
 */
function resolveNumeric(
  m: RegExpExecArray,
  input: string,
  order: DateOrder | undefined,
  wall: WallClock,
  today: number,
): Ymd {
  const [first, second] = [Number(m[1]), Number(m[2])];
  const year = m[3] === undefined
    ? undefined
    : m[3].length === 2
    ? 2000 + Number(m[3])
    : Number(m[3]);
  const place = (month: number, day: number): Ymd =>
    year === undefined ? resolveMonthDay(month, day, wall, today) : { year, month, day };
  const readings = {
    mdy: place(first, second),
    dmy: place(second, first),
  };
  if (order) {
    if (!isRealDate(readings[order])) {
      throw new InvalidDateError(
        input,
        `there is no such day (read ${
          order === "mdy" ? "month first" : "day first"
        }, as JDO_DATE_ORDER=${order} says)`,
      );
    }
    return readings[order];
  }
  const real = (["mdy", "dmy"] as const).filter((o) => isRealDate(readings[o]));
  if (real.length === 0) throw new InvalidDateError(input, "there is no such day in the calendar");
  if (real.length === 2 && first !== second) {
    throw new InvalidDateError(
      input,
      `it could be ${formatYmd(readings.mdy)} (month first) or ${
        formatYmd(readings.dmy)
      } (day first); write YYYY-MM-DD, or set JDO_DATE_ORDER=mdy or dmy`,
    );
  }
  return readings[real[0]];
}

function resolveNatural(
  text: string,
  input: string,
  wall: WallClock,
  today: number,
): { ymd: Ymd; time?: string } | undefined {
  // chrono works in the host's local time: hand it a reference whose local
  // fields are the zone's wall clock, and read back calendar fields only.
  const reference = new Date(2000, 0, 1);
  reference.setFullYear(wall.year, wall.month - 1, wall.day);
  reference.setHours(wall.hour, wall.minute, wall.second, 0);

  // The two phrases typed most need no parser (chrono-node costs ~40 ms to
  // load); dates_test.ts holds them to chrono's reading.
  const casual = CASUAL_DAYS.get(normalizeWords(text));
  if (casual !== undefined) return { ymd: civilFromDays(today + casual) };
  if (!chrono) throw new DateParserNotLoaded();
  const results = chrono.parse(text, reference, { forwardDate: true });
  if (results.length !== 1) return undefined;
  const [result] = results;

  // Reject anything chrono skipped over that carries meaning.
  const before = normalizeWords(text.slice(0, result.index));
  const after = text.slice(result.index + result.text.length);
  if (!ALLOWED_PREFIXES.has(before) || !IGNORABLE_SUFFIX.test(after)) {
    return undefined;
  }

  const start = result.start;
  const known = (c: Chrono.Component) => start.isCertain(c);
  // A bare time ("5pm", "noon") is not a date.
  if (!known("day") && !known("weekday") && !known("month") && !known("year")) {
    return undefined;
  }
  // A month name without a day: "march", or "dec 32" (chrono reads 32 as the
  // year 2032 and makes it 2032-12-01). Relative phrases ("in a month") keep
  // chrono's day.
  if (!known("day") && !known("weekday") && MONTH_NAME.test(result.text)) {
    throw new InvalidDateError(
      input,
      /\b\d{1,2}\b/.test(result.text)
        ? "there is no such day in that month"
        : 'give a day of the month too, e.g. "jan 17"',
    );
  }

  let ymd: Ymd;
  if (known("weekday") && !known("day") && !known("month") && !known("year")) {
    ymd = resolveWeekday(result.text, start.get("weekday")!, start, today);
  } else if (known("month") && known("day") && !known("year")) {
    ymd = resolveMonthDay(start.get("month")!, start.get("day")!, wall, today);
  } else {
    ymd = fieldsOf(start);
  }
  if (!isRealDate(ymd)) return undefined;
  // "monday tomorrow" comes back as one result with conflicting fields.
  if (known("weekday") && weekdayOf(ymd) !== start.get("weekday")) {
    return undefined;
  }
  if (!known("hour")) return { ymd };
  const time = `${pad(start.get("hour")!, 2)}:${pad(start.get("minute") ?? 0, 2)}`;
  return { ymd, time };
}

function fieldsOf(start: Chrono.ParsedComponents): Ymd {
  return {
    year: start.get("year")!,
    month: start.get("month")!,
    day: start.get("day")!,
  };
}

function resolveWeekday(
  matched: string,
  weekday: number,
  start: Chrono.ParsedComponents,
  today: number,
): Ymd {
  const words = normalizeWords(matched);
  // chrono's forwardDate turns "last friday" into the *next* Friday.
  if (/\b(last|past|previous)\b/.test(words)) {
    const back = (((weekdayOf(civilFromDays(today)) - weekday) % 7) + 7) % 7;
    return civilFromDays(today - (back === 0 ? 7 : back));
  }
  // "next friday", as the original reads it: the first Friday after today
  // (on a Friday, a week ahead; "next saturday" on a Friday is tomorrow).
  if (/\bnext (mon|tue|wed|thu|fri|sat|sun)/.test(words)) {
    const ahead = (((weekday - weekdayOf(civilFromDays(today))) % 7) + 7) % 7;
    return civilFromDays(today + (ahead === 0 ? 7 : ahead));
  }
  // "friday next week": keep chrono's (week-based) answer.
  if (/\bnext\b/.test(words)) return fieldsOf(start);
  // Plain or "this": on or after today (chrono skips today itself).
  const ahead = (((weekday - weekdayOf(civilFromDays(today))) % 7) + 7) % 7;
  return civilFromDays(today + ahead);
}

function resolveMonthDay(
  month: number,
  day: number,
  wall: WallClock,
  today: number,
): Ymd {
  // chrono's forwardDate skips to next year when the date is today.
  for (let year = wall.year; year <= wall.year + 8; year++) {
    const candidate = { year, month, day };
    if (isRealDate(candidate) && daysFromCivil(candidate) >= today) {
      return candidate;
    }
  }
  return { year: wall.year, month, day }; // not a real date: rejected later
}

/** An instant (ISO string) as "YYYY-MM-DD HH:MM" on the wall clock of `timeZone`. */
export function localDateTime(iso: string, timeZone: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const w = wallClockAt(ms, timeZone);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${String(w.year).padStart(4, "0")}-${two(w.month)}-${two(w.day)} ${two(w.hour)}:${
    two(w.minute)
  }`;
}
