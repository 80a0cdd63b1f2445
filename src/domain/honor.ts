/**
 * Honor your word (the original's integrity protocol): a commitment that may
 * slip is marked at risk, which adds the task of notifying its stakeholder
 * (first in its task list) and a cleanup plan. The plan moves as the user
 * acts: notified → in progress; the commitment delivered, or abandoned after
 * notifying → completed; abandoned without notifying → skipped; recovered →
 * cancelled. Carried-out plans feed the cleanup completion rate.
 */
import { entity, type Row } from "../db/schema.ts";
import type { Writer } from "../db/store.ts";
import { JdoError } from "../errors.ts";
import { type Domain, optionalText } from "./input.ts";
import { logTaskCreated, logTaskStatusChange } from "./task_history.ts";

const commitmentDef = entity("commitment");
const taskDef = entity("task");
const planDef = entity("cleanup_plan");

export interface AtRiskInput {
  reason?: string;
  impact?: string;
}

export interface AtRiskResult {
  commitment: Row;
  plan: Row;
  notificationTask: Row;
  /** False when an earlier notification task was reused. */
  taskCreated: boolean;
}

export interface RecoveryResult {
  commitment: Row;
  plan: Row | null;
  notificationTask: Row | null;
  /** The notification task is still open: notify, or say it is no longer needed. */
  notificationStillNeeded: boolean;
}

const OPEN_TASK = new Set(["pending", "in_progress"]);

/** The store or a write transaction: either can look rows up. */
interface Reader {
  one(sql: string, args?: (string | number | null)[]): Promise<Row | undefined>;
}

export async function planOf(w: Reader, commitmentId: string): Promise<Row | undefined> {
  return await w.one(
    `SELECT * FROM cleanup_plans WHERE commitment_id = ? AND deleted_at IS NULL
     ORDER BY created_at, id LIMIT 1`,
    [commitmentId],
  );
}

export async function notificationTaskOf(
  w: Reader,
  commitmentId: string,
): Promise<Row | undefined> {
  return await w.one(
    `SELECT * FROM tasks WHERE commitment_id = ? AND is_notification_task = 1
     AND deleted_at IS NULL ORDER BY created_at, id LIMIT 1`,
    [commitmentId],
  );
}

async function stakeholderOf(w: Reader, commitment: Row): Promise<Row | undefined> {
  return await w.one("SELECT * FROM stakeholders WHERE id = ?", [commitment.stakeholder_id]);
}

/** The notification draft kept in the task's scope. */
export function notificationDraft(
  commitment: Row,
  stakeholder: string,
  reason: string | null,
  impact: string | null,
): string {
  return [
    "NOTIFICATION DRAFT",
    "",
    `To: ${stakeholder}`,
    `Re: ${commitment.deliverable}`,
    "",
    `I need to let you know that I may not be able to deliver "${commitment.deliverable}" by ${commitment.due_date} as committed.`,
    "",
    `Reason: ${reason ?? "to be filled in"}`,
    `Impact: ${impact ?? "to be determined"}`,
    "Proposed resolution: to discuss with you",
    "",
    "Complete this task once the notification is sent.",
  ].join("\n");
}

/**
 * Marks a pending or in-progress commitment at risk, with its cleanup plan
 * (one per commitment, reused) and its notification task (order 0, reused).
 */
export function markAtRisk(d: Domain, commitment: Row, input: AtRiskInput): Promise<AtRiskResult> {
  const status = String(commitment.status);
  if (status === "at_risk") {
    throw new JdoError("INVALID_INPUT", "This commitment is already at risk");
  }
  if (status !== "pending" && status !== "in_progress") {
    throw new JdoError(
      "INVALID_INPUT",
      `Cannot at-risk this commitment: it is ${status}; use jdo edit --status to reopen it`,
    );
  }
  const reason = optionalText(input.reason, "reason");
  const impact = optionalText(input.impact, "impact");
  const id = String(commitment.id);
  return d.store.write(async (w) => {
    const now = w.clock.now().toISOString();
    const updated = await w.update(commitmentDef, id, {
      status: "at_risk",
      marked_at_risk_at: now,
    });
    const stakeholder = String((await stakeholderOf(w, commitment))?.name ?? "the stakeholder");
    let task = await notificationTaskOf(w, id);
    const taskCreated = !task;
    if (!task) {
      task = await w.insert(taskDef, {
        commitment_id: id,
        title: `Notify ${stakeholder} about at-risk commitment`,
        scope: notificationDraft(updated, stakeholder, reason, impact),
        order: 0,
        estimated_hours: null,
        status: "pending",
        is_notification_task: 1,
      });
      await logTaskCreated(w, task);
    } else if (task.status === "skipped") {
      // At risk again after a recovery that needed no notification: it is needed now.
      task = await w.update(taskDef, String(task.id), { status: "pending" });
      await logTaskStatusChange(w, task, "skipped");
    }
    let plan = await planOf(w, id);
    if (!plan) {
      plan = await w.insert(planDef, {
        commitment_id: id,
        impact_description: impact,
        mitigation_actions: "[]",
        notification_task_id: task.id,
        status: "planned",
        completed_at: null,
        skipped_reason: null,
      });
    } else {
      const patch: Row = { notification_task_id: task.id };
      if (plan.status === "cancelled") patch.status = "planned";
      if (impact !== null) patch.impact_description = impact;
      plan = await w.update(planDef, String(plan.id), patch);
    }
    return { commitment: updated, plan, notificationTask: task, taskCreated };
  });
}

