import { type DateContext, daysBetween, todayIn, wallTimeIn } from "../domain/dates.ts";
import { type DueFields, dueInstantMs, dueZone } from "../domain/due.ts";
import type { JsonRecord } from "../domain/records.ts";

/** A due date and time as `dueCells` prints them: "YYYY-MM-DD HH:MM". */
const DATE_AND_TIME = /^\d{4}-\d{2}-\d{2} (?:[01]\d|2[0-3]):[0-5]\d$/;

/** Shared by every commitment due the same day (labelOf): read only. */
export interface DueLabel {
  readonly text: string;
  /** 0 plain, 1 due today, 2 overdue. */
  readonly level: number;
}

/**
 * When a commitment is due, on the viewer's clock (`viewerZone`): its due
 * instant (its date and time in its own zone) as "YYYY-MM-DD HH:MM" there.
 */
export function dueOnViewerClock(commitment: DueFields, viewerZone: string): string {
  const at = wallTimeIn(dueInstantMs(commitment, viewerZone), viewerZone);
  return `${at.date} ${at.time}`;
}

/**
 * The due time for a person: on the viewer's clock, followed by the
 * commitment's own date, time and zone when that zone is not the viewer's
 * ("2026-11-28 01:00 (2026-11-27 17:00 America/Los_Angeles)").
 */
export function dueText(commitment: DueFields, viewerZone: string): string {
  const here = dueOnViewerClock(commitment, viewerZone);
  const zone = dueZone(commitment, viewerZone);
  if (zone === viewerZone) return here;
  return `${here} (${commitment.due_date} ${commitment.due_time} ${zone})`;
}

/**
 * "overdue 2d" / "overdue" / "today" / "tomorrow" / "in N days" for a
 * commitment, on the viewer's calendar: days from the viewer's today to the
 * day the due instant falls on in the viewer's zone (the date `list` shows),
 * and "overdue" means the due instant has passed, so the label always agrees
 * with complete's on-time check whatever zone the viewer is in.
 */
export function dueLabel(commitment: JsonRecord, dates: DateContext): DueLabel {
  const dueDay = wallTimeIn(dueInstantMs(commitment, dates.timeZone), dates.timeZone).date;
  const days = daysBetween(todayIn(dates), dueDay);
  const passed = dueInstantMs(commitment, dates.timeZone) < dates.now.getTime();
  return labelOf(days, passed);
}

/** Labels made so far, by days and whether the instant passed (a list repeats a few hundred). */
const labels = new Map<number, DueLabel>();

function labelOf(days: number, passed: boolean): DueLabel {
  if (!Number.isSafeInteger(days)) return newLabel(days, passed);
  // Odd keys for passed instants, even for the others: one number per label.
  const key = passed ? -1 - 2 * days : 2 * days;
  let label = labels.get(key);
  if (label === undefined) {
    // Not frozen (readonly by type): freezing is a runtime call for each new
    // label, and a list makes one for every distinct due day.
    label = newLabel(days, passed);
    if (labels.size >= 4096) labels.clear();
    labels.set(key, label);
  }
  return label;
}

function newLabel(days: number, passed: boolean): DueLabel {
  if (passed) {
    return days < 0 ? { text: `overdue ${-days}d`, level: 2 } : { text: "overdue", level: 2 };
  }
  if (days <= 0) return { text: "today", level: 1 };
  if (days === 1) return { text: "tomorrow", level: 0 };
  return { text: `in ${days}d`, level: 0 };
}

/**
 * dueOnViewerClock and dueLabel of many commitments at one `dates` (a page
 * of `jdo list`), the same text: today is read once and each due instant
 * once, not twice.
 */
export function dueCells(dates: DateContext): (commitment: JsonRecord) => {
  clock: string;
  label: DueLabel;
} {
  const today = todayIn(dates);
  const now = dates.now.getTime();
  const utc = dates.timeZone === "UTC";
  const todayMs = Date.parse(today);
  return (commitment) => {
    // Due in UTC and seen from UTC (the common case): the wall clock is the
    // due date and time as written, no zone arithmetic.
    const { due_date: date, due_time: time } = commitment;
    const clock = `${date} ${time}`;
    if (
      utc && typeof date === "string" && typeof time === "string" &&
      dueZone(commitment, "UTC") === "UTC" && DATE_AND_TIME.test(clock)
    ) {
      // Midnight of the date, then the time (two digits each): Date.parse of
      // the date and time as one ISO text, without making that text.
      const day = Date.parse(date);
      if (!Number.isNaN(day)) {
        const at = day + (digits(time, 0) * 60 + digits(time, 3)) * 60_000;
        return {
          clock,
          label: labelOf(Math.round((day - todayMs) / 86_400_000), at < now),
        };
      }
    }
    const at = dueInstantMs(commitment, dates.timeZone);
    const wall = wallTimeIn(at, dates.timeZone);
    return {
      clock: `${wall.date} ${wall.time}`,
      label: labelOf(daysBetween(today, wall.date), at < now),
    };
  };
}

/** The number the two decimal digits of `text` at `at` write. */
function digits(text: string, at: number): number {
  return (text.charCodeAt(at) - 48) * 10 + text.charCodeAt(at + 1) - 48;
}
