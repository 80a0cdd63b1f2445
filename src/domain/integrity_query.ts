import type { Store } from "../db/store.ts";
import { DEFAULT_DUE_TIME } from "./actions.ts";
import { zonedInstant } from "./dates.ts";
import { type CommitmentFacts, computeIntegrity, type IntegrityReport } from "./integrity.ts";

const ms = (iso: unknown) => iso ? Date.parse(String(iso)) : null;

/** The integrity report of every live commitment in the store. */
export async function integrityOf(
  store: Store,
  now: Date,
  timeZone: string,
): Promise<IntegrityReport> {
  const rows = await store.query(
    `SELECT status, due_date, due_time, timezone, completed_on_time, completed_at, marked_at_risk_at
     FROM commitments WHERE deleted_at IS NULL`,
  );
  const facts: CommitmentFacts[] = rows.map((r) => ({
    status: String(r.status),
    dueAt: zonedInstant(
      String(r.due_date),
      String(r.due_time ?? DEFAULT_DUE_TIME),
      String(r.timezone ?? timeZone),
    ).getTime(),
    completedOnTime: r.completed_on_time === null ? null : Boolean(r.completed_on_time),
    completedAt: ms(r.completed_at),
    markedAtRiskAt: ms(r.marked_at_risk_at),
  }));
  return computeIntegrity(facts, now.getTime());
}
