import { entity, type EntityDef, type Row } from "../db/schema.ts";
import type { Writer } from "../db/store.ts";
import { JdoError } from "../errors.ts";
import { addDays, todayIn } from "./dates.ts";
import { DEFAULT_DUE_TIME, dueInstantMs } from "./due.ts";
import { followStatusChange } from "./honor.ts";
import { followInstanceClosed } from "./recurring.ts";
import { type Domain, optionalText, requireText } from "./input.ts";
import { type ActualHoursCategory, logTaskCreated, logTaskStatusChange } from "./task_history.ts";

export { DEFAULT_DUE_TIME };
export { type Domain, optionalText, requireText };
export const STAKEHOLDER_TYPES = ["person", "team", "organization", "self"] as const;
export const REVIEW_INTERVALS = [7, 30, 90] as const;
/** The form two stakeholder names are compared in: case-insensitive, Unicode-aware. */
export function stakeholderKey(name: string): string {
  return name.trim().normalize("NFC").toLowerCase();
}

/** The live stakeholder whose name matches case-insensitively (the oldest if several). */
export async function findStakeholder(
  w: Writer,
  name: string,
  exceptId?: string,
): Promise<Row | undefined> {
  const key = stakeholderKey(name);
  const except = exceptId ?? "";
  // SQLite's lower() folds ASCII only: compare names with other letters in JS.
  const live = /^[ -~]*$/.test(key)
    ? await w.query(
      "SELECT * FROM stakeholders WHERE lower(trim(name)) = ? AND deleted_at IS NULL AND id <> ? ORDER BY created_at, id",
      [key, except],
    )
    : await w.query(
      "SELECT * FROM stakeholders WHERE deleted_at IS NULL AND id <> ? ORDER BY created_at, id",
      [except],
    );
  return live.find((s) => stakeholderKey(String(s.name)) === key);
}

/** Refuses a stakeholder name already used by another live stakeholder. */
export async function assertStakeholderNameFree(
  w: Writer,
  name: string,
  exceptId?: string,
): Promise<void> {
  const existing = await findStakeholder(w, name, exceptId);
  if (existing) {
    throw new JdoError(
      "INVALID_INPUT",
      `A stakeholder named "${existing.name}" already exists (names are unique regardless of case)`,
    );
  }
}

/** Finds a live stakeholder by name (case-insensitive) or creates a person. */
export async function stakeholderByName(w: Writer, name: string): Promise<Row> {
  const clean = requireText(name, "stakeholder name");
  const existing = await findStakeholder(w, clean);
  if (existing) return existing;
  return await w.insert(entity("stakeholder"), { name: clean, type: "person" });
}

export interface CommitInput {
  deliverable: string;
  stakeholder: string;
  dueDate: string;
  dueTime?: string;
  goalId?: string | null;
  milestoneId?: string | null;
  notes?: string;
}

/** Adds a commitment (filed under the stakeholder of that name, whatever its case). */
export async function addCommitment(d: Domain, input: CommitInput): Promise<Row> {
  const deliverable = requireText(input.deliverable, "deliverable");
  const notes = optionalText(input.notes, "notes");
  return await d.store.write(async (w) => {
    const stakeholder = await stakeholderByName(w, input.stakeholder);
    return await w.insert(entity("commitment"), {
      deliverable,
      stakeholder_id: stakeholder.id,
      due_date: input.dueDate,
      due_time: input.dueTime ?? DEFAULT_DUE_TIME,
      timezone: d.dates().timeZone,
      goal_id: input.goalId ?? null,
      milestone_id: input.milestoneId ?? null,
      notes,
      status: "pending",
    });
  });
}

export function addStakeholder(d: Domain, name: string, type = "person"): Promise<Row> {
  const clean = requireText(name, "stakeholder name");
  if (!(STAKEHOLDER_TYPES as readonly string[]).includes(type)) {
    throw new JdoError(
      "USAGE",
      `Unknown stakeholder type "${type}" (use ${STAKEHOLDER_TYPES.join(", ")})`,
    );
  }
  return d.store.write(async (w) => {
    await assertStakeholderNameFree(w, clean);
    return await w.insert(entity("stakeholder"), { name: clean, type });
  });
}

