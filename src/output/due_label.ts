import { DEFAULT_DUE_TIME } from "../domain/actions.ts";
import { type DateContext, daysBetween, todayIn, zonedInstant } from "../domain/dates.ts";
import type { JsonRecord } from "../domain/records.ts";

export interface DueLabel {
  text: string;
  /** 0 plain, 1 due today, 2 overdue. */
  level: number;
}

/** "overdue 2d" / "overdue" / "today" / "tomorrow" / "in N days" for a commitment. */
export function dueLabel(commitment: JsonRecord, dates: DateContext): DueLabel {
  const dueDate = String(commitment.due_date);
  const days = daysBetween(todayIn(dates), dueDate);
  if (days < 0) return { text: `overdue ${-days}d`, level: 2 };
  if (days === 0) {
    const due = zonedInstant(
      dueDate,
      String(commitment.due_time ?? DEFAULT_DUE_TIME),
      String(commitment.timezone ?? dates.timeZone),
    );
    return due.getTime() < dates.now.getTime()
      ? { text: "overdue", level: 2 }
      : { text: "today", level: 1 };
  }
  if (days === 1) return { text: "tomorrow", level: 0 };
  return { text: `in ${days}d`, level: 0 };
}
