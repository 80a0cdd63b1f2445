import { type DateContext, daysBetween } from "../domain/dates.ts";
import { dueInstantMs, todayForDue } from "../domain/due.ts";
import type { JsonRecord } from "../domain/records.ts";

export interface DueLabel {
  text: string;
  /** 0 plain, 1 due today, 2 overdue. */
  level: number;
}

/**
 * "overdue 2d" / "overdue" / "today" / "tomorrow" / "in N days" for a
 * commitment. Days are counted on the commitment's own calendar (its zone),
 * and "overdue" means its due instant has passed, so the label always agrees
 * with complete's on-time check whatever zone the viewer is in.
 */
export function dueLabel(commitment: JsonRecord, dates: DateContext): DueLabel {
  const days = daysBetween(todayForDue(commitment, dates), String(commitment.due_date));
  const passed = dueInstantMs(commitment, dates.timeZone) < dates.now.getTime();
  if (passed) {
    return days < 0 ? { text: `overdue ${-days}d`, level: 2 } : { text: "overdue", level: 2 };
  }
  if (days <= 0) return { text: "today", level: 1 };
  if (days === 1) return { text: "tomorrow", level: 0 };
  return { text: `in ${days}d`, level: 0 };
}