export interface GoalInput {
  title: string;
  problem?: string;
  solution?: string;
  motivation?: string;
  visionId?: string | null;
  parentId?: string | null;
  reviewDays?: number;
}

export function addGoal(d: Domain, input: GoalInput): Promise<Row> {
  const title = requireText(input.title, "goal title");
  const review = input.reviewDays;
  if (review !== undefined && !(REVIEW_INTERVALS as readonly number[]).includes(review)) {
    throw new JdoError("USAGE", `--review must be 7, 30 or 90 (got ${review})`);
  }
  const today = todayIn(d.dates());
  return d.store.write((w) =>
    w.insert(entity("goal"), {
      title,
      problem_statement: optionalText(input.problem, "problem statement"),
      solution_vision: optionalText(input.solution, "solution vision"),
      motivation: optionalText(input.motivation, "motivation"),
      vision_id: input.visionId ?? null,
      parent_goal_id: input.parentId ?? null,
      review_interval_days: review ?? null,
      next_review_date: review ? addDays(today, review) : null,
      status: "active",
    })
  );
}

export interface VisionInput {
  title: string;
  narrative: string;
  timeframe?: string;
  metrics?: string[];
  why?: string;
}

export function addVision(d: Domain, input: VisionInput): Promise<Row> {
  const title = requireText(input.title, "vision title");
  const narrative = requireText(input.narrative, "narrative");
  const metrics = (input.metrics ?? []).map((m) => requireText(m, "metric"));
  return d.store.write((w) =>
    w.insert(entity("vision"), {
      title,
      narrative,
      timeframe: optionalText(input.timeframe, "timeframe"),
      metrics: JSON.stringify(metrics),
      why_it_matters: optionalText(input.why, "why it matters"),
      next_review_date: addDays(todayIn(d.dates()), 90),
      status: "active",
    })
  );
}

export function addMilestone(
  d: Domain,
  goalId: string,
  title: string,
  targetDate: string,
  description?: string,
): Promise<Row> {
  const clean = requireText(title, "milestone title");
  return d.store.write((w) =>
    w.insert(entity("milestone"), {
      goal_id: goalId,
      title: clean,
      target_date: targetDate,
      description: optionalText(description, "description"),
      status: "pending",
    })
  );
}

export function addTask(
  d: Domain,
  commitmentId: string,
  title: string,
  scope?: string,
  estimate?: number,
): Promise<Row> {
  const clean = requireText(title, "task title");
  if (estimate !== undefined && (!Number.isFinite(estimate) || estimate < 0)) {
    throw new JdoError("USAGE", `--estimate must be a number of hours ≥ 0`);
  }
  return d.store.write(async (w) => {
    const last = await w.one(
      `SELECT coalesce(max("order"), 0) AS n FROM tasks WHERE commitment_id = ? AND deleted_at IS NULL`,
      [commitmentId],
    );
    const task = await w.insert(entity("task"), {
      commitment_id: commitmentId,
      title: clean,
      // As in the original, a task's scope ("what done means") defaults to its title.
      scope: optionalText(scope, "scope") ?? clean,
      order: Number(last?.n ?? 0) + 1,
      estimated_hours: estimate ?? null,
      status: "pending",
    });
    await logTaskCreated(w, task);
    return task;
  });
}

export function capture(d: Domain, text: string): Promise<Row> {
  const clean = requireText(text, "inbox text");
  return d.store.write((w) => w.insert(entity("inbox"), { text: clean, status: "open" }));
}

/** The status-changing verbs and, per kind, the status each one sets. */
export type Verb = "start" | "complete" | "at-risk" | "abandon";

