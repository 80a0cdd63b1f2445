/**
 * The domain tables, described once. Repositories, export/import, the
 * conflict log and the sync engine all derive their column lists from here.
 */
export type EntityName =
  | "stakeholder"
  | "vision"
  | "goal"
  | "milestone"
  | "commitment"
  | "task"
  | "cleanup_plan"
  | "recurring"
  | "task_event"
  | "inbox";

export type FieldType = "text" | "int" | "real" | "bool" | "json";

export interface FieldDef {
  /** Column name, also the JSON key. */
  name: string;
  type: FieldType;
  required?: boolean;
}

export interface ParentLink {
  column: string;
  entity: EntityName;
  /** What deleting the parent does to this row. */
  onDelete: "cascade" | "nullify" | "restrict";
}

export interface EntityDef {
  name: EntityName;
  table: string;
  /** Word used by `jdo list KIND`. */
  plural: string;
  /** The column shown as the row's title. */
  label: string;
  fields: FieldDef[];
  statuses: readonly string[] | null;
  parents: ParentLink[];
  /**
   * Fields that change together and merge as one unit (the status and the
   * timestamps it implies), so a row is never half completed. Every other
   * field is a group of its own.
   */
  linked?: readonly string[];
}

export const COMMON_COLUMNS = [
  "id",
  "created_at",
  "updated_at",
  "version",
  "deleted_at",
] as const;

const text = (name: string, required = false): FieldDef => ({
  name,
  type: "text",
  required,
});

export const ENTITIES: readonly EntityDef[] = [
  {
    name: "stakeholder",
    table: "stakeholders",
    plural: "stakeholders",
    label: "name",
    fields: [
      text("name", true),
      text("type", true),
      text("contact_info"),
      text("notes"),
    ],
    statuses: null,
    parents: [],
  },
  {
    name: "vision",
    table: "visions",
    plural: "visions",
    label: "title",
    fields: [
      text("title", true),
      text("narrative", true),
      text("timeframe"),
      { name: "metrics", type: "json" },
      text("why_it_matters"),
      text("next_review_date"),
      text("status", true),
    ],
    statuses: ["active", "achieved", "evolved", "abandoned"],
    parents: [],
  },
  {
    name: "goal",
    table: "goals",
    plural: "goals",
    label: "title",
    fields: [
      text("title", true),
      text("problem_statement"),
      text("solution_vision"),
      text("motivation"),
      text("vision_id"),
      text("parent_goal_id"),
      { name: "review_interval_days", type: "int" },
      text("next_review_date"),
      text("status", true),
    ],
    statuses: ["active", "on_hold", "achieved", "abandoned"],
    parents: [
      { column: "vision_id", entity: "vision", onDelete: "nullify" },
      { column: "parent_goal_id", entity: "goal", onDelete: "nullify" },
    ],
  },
  {
    name: "milestone",
    table: "milestones",
    plural: "milestones",
    label: "title",
    fields: [
      text("goal_id", true),
      text("title", true),
      text("target_date", true),
      text("description"),
      text("completed_at"),
      text("status", true),
    ],
    linked: ["status", "completed_at"],
    statuses: ["pending", "in_progress", "completed", "missed"],
    parents: [{ column: "goal_id", entity: "goal", onDelete: "cascade" }],
  },
  {
    // Since migration 5: a template that generates commitments on a schedule.
    name: "recurring",
    table: "recurring_commitments",
    plural: "recurring",
    label: "deliverable",
    fields: [
      text("deliverable", true),
      text("stakeholder_id", true),
      text("goal_id"),
      text("due_time", true),
      text("timezone"),
      text("recurrence_type", true),
      { name: "interval", type: "int", required: true },
      { name: "days_of_week", type: "json" },
      { name: "day_of_month", type: "int" },
      { name: "week_of_month", type: "int" },
      { name: "month_of_year", type: "int" },
      text("start_date", true),
      text("end_type", true),
      { name: "end_after_count", type: "int" },
      text("end_by_date"),
      { name: "task_templates", type: "json" },
      text("notes"),
      text("status", true),
    ],
    statuses: ["active", "paused"],
    // The schedule merges as one unit: a merged pattern is always one that
    // some device wrote whole (a weekly type never meets a monthly day).
    linked: [
      "recurrence_type",
      "interval",
      "days_of_week",
      "day_of_month",
      "week_of_month",
      "month_of_year",
      "start_date",
      "end_type",
      "end_after_count",
      "end_by_date",
    ],
    parents: [
      { column: "stakeholder_id", entity: "stakeholder", onDelete: "restrict" },
      { column: "goal_id", entity: "goal", onDelete: "nullify" },
    ],
  },
  {
    name: "commitment",
    table: "commitments",
    plural: "commitments",
    label: "deliverable",
    fields: [
      text("deliverable", true),
      text("stakeholder_id", true),
      text("due_date", true),
      text("due_time", true),
      text("timezone"),
      text("goal_id"),
      text("milestone_id"),
      text("notes"),
      text("status", true),
      text("completed_at"),
      { name: "completed_on_time", type: "bool" },
      text("marked_at_risk_at"),
      // Since migration 5: the recurring commitment this one is an instance of.
      text("recurring_id"),
    ],
    statuses: ["pending", "in_progress", "at_risk", "completed", "abandoned"],
    linked: ["status", "completed_at", "completed_on_time", "marked_at_risk_at"],
    parents: [
      { column: "stakeholder_id", entity: "stakeholder", onDelete: "restrict" },
      { column: "goal_id", entity: "goal", onDelete: "nullify" },
      { column: "milestone_id", entity: "milestone", onDelete: "nullify" },
      // Deleting the template keeps its instances, as the original does.
      { column: "recurring_id", entity: "recurring", onDelete: "nullify" },
    ],
  },
  {
    name: "task",
    table: "tasks",
    plural: "tasks",
    label: "title",
    fields: [
      text("commitment_id", true),
      text("title", true),
      text("scope"),
      { name: "order", type: "int" },
      { name: "estimated_hours", type: "real" },
      text("status", true),
      // Since migration 4: the "Notify <stakeholder>" task that marking at risk adds.
      { name: "is_notification_task", type: "bool" },
      // Since migration 6: how the time taken compared with the estimate (ACTUAL_HOURS_CATEGORIES).
      text("actual_hours_category"),
    ],
    statuses: ["pending", "in_progress", "completed", "skipped"],
    parents: [
      { column: "commitment_id", entity: "commitment", onDelete: "cascade" },
    ],
  },
  {
    // Since migration 4: the honor-your-word recovery of an at-risk commitment.
    name: "cleanup_plan",
    table: "cleanup_plans",
    plural: "cleanup-plans",
    label: "impact_description",
    fields: [
      text("commitment_id", true),
      text("impact_description"),
      { name: "mitigation_actions", type: "json" },
      text("notification_task_id"),
      text("status", true),
      text("completed_at"),
      text("skipped_reason"),
    ],
    statuses: ["planned", "in_progress", "completed", "skipped", "cancelled"],
    linked: ["status", "completed_at", "skipped_reason"],
    parents: [
      { column: "commitment_id", entity: "commitment", onDelete: "cascade" },
      { column: "notification_task_id", entity: "task", onDelete: "nullify" },
    ],
  },
  {
    // Since migration 6: the task history, one entry per task event, never
    // changed once written. No parent link: like the original's, it outlives
    // the task (and the commitment) it is about.
    name: "task_event",
    table: "task_history",
    plural: "task-history",
    label: "event_type",
    fields: [
      text("task_id", true),
      text("commitment_id", true),
      text("event_type", true),
      text("previous_status"),
      text("new_status", true),
      { name: "estimated_hours", type: "real" },
      text("actual_hours_category"),
      text("notes"),
    ],
    statuses: null,
    parents: [],
  },
  {
    name: "inbox",
    table: "inbox_items",
    plural: "inbox",
    label: "text",
    fields: [text("text", true), text("status", true)],
    statuses: ["open", "triaged"],
    parents: [],
  },
];

