/**
 * Reviews of goals and visions, as the original jdo keeps them: an active
 * goal or vision is due when its next review date is today or past;
 * recording a review moves that date to today plus the goal's interval
 * (none: no next review) or, for a vision, today plus 90 days.
 */
import { entity, type Row } from "../db/schema.ts";
import type { Store } from "../db/store.ts";
import { addDays, todayIn } from "./dates.ts";
import type { Domain } from "./input.ts";

export const VISION_REVIEW_DAYS = 90;

export interface DueReview {
  kind: "goal" | "vision";
  row: Row;
}

/** Active goals and visions whose next review date is on or before `today`, earliest first. */
export async function dueForReview(store: Store, today: string): Promise<DueReview[]> {
  const due = async (kind: "goal" | "vision") =>
    (await store.query(
      `SELECT * FROM ${entity(kind).table} WHERE status = 'active' AND deleted_at IS NULL
         AND next_review_date IS NOT NULL AND next_review_date <= ?`,
      [today],
    )).map((row) => ({ kind, row }));
  const all = [...await due("goal"), ...await due("vision")];
  const key = (d: DueReview) => `${d.row.next_review_date} ${d.row.created_at} ${d.row.id}`;
  return all.sort((a, b) => key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

/** The next review date after a review today. */
export function nextReviewDate(kind: "goal" | "vision", row: Row, today: string): string | null {
  if (kind === "vision") return addDays(today, VISION_REVIEW_DAYS);
  const interval = row.review_interval_days;
  return interval === null || interval === undefined ? null : addDays(today, Number(interval));
}

/** Records a review of a goal or vision today (in the viewer's zone). */
export function recordReview(d: Domain, kind: "goal" | "vision", row: Row): Promise<Row> {
  const today = todayIn(d.dates());
  return d.store.write((w) =>
    w.update(entity(kind), String(row.id), {
      next_review_date: nextReviewDate(kind, row, today),
    })
  );
}
