/**
 * `jdo show` for a person: one aligned "Label  value" line per field that has
 * a value, names instead of ids, times on the viewer's clock, and none of the
 * sync bookkeeping (`version`, the HLC). `show --json` prints the record as is.
 */
import type { EntityDef } from "../db/schema.ts";
import type { DateContext } from "../domain/dates.ts";
import { localTime } from "./local_time.ts";
import type { JsonRecord, Progress } from "../domain/records.ts";
import { dueLabel, dueText } from "./due_label.ts";
import { safeLine, safeText } from "./safe_text.ts";
import { rollupText, type TimeRollup } from "../domain/time.ts";

export interface RecordViewOptions {
  dates: DateContext;
  /** Short ids of the record, its children and the rows it refers to. */
  shortIds: Map<string, string>;
  /** The name or title of each row the record refers to, by id. */
  names: Map<string, string>;
  bold?: (text: string) => string;
}

/** Fields a person does not read: sync bookkeeping, and fields shown elsewhere. */
const HIDDEN = new Set([
  "id",
  "kind",
  "version",
  "stakeholder_id",
  "due_time",
  "timezone",
  "tasks",
  "milestones",
]);

const LABELS: Record<string, string> = {
  stakeholder: "To",
  due_date: "Due",
  goal_id: "Goal",
  milestone_id: "Milestone",
  vision_id: "Vision",
  parent_goal_id: "Parent goal",
  commitment_id: "Commitment",
  recurring_id: "Recurring",
  completed_on_time: "On time",
  marked_at_risk_at: "Marked at risk",
  created_at: "Created",
  updated_at: "Updated",
  completed_at: "Completed",
  deleted_at: "Deleted",
  problem_statement: "Problem",
  solution_vision: "Solution",
  why_it_matters: "Why it matters",
  review_interval_days: "Review every",
  next_review_date: "Next review",
  target_date: "Target",
  estimated_hours: "Estimate",
  actual_hours_category: "Actual time",
  time: "Hours",
  contact_info: "Contact",
};

function labelOf(key: string): string {
  const words = LABELS[key] ?? key.replaceAll("_", " ");
  return words[0].toUpperCase() + words.slice(1);
}

function valueOf(key: string, record: JsonRecord, view: RecordViewOptions): string {
  const value = record[key];
  const zone = view.dates.timeZone;
  if (key === "due_date" && record.due_time !== undefined) {
    const open = !["completed", "abandoned"].includes(String(record.status));
    const when = dueText(record, zone);
    return open ? `${when}, ${dueLabel(record, view.dates).text}` : when;
  }
  if (key.endsWith("_at")) return localTime(value, zone);
  if (key.endsWith("_id")) {
    const id = String(value);
    const name = view.names.get(id);
    const short = view.shortIds.get(id) ?? id.slice(0, 8);
    return name === undefined ? short : `${safeLine(name)} (${short})`;
  }
  if (key === "status") return String(value).replace("_", " ");
  if (key === "progress") return progressText(value as Progress);
  if (key === "review_interval_days") return `${value} days`;
  if (key === "estimated_hours") return `${value} h`;
  if (key === "actual_hours_category") return String(value).replace("_", " ");
  if (key === "time") return rollupText(value as TimeRollup) ?? "";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value)) return value.map((v) => safeLine(String(v))).join("; ");
  if (typeof value === "object") return safeLine(JSON.stringify(value));
  return safeText(String(value));
}

/** A goal's progress in words: "1 of 3 done (milestones and commitments)". */
export function progressText(p: Progress): string {
  if (p.total === 0) return "nothing to do yet (no milestones or commitments)";
  return `${p.done} of ${p.total} done (milestones and commitments)`;
}

/** The lines `jdo show` prints for a record (without colour unless `bold` is given). */
export function recordView(def: EntityDef, record: JsonRecord, view: RecordViewOptions): string[] {
  const bold = view.bold ?? ((s: string) => s);
  const id = String(record.id);
  const lines = [
    bold(`${def.name[0].toUpperCase()}${def.name.slice(1)} ${view.shortIds.get(id) ?? id}`),
  ];
  const fields: [string, string][] = [];
  // What it is and when first, the bookkeeping times last.
  const first = [def.label, "status", "stakeholder", "due_date"];
  const last = ["created_at", "updated_at", "deleted_at"];
  const keys = [
    ...first.filter((k) => k in record),
    ...Object.keys(record).filter((k) => !first.includes(k) && !last.includes(k)),
    ...last.filter((k) => k in record),
  ];
  for (const key of keys) {
    const value = record[key];
    if (HIDDEN.has(key) || value === null || value === undefined) continue;
    // Hours only once some task has an estimate.
    if (key === "time" && rollupText(value as TimeRollup) === null) continue;
    fields.push([labelOf(key), valueOf(key, record, view)]);
  }
  const width = Math.max(0, ...fields.map(([label]) => label.length)) + 2;
  const indent = " ".repeat(width + 2);
  for (const [label, value] of fields) {
    lines.push(`  ${bold(label.padEnd(width))}${value.replaceAll("\n", `\n${indent}`)}`);
  }
  for (const key of ["tasks", "milestones"]) {
    const children = record[key] as JsonRecord[] | undefined;
    if (!children) continue;
    lines.push(bold(`${labelOf(key)}${children.length === 0 ? ": none" : ""}`));
    for (const child of children) {
      const short = view.shortIds.get(String(child.id)) ?? String(child.id);
      const status = String(child.status).replace("_", " ").padEnd(11);
      const extra = child.target_date
        ? `  (target ${child.target_date})`
        : child.estimated_hours
        ? `  (${child.estimated_hours} h)`
        : "";
      lines.push(`  ${short}  ${status} ${safeLine(String(child.title))}${extra}`);
    }
  }
  return lines;
}