const BY_NAME = new Map(ENTITIES.map((e) => [e.name, e]));

export function entity(name: EntityName): EntityDef {
  const def = BY_NAME.get(name);
  if (!def) throw new Error(`Unknown entity ${name}`);
  return def;
}

export function isEntityName(name: string): name is EntityName {
  return BY_NAME.has(name as EntityName);
}

/** All columns of an entity's table, in table order (the field versions last). */
export function columnsOf(def: EntityDef): string[] {
  return [...COMMON_COLUMNS, ...def.fields.map((f) => f.name), FIELD_VERSIONS];
}

/**
 * The column holding a row's per-field versions: a JSON object from group
 * name to the hybrid-logical-clock version of that group's last write. The
 * row's `version` is the greatest of them.
 */
export const FIELD_VERSIONS = "_fv";

/** The group that records deletion (a tombstone is a write of `deleted_at`). */
export const DELETED_GROUP = "deleted_at";

/** A unit of merging: columns that take their values from the same write. */
export interface FieldGroup {
  name: string;
  columns: readonly string[];
}

const GROUPS = new Map<string, readonly FieldGroup[]>();

/** The merge groups of an entity: linked fields together, every other field alone, then deletion. */
export function groupsOf(def: EntityDef): readonly FieldGroup[] {
  let groups = GROUPS.get(def.table);
  if (!groups) {
    const linked = def.linked ?? [];
    const list: FieldGroup[] = [];
    if (linked.length) list.push({ name: linked[0], columns: linked });
    for (const f of def.fields) {
      if (!linked.includes(f.name)) list.push({ name: f.name, columns: [f.name] });
    }
    list.push({ name: DELETED_GROUP, columns: [DELETED_GROUP] });
    groups = list;
    GROUPS.set(def.table, groups);
  }
  return groups;
}

/** The conflict log's merge groups: a record changes only when it is resolved or dismissed. */
export const CONFLICT_GROUPS: readonly FieldGroup[] = [
  { name: "resolved_at", columns: ["resolved_at"] },
  { name: DELETED_GROUP, columns: [DELETED_GROUP] },
];

/** Merge groups of any synced table, by table name. */
export function groupsOfTable(table: string): readonly FieldGroup[] {
  if (table === "_sync_conflicts") return CONFLICT_GROUPS;
  const def = ENTITIES.find((e) => e.table === table);
  if (!def) throw new Error(`Not a synced table: ${table}`);
  return groupsOf(def);
}

/** The group a column belongs to (undefined for id, timestamps and versions). */
export function groupOfColumn(def: EntityDef, column: string): FieldGroup | undefined {
  return groupsOf(def).find((g) => g.columns.includes(column));
}

/** SQL identifier quoting ("order" is a keyword). */
export function q(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/** A row as stored: column name → SQL value. */
export type Row = Record<string, string | number | null>;