const TRANSITIONS: Record<Verb, Partial<Record<string, string>>> = {
  start: { commitment: "in_progress", task: "in_progress", milestone: "in_progress" },
  complete: {
    commitment: "completed",
    task: "completed",
    milestone: "completed",
    goal: "achieved",
    vision: "achieved",
    inbox: "triaged",
  },
  "at-risk": { commitment: "at_risk" },
  abandon: {
    commitment: "abandoned",
    task: "skipped",
    milestone: "missed",
    goal: "abandoned",
    vision: "abandoned",
  },
};

const FINAL = new Set(["completed", "abandoned", "achieved", "skipped", "missed", "evolved"]);

/** Completed on time means at or before the due date and time in the commitment's zone. */
export function isOnTime(row: Row, at: Date, fallbackZone: string): boolean {
  return at.getTime() <= dueInstantMs(row, fallbackZone);
}

export function statusPatch(d: Domain, def: EntityDef, row: Row, status: string): Row {
  const now = d.store.clock.now();
  const patch: Row = { status };
  if (status === "completed" && def.name === "commitment") {
    patch.completed_at = now.toISOString();
    patch.completed_on_time = isOnTime(row, now, d.dates().timeZone) ? 1 : 0;
  } else if (status === "completed" && def.name === "milestone") {
    patch.completed_at = now.toISOString();
  } else if (status === "at_risk" && def.name === "commitment" && !row.marked_at_risk_at) {
    patch.marked_at_risk_at = now.toISOString();
  }
  if (def.name === "commitment" && status !== "completed" && row.completed_at) {
    patch.completed_at = null;
    patch.completed_on_time = null;
  }
  // A reopened task's actual hours belong to the completion it no longer has.
  if (def.name === "task" && status !== "completed" && row.actual_hours_category) {
    patch.actual_hours_category = null;
  }
  return patch;
}

/** What completing a task may record besides its status. */
export interface TransitionExtra {
  /** How the time taken compared with the estimate (a task with an estimate only). */
  actual?: ActualHoursCategory;
}

/**
 * Refuses an actual-hours category where the original has none to record:
 * on anything but completing a task that has an estimate.
 */
export function assertActualApplies(verb: Verb, def: EntityDef, row: Row): void {
  if (verb !== "complete" || def.name !== "task") {
    throw new JdoError("USAGE", "--actual applies only to completing a task");
  }
  if (row.estimated_hours === null || row.estimated_hours === undefined) {
    throw new JdoError(
      "USAGE",
      "--actual needs a task with an estimate (set one with jdo edit ID --estimate HOURS)",
    );
  }
}

export function transition(
  d: Domain,
  verb: Verb,
  def: EntityDef,
  row: Row,
  extra: TransitionExtra = {},
): Promise<Row> {
  const status = TRANSITIONS[verb][def.name];
  if (!status) {
    const kinds = Object.keys(TRANSITIONS[verb]).join(", ");
    throw new JdoError(
      "INVALID_INPUT",
      `Cannot ${verb} a ${def.name} (only: ${kinds})`,
    );
  }
  if (row.status === status) {
    throw new JdoError("INVALID_INPUT", `This ${def.name} is already ${status.replace("_", " ")}`);
  }
  // One rule for every verb: a closed item changes only through edit --status.
  if (FINAL.has(String(row.status))) {
    throw new JdoError(
      "INVALID_INPUT",
      `Cannot ${verb} this ${def.name}: it is ${row.status}; use jdo edit --status to reopen it`,
    );
  }
  if (extra.actual !== undefined) assertActualApplies(verb, def, row);
  return d.store.write(async (w) => {
    const patch = statusPatch(d, def, row, status);
    if (extra.actual !== undefined) patch.actual_hours_category = extra.actual;
    const updated = await w.update(def, String(row.id), patch);
    await followStatusChange(w, def.name, updated, status);
    if (def.name === "commitment" && FINAL.has(status)) {
      await followInstanceClosed(w, updated, d.dates());
    }
    if (def.name === "task") {
      await logTaskStatusChange(w, updated, String(row.status), { actual: extra.actual });
    }
    return updated;
  });
}

export function remove(d: Domain, def: EntityDef, id: string): Promise<number> {
  return d.store.write((w) => w.tombstone(def, id));
}
