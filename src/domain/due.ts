/**
 * When a commitment is due: its due date and time read in the commitment's
 * own time zone (the zone it was made in), never the viewer's. Every place
 * that asks "is it late?" — labels, the dashboard, list, integrity and
 * complete's on-time check — goes through this module.
 */
import { type DateContext, todayIn, zonedInstant } from "./dates.ts";

/** The due time of a commitment made without one. */
export const DEFAULT_DUE_TIME = "17:00";

/** The fields of a commitment that fix its due instant (a row or a record). */
export interface DueFields {
  due_date?: unknown;
  due_time?: unknown;
  timezone?: unknown;
}

/** The zone a commitment's due date is read in; `fallbackZone` for rows made without one. */
export function dueZone(row: DueFields, fallbackZone: string): string {
  return row.timezone ? String(row.timezone) : fallbackZone;
}

/** The due instant (ms since the epoch) of a commitment, in its own zone. */
export function dueInstantMs(row: DueFields, fallbackZone: string): number {
  return zonedInstant(
    String(row.due_date),
    String(row.due_time ?? DEFAULT_DUE_TIME),
    dueZone(row, fallbackZone),
  ).getTime();
}

/** Today's date in the commitment's own zone (the calendar its due date belongs to). */
export function todayForDue(row: DueFields, dates: DateContext): string {
  return todayIn({ now: dates.now, timeZone: dueZone(row, dates.timeZone) });
}