/**
 * Returns an at-risk commitment to in progress (refused for any other
 * status). marked_at_risk_at is kept; the cleanup plan is cancelled. An open
 * notification task is skipped when `resolved` (the situation resolved
 * itself), otherwise left for the user to decide.
 */
export function recoverCommitment(
  d: Domain,
  commitment: Row,
  resolved: boolean,
): Promise<RecoveryResult> {
  if (commitment.status !== "at_risk") {
    throw new JdoError(
      "INVALID_INPUT",
      `This commitment is not at risk (it is ${
        String(commitment.status).replace("_", " ")
      }); only an at-risk commitment can be recovered`,
    );
  }
  const id = String(commitment.id);
  return d.store.write(async (w) => {
    const updated = await w.update(commitmentDef, id, { status: "in_progress" });
    let plan: Row | null = (await planOf(w, id)) ?? null;
    if (plan) plan = await w.update(planDef, String(plan.id), { status: "cancelled" });
    let task: Row | null = (await notificationTaskOf(w, id)) ?? null;
    let stillNeeded = false;
    if (task && OPEN_TASK.has(String(task.status))) {
      if (resolved) {
        const previous = String(task.status);
        task = await w.update(taskDef, String(task.id), {
          status: "skipped",
          scope: `${task.scope ?? ""}\n\n[Skipped: situation resolved]`.trimStart(),
        });
        await logTaskStatusChange(w, task, previous, { notes: "Situation resolved" });
      } else stillNeeded = true;
    }
    return {
      commitment: updated,
      plan,
      notificationTask: task,
      notificationStillNeeded: stillNeeded,
    };
  });
}

/**
 * What a status change does to the cleanup plan, inside the same write:
 * completing the notification task starts the cleanup; delivering the
 * commitment completes it; abandoning completes it when the stakeholder was
 * notified and skips it otherwise.
 */
export async function followStatusChange(
  w: Writer,
  kind: string,
  row: Row,
  status: string,
): Promise<void> {
  if (kind === "task" && status === "completed" && Number(row.is_notification_task) === 1) {
    const plan = await planOf(w, String(row.commitment_id));
    if (plan?.status === "planned") {
      await w.update(planDef, String(plan.id), { status: "in_progress" });
    }
    return;
  }
  if (kind !== "commitment" || (status !== "completed" && status !== "abandoned")) return;
  const plan = await planOf(w, String(row.id));
  if (!plan || (plan.status !== "planned" && plan.status !== "in_progress")) return;
  const now = w.clock.now().toISOString();
  if (status === "completed" || await wasNotified(w, String(row.id))) {
    await w.update(planDef, String(plan.id), { status: "completed", completed_at: now });
  } else {
    await w.update(planDef, String(plan.id), {
      status: "skipped",
      skipped_reason: "Abandoned without notifying the stakeholder",
    });
  }
}

async function wasNotified(w: Writer, commitmentId: string): Promise<boolean> {
  const task = await notificationTaskOf(w, commitmentId);
  return task?.status === "completed";
}

/** What abandoning this commitment should warn about, if anything. */
export type AbandonWarning =
  | { kind: "not_notified"; stakeholder: string }
  | { kind: "owed"; stakeholder: string }
  | null;

export async function abandonWarning(d: Domain, commitment: Row): Promise<AbandonWarning> {
  const status = String(commitment.status);
  if (!["pending", "in_progress", "at_risk"].includes(status)) return null;
  const w = d.store;
  {
    const stakeholder = await stakeholderOf(w, commitment);
    const name = String(stakeholder?.name ?? "the stakeholder");
    if (status === "at_risk") {
      const task = await notificationTaskOf(w, String(commitment.id));
      return task && task.status !== "completed"
        ? { kind: "not_notified", stakeholder: name }
        : null;
    }
    return stakeholder?.type === "self" ? null : { kind: "owed", stakeholder: name };
  }
}
