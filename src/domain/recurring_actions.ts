/**
 * The recurring-commitment commands of the domain: add a template (with its
 * first instance) and pause or resume one. Generation itself is in
 * src/domain/recurring.ts.
 */
import { entity, type Row } from "../db/schema.ts";
import { JdoError } from "../errors.ts";
import { stakeholderByName } from "./actions.ts";
import { DEFAULT_DUE_TIME } from "./due.ts";
import { type Domain, requireText } from "./input.ts";
import type { Schedule } from "./recurrence.ts";
import {
  assertSchedule,
  type Generated,
  generateNext,
  scheduleColumns,
  type TaskTemplate,
} from "./recurring.ts";

export interface RecurringInput {
  deliverable: string;
  stakeholder: string;
  schedule: Schedule;
  dueTime?: string;
  goalId?: string | null;
  notes?: string | null;
  tasks?: TaskTemplate[];
}

export interface Added {
  template: Row;
  first: Generated | null;
}

/** Adds a template and, as the original does, its first instance at once (however far ahead). */
export function addRecurring(d: Domain, input: RecurringInput): Promise<Added> {
  const deliverable = requireText(input.deliverable, "deliverable");
  assertSchedule(input.schedule);
  const tasks = (input.tasks ?? []).map((t, i) => ({
    ...t,
    title: requireText(t.title, "task title"),
    order: t.order ?? i + 1,
  }));
  return d.store.write(async (w) => {
    const stakeholder = await stakeholderByName(w, input.stakeholder);
    const template = await w.insert(entity("recurring"), {
      deliverable,
      stakeholder_id: stakeholder.id,
      goal_id: input.goalId ?? null,
      due_time: input.dueTime ?? DEFAULT_DUE_TIME,
      timezone: d.dates().timeZone,
      ...scheduleColumns(input.schedule),
      task_templates: JSON.stringify(tasks),
      notes: input.notes ?? null,
      status: "active",
    });
    const first = await generateNext(w, template, d.dates(), true);
    return { template, first };
  });
}

/** Pauses (no new instances) or resumes (the next one when due) a template. */
export async function setRecurringStatus(
  d: Domain,
  template: Row,
  status: "active" | "paused",
): Promise<Row> {
  if (template.status === status) {
    throw new JdoError("INVALID_INPUT", `This recurring commitment is already ${status}`);
  }
  return await d.store.write(async (w) => {
    const updated = await w.update(entity("recurring"), String(template.id), { status });
    if (status === "active") await generateNext(w, updated, d.dates());
    return updated;
  });
}
