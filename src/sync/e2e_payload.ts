/**
 * What a sealed row's ciphertext holds (envelope `e2`, src/sync/e2e_envelope.ts):
 * a JSON object of the row's non-NULL sealed columns, each under a short
 * code — its place in its table's PAYLOAD_COLUMNS list, in base 36 — instead
 * of its name. A listed column a payload lacks is NULL. A column the list
 * does not have (a newer schema's, until it is listed) goes under its name,
 * NULL included, so that a reader keeps it as it was.
 *
 * Why: the names and the NULLs were half of an `e1` payload (a benchmark
 * commitment's 456 bytes are 236 here, before sealing and base64), and the
 * bytes are what the cloud applies and a new device's replica replays: a
 * 100k-row encrypted cloud is 120 MB against 149 MB with `e1` and 94 MB
 * plain (docs/DESIGN.md, docs/BENCHMARKS.md).
 *
 * `e1` payloads (every column under its name) still open: readers turn them
 * into this form (recodeE1Payload), and rowOfPayload reads both (a name is
 * never a code).
 */
import type { Row } from "../db/schema.ts";

/**
 * Each synced table's sealed columns (all but id, version, _fv and the
 * cloud's own), in code order. Append only: a code, once written to a
 * cloud, must keep meaning its column. A column missing here is sealed
 * under its name (e2e_payload_test.ts checks that every column of the
 * schema has a code).
 */
export const PAYLOAD_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  stakeholders: ["created_at", "updated_at", "deleted_at", "name", "type", "contact_info", "notes"],
  visions: [
    "created_at",
    "updated_at",
    "deleted_at",
    "title",
    "narrative",
    "timeframe",
    "metrics",
    "why_it_matters",
    "next_review_date",
    "status",
  ],
  goals: [
    "created_at",
    "updated_at",
    "deleted_at",
    "title",
    "problem_statement",
    "solution_vision",
    "motivation",
    "vision_id",
    "parent_goal_id",
    "review_interval_days",
    "next_review_date",
    "status",
  ],
  milestones: [
    "created_at",
    "updated_at",
    "deleted_at",
    "goal_id",
    "title",
    "target_date",
    "description",
    "completed_at",
    "status",
  ],
  commitments: [
    "created_at",
    "updated_at",
    "deleted_at",
    "deliverable",
    "stakeholder_id",
    "due_date",
    "due_time",
    "timezone",
    "goal_id",
    "milestone_id",
    "notes",
    "status",
    "completed_at",
    "completed_on_time",
    "marked_at_risk_at",
    "recurring_id",
  ],
  tasks: [
    "created_at",
    "updated_at",
    "deleted_at",
    "commitment_id",
    "title",
    "scope",
    "order",
    "estimated_hours",
    "status",
    "is_notification_task",
    "actual_hours_category",
  ],
  inbox_items: ["created_at", "updated_at", "deleted_at", "text", "status"],
  _sync_conflicts: [
    "entity",
    "row_id",
    "field",
    "kind",
    "winner",
    "local_version",
    "remote_version",
    "local_row",
    "remote_row",
    "kept_value",
    "lost_value",
    "kept_version",
    "lost_version",
    "kept_device",
    "lost_device",
    "detected_by",
    "resolved_at",
    "created_at",
    "updated_at",
    "deleted_at",
  ],
  cleanup_plans: [
    "created_at",
    "updated_at",
    "deleted_at",
    "commitment_id",
    "impact_description",
    "mitigation_actions",
    "notification_task_id",
    "status",
    "completed_at",
    "skipped_reason",
  ],
  recurring_commitments: [
    "created_at",
    "updated_at",
    "deleted_at",
    "deliverable",
    "stakeholder_id",
    "goal_id",
    "due_time",
    "timezone",
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
    "task_templates",
    "notes",
    "status",
  ],
  task_history: [
    "created_at",
    "updated_at",
    "deleted_at",
    "task_id",
    "commitment_id",
    "event_type",
    "previous_status",
    "new_status",
    "estimated_hours",
    "actual_hours_category",
    "notes",
  ],
};

/** A table's column → code, and code → column. */
interface Codes {
  code: Map<string, string>;
  column: Map<string, string>;
}

const codesByTable = new Map<string, Codes>();

function codesOf(table: string): Codes {
  let codes = codesByTable.get(table);
  if (!codes) {
    const columns = PAYLOAD_COLUMNS[table] ?? [];
    codes = {
      code: new Map(columns.map((c, i) => [c, i.toString(36)])),
      column: new Map(columns.map((c, i) => [i.toString(36), c])),
    };
    codesByTable.set(table, codes);
  }
  return codes;
}

/**
 * The key a column is sealed under: its code, or its name when it has none
 * (a name is never a code: codes are one or two of [0-9a-z], every sealed
 * column's name is longer).
 */
export function payloadKey(table: string, column: string): string {
  return codesOf(table).code.get(column) ?? column;
}

/** SQL (row alias `c`) of the payload text of `columns`: NULLs left out, by concat_ws. */
export function payloadSql(table: string, columns: string[]): string {
  const { code } = codesOf(table);
  const members = columns.map((c) => {
    const column = `c."${c.replaceAll('"', '""')}"`;
    const key = JSON.stringify(code.get(c) ?? c).replaceAll("'", "''");
    const member = `'${key}:' || json_quote(${column})`;
    return code.has(c) ? `CASE WHEN ${column} IS NULL THEN NULL ELSE ${member} END` : member;
  });
  return `'{' || concat_ws(',', ${members.join(", ")}) || '}'`;
}

/** The payload text of a row's `columns`, as payloadSql writes it. */
export function payloadText(table: string, row: Row, columns: string[]): string {
  const { code } = codesOf(table);
  const payload: Record<string, unknown> = {};
  for (const column of columns) {
    const raw = (row[column] as unknown) ?? null;
    const value = typeof raw === "bigint" ? Number(raw) : raw;
    const key = code.get(column);
    if (key === undefined) payload[column] = value;
    else if (value !== null) payload[key] = value;
  }
  return JSON.stringify(payload);
}

/**
 * The columns a payload holds, by name; every column of the table's list
 * that it lacks is NULL. Reads an `e1` payload too: its keys are names, and
 * no name is a code.
 */
export function rowOfPayload(table: string, text: string): Row {
  const payload = JSON.parse(text) as Row;
  const row: Row = {};
  for (const column of PAYLOAD_COLUMNS[table] ?? []) row[column] = null;
  const { column } = codesOf(table);
  for (const [key, value] of Object.entries(payload)) row[column.get(key) ?? key] = value;
  return row;
}

/** An `e1` payload (names, NULLs kept) in this form. */
export function recodeE1Payload(table: string, text: string): string {
  const payload = JSON.parse(text) as Row;
  return payloadText(table, payload, Object.keys(payload));
}
