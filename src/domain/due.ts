/**
 * When a commitment is due: its due date and time read in the commitment's
 * own time zone (the zone it was made in), never the viewer's. Every place
 * that asks "is it late?" — labels, the dashboard, list, integrity and
 * complete's on-time check — goes through this module.
 */
import { type DateContext, todayIn, zonedInstant } from "./dates.ts";

/** The due time of a commitment made without one: 09:00, as the original jdo. */
export const DEFAULT_DUE_TIME = "09:00";

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

// Conversions are cached: a long list repeats the same few dates, times and zones.
const CACHE_LIMIT = 4096;
const instants = new Map<string, number>();
const todays = new Map<string, string>();

/** The due instant (ms since the epoch) of a commitment, in its own zone. */
export function dueInstantMs(row: DueFields, fallbackZone: string): number {
  const date = String(row.due_date);
  const time = String(row.due_time ?? DEFAULT_DUE_TIME);
  const zone = dueZone(row, fallbackZone);
  const key = `${date}|${time}|${zone}`;
  let instant = instants.get(key);
  if (instant === undefined) {
    instant = zonedInstant(date, time, zone).getTime();
    if (instants.size >= CACHE_LIMIT) instants.clear();
    instants.set(key, instant);
  }
  return instant;
}

/** Today's date in the commitment's own zone (the calendar its due date belongs to). */
export function todayForDue(row: DueFields, dates: DateContext): string {
  const zone = dueZone(row, dates.timeZone);
  const key = `${dates.now.getTime()}|${zone}`;
  let today = todays.get(key);
  if (today === undefined) {
    today = todayIn({ now: dates.now, timeZone: zone });
    if (todays.size >= CACHE_LIMIT) todays.clear();
    todays.set(key, today);
  }
  return today;
}
