import { CONFLICT_GROUPS, ENTITIES, FIELD_VERSIONS, groupsOf } from "./schema.ts";

/**
 * Numbered schema migrations. The working database and the cloud database
 * share the domain tables; each side adds the bookkeeping tables it needs.
 * A migration never changes once released: add a new one instead.
 */
export type Target = "local" | "cloud";

export interface Migration {
  version: number;
  name: string;
  statements(target: Target): string[];
}

const COMMON = `id TEXT PRIMARY KEY NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version TEXT NOT NULL,
  deleted_at TEXT`;

const DOMAIN_TABLES_V1 = [
  `CREATE TABLE IF NOT EXISTS stakeholders (${COMMON},
  name TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('person','team','organization','self')),
  contact_info TEXT,
  notes TEXT)`,
  `CREATE TABLE IF NOT EXISTS visions (${COMMON},
  title TEXT NOT NULL,
  narrative TEXT NOT NULL,
  timeframe TEXT,
  metrics TEXT,
  why_it_matters TEXT,
  next_review_date TEXT,
  status TEXT NOT NULL CHECK (status IN ('active','achieved','evolved','abandoned')))`,
  `CREATE TABLE IF NOT EXISTS goals (${COMMON},
  title TEXT NOT NULL,
  problem_statement TEXT,
  solution_vision TEXT,
  motivation TEXT,
  vision_id TEXT REFERENCES visions(id) DEFERRABLE INITIALLY DEFERRED,
  parent_goal_id TEXT REFERENCES goals(id) DEFERRABLE INITIALLY DEFERRED,
  review_interval_days INTEGER,
  next_review_date TEXT,
  status TEXT NOT NULL CHECK (status IN ('active','on_hold','achieved','abandoned')))`,
  `CREATE TABLE IF NOT EXISTS milestones (${COMMON},
  goal_id TEXT NOT NULL REFERENCES goals(id) DEFERRABLE INITIALLY DEFERRED,
  title TEXT NOT NULL,
  target_date TEXT NOT NULL,
  description TEXT,
  completed_at TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending','in_progress','completed','missed')))`,
  `CREATE TABLE IF NOT EXISTS commitments (${COMMON},
  deliverable TEXT NOT NULL,
  stakeholder_id TEXT NOT NULL REFERENCES stakeholders(id) DEFERRABLE INITIALLY DEFERRED,
  due_date TEXT NOT NULL,
  due_time TEXT NOT NULL,
  timezone TEXT,
  goal_id TEXT REFERENCES goals(id) DEFERRABLE INITIALLY DEFERRED,
  milestone_id TEXT REFERENCES milestones(id) DEFERRABLE INITIALLY DEFERRED,
  notes TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending','in_progress','at_risk','completed','abandoned')),
  completed_at TEXT,
  completed_on_time INTEGER,
  marked_at_risk_at TEXT)`,
  `CREATE TABLE IF NOT EXISTS tasks (${COMMON},
  commitment_id TEXT NOT NULL REFERENCES commitments(id) DEFERRABLE INITIALLY DEFERRED,
  title TEXT NOT NULL,
  scope TEXT,
  "order" INTEGER,
  estimated_hours REAL,
  status TEXT NOT NULL CHECK (status IN ('pending','in_progress','completed','skipped')))`,
  `CREATE TABLE IF NOT EXISTS inbox_items (${COMMON},
  text TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open','triaged')))`,
];

export const SYNCED_TABLES_V1 = [
  "stakeholders",
  "visions",
  "goals",
  "milestones",
  "commitments",
  "tasks",
  "inbox_items",
  "_sync_conflicts",
];

/** Every synced table as of the latest migration. */
export const SYNCED_TABLES = [
  ...SYNCED_TABLES_V1,
  "cleanup_plans",
  "recurring_commitments",
  "task_history",
];

const CONFLICTS_V1 = `CREATE TABLE IF NOT EXISTS _sync_conflicts (
  id TEXT PRIMARY KEY NOT NULL,
  entity TEXT NOT NULL,
  row_id TEXT NOT NULL,
  winner TEXT NOT NULL CHECK (winner IN ('local','remote')),
  local_version TEXT NOT NULL,
  remote_version TEXT NOT NULL,
  local_row TEXT NOT NULL,
  remote_row TEXT NOT NULL,
  detected_by TEXT NOT NULL,
  resolved_at TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version TEXT NOT NULL,
  deleted_at TEXT)`;

/**
 * The conflict log as of migration 2: one record per lost field value (or a
 * whole row, for records made before it), open until restored or dismissed.
 */
const CONFLICTS_V2 = `CREATE TABLE _sync_conflicts_v2 (
  id TEXT PRIMARY KEY NOT NULL,
  entity TEXT NOT NULL,
  row_id TEXT NOT NULL,
  field TEXT,
  kind TEXT NOT NULL CHECK (kind IN ('field','delete','row')),
  winner TEXT NOT NULL CHECK (winner IN ('local','remote')),
  local_version TEXT NOT NULL,
  remote_version TEXT NOT NULL,
  local_row TEXT NOT NULL,
  remote_row TEXT NOT NULL,
  kept_value TEXT,
  lost_value TEXT,
  kept_version TEXT,
  lost_version TEXT,
  kept_device TEXT,
  lost_device TEXT,
  detected_by TEXT NOT NULL,
  resolved_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version TEXT NOT NULL,
  deleted_at TEXT,
  ${FIELD_VERSIONS} TEXT`;

/** Field-version JSON for rows written before migration 2: every group at the row's version. */
function everyGroupAt(groups: readonly string[]): string {
  return `json_object(${groups.map((g) => `'${g}', version`).join(", ")})`;
}

/** Tables, and columns of older tables, that later migrations added: migration 2 predates them. */
const ADDED_AFTER_V2 = {
  tables: new Set(["cleanup_plans", "recurring_commitments", "task_history"]),
  columns: new Set(["is_notification_task", "recurring_id", "actual_hours_category"]),
};

function perFieldVersions(target: Target): string[] {
  const cloudExtra = target === "cloud" ? ",\n  _seq INTEGER NOT NULL DEFAULT 0,\n  _by TEXT" : "";
  const statements: string[] = [];
  for (const def of ENTITIES) {
    if (ADDED_AFTER_V2.tables.has(def.table)) continue;
    const groups = groupsOf(def).filter((g) =>
      !g.columns.every((c) => ADDED_AFTER_V2.columns.has(c))
    );
    statements.push(
      `ALTER TABLE ${def.table} ADD COLUMN ${FIELD_VERSIONS} TEXT`,
      `UPDATE ${def.table} SET ${FIELD_VERSIONS} = ${everyGroupAt(groups.map((g) => g.name))}`,
    );
    if (target === "cloud") statements.push(`ALTER TABLE ${def.table} ADD COLUMN _by TEXT`);
  }
  const copied = `id, entity, row_id, winner, local_version, remote_version, local_row,
  remote_row, detected_by, created_at, updated_at, version, deleted_at`;
  statements.push(
    `${CONFLICTS_V2}${cloudExtra})`,
    // Records of the row-level merge stay open: their losing rows were never
    // looked at by anybody, and restore can still bring them back.
    `INSERT INTO _sync_conflicts_v2 (${copied}, kind, ${FIELD_VERSIONS}${
      target === "cloud" ? ", _seq" : ""
    })
SELECT ${copied}, 'row', ${everyGroupAt(CONFLICT_GROUPS.map((g) => g.name))}${
      target === "cloud" ? ", _seq" : ""
    }
FROM _sync_conflicts`,
    `DROP TABLE _sync_conflicts`,
    `ALTER TABLE _sync_conflicts_v2 RENAME TO _sync_conflicts`,
    `CREATE INDEX IF NOT EXISTS _sync_conflicts_row ON _sync_conflicts(entity, row_id)`,
  );
  if (target === "cloud") {
    statements.push(`CREATE INDEX IF NOT EXISTS _sync_conflicts_seq ON _sync_conflicts(_seq, id)`);
  } else {
    // Groups edited here since the row was last pushed, each with the version
    // it had before the first such edit: a remote version other than that
    // base is a concurrent edit of the same field.
    statements.push(`ALTER TABLE _sync_outbox ADD COLUMN base TEXT`);
  }
  return statements;
}

const DEVICE_COLUMNS = `id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  jdo_version TEXT NOT NULL,
  first_sync_at TEXT NOT NULL,
  last_sync_at TEXT NOT NULL,
  clock_offset_ms INTEGER NOT NULL`;

/** Every device that synced with the cloud: each device writes only its own row. */
const DEVICES_CLOUD = `CREATE TABLE IF NOT EXISTS _jdo_devices (${DEVICE_COLUMNS})`;
/** This device's copy of the cloud's device list, refreshed at each sync. */
const DEVICES_LOCAL = `CREATE TABLE IF NOT EXISTS _sync_devices (${DEVICE_COLUMNS})`;

/**
 * Migration 4: the honor-your-word workflow. Cleanup plans are a synced
 * table like the others (bookkeeping columns, per-field versions, and on the
 * cloud the change sequence and author); tasks learn which one is the
 * stakeholder notification.
 */
function honorYourWord(target: Target): string[] {
  const cloudExtra = target === "cloud" ? ",\n  _seq INTEGER NOT NULL DEFAULT 0,\n  _by TEXT" : "";
  return [
    `CREATE TABLE IF NOT EXISTS cleanup_plans (${COMMON},
  commitment_id TEXT NOT NULL REFERENCES commitments(id) DEFERRABLE INITIALLY DEFERRED,
  impact_description TEXT,
  mitigation_actions TEXT,
  notification_task_id TEXT REFERENCES tasks(id) DEFERRABLE INITIALLY DEFERRED,
  status TEXT NOT NULL CHECK (status IN ('planned','in_progress','completed','skipped','cancelled')),
  completed_at TEXT,
  skipped_reason TEXT,
  ${FIELD_VERSIONS} TEXT${cloudExtra})`,
    target === "cloud"
      ? `CREATE INDEX IF NOT EXISTS cleanup_plans_seq ON cleanup_plans(_seq, id)`
      : `CREATE INDEX IF NOT EXISTS cleanup_plans_commitment ON cleanup_plans(commitment_id)`,
    `ALTER TABLE tasks ADD COLUMN is_notification_task INTEGER`,
    // Rows written before: the new field's group at the row's version, like migration 2 did.
    `UPDATE tasks SET ${FIELD_VERSIONS} = json_set(coalesce(${FIELD_VERSIONS}, '{}'), '$.is_notification_task', version)`,
  ];
}

/**
 * Migration 5: recurring commitments. The templates are a synced table like
 * the others, their task templates a JSON column (copied whole into each
 * instance, merged as one field); commitments learn which template made them.
 * Self-contained: it depends on no migration after 4.
 */
function recurringCommitments(target: Target): string[] {
  const cloudExtra = target === "cloud" ? ",\n  _seq INTEGER NOT NULL DEFAULT 0,\n  _by TEXT" : "";
  return [
    `CREATE TABLE IF NOT EXISTS recurring_commitments (${COMMON},
  deliverable TEXT NOT NULL,
  stakeholder_id TEXT NOT NULL REFERENCES stakeholders(id) DEFERRABLE INITIALLY DEFERRED,
  goal_id TEXT REFERENCES goals(id) DEFERRABLE INITIALLY DEFERRED,
  due_time TEXT NOT NULL,
  timezone TEXT,
  recurrence_type TEXT NOT NULL CHECK (recurrence_type IN ('daily','weekly','monthly','yearly')),
  interval INTEGER NOT NULL,
  days_of_week TEXT,
  day_of_month INTEGER,
  week_of_month INTEGER,
  month_of_year INTEGER,
  start_date TEXT NOT NULL,
  end_type TEXT NOT NULL CHECK (end_type IN ('never','after_count','by_date')),
  end_after_count INTEGER,
  end_by_date TEXT,
  task_templates TEXT,
  notes TEXT,
  status TEXT NOT NULL CHECK (status IN ('active','paused')),
  ${FIELD_VERSIONS} TEXT${cloudExtra})`,
    target === "cloud"
      ? `CREATE INDEX IF NOT EXISTS recurring_commitments_seq ON recurring_commitments(_seq, id)`
      : `CREATE INDEX IF NOT EXISTS recurring_commitments_stakeholder ON recurring_commitments(stakeholder_id)`,
    `ALTER TABLE commitments ADD COLUMN recurring_id TEXT REFERENCES recurring_commitments(id) DEFERRABLE INITIALLY DEFERRED`,
    // Rows written before: the new field's group at the row's version, like migration 4 did.
    `UPDATE commitments SET ${FIELD_VERSIONS} = json_set(coalesce(${FIELD_VERSIONS}, '{}'), '$.recurring_id', version)`,
    ...(target === "local"
      ? [`CREATE INDEX IF NOT EXISTS commitments_recurring ON commitments(recurring_id)`]
      : []),
  ];
}

/**
 * Migration 6: time tracking. The task history is a synced table like the
 * others (bookkeeping columns, per-field versions, and on the cloud the
 * change sequence and author); tasks record how the time taken compared with
 * the estimate.
 */
function timeTracking(target: Target): string[] {
  const cloudExtra = target === "cloud" ? ",\n  _seq INTEGER NOT NULL DEFAULT 0,\n  _by TEXT" : "";
  const hours = "'much_shorter','shorter','on_target','longer','much_longer'";
  const statuses = "'pending','in_progress','completed','skipped'";
  return [
    `CREATE TABLE IF NOT EXISTS task_history (${COMMON},
  task_id TEXT NOT NULL,
  commitment_id TEXT NOT NULL,
  event_type TEXT NOT NULL CHECK (event_type IN ('created','started','completed','skipped','abandoned','reopened')),
  previous_status TEXT CHECK (previous_status IN (${statuses})),
  new_status TEXT NOT NULL CHECK (new_status IN (${statuses})),
  estimated_hours REAL,
  actual_hours_category TEXT CHECK (actual_hours_category IN (${hours})),
  notes TEXT,
  ${FIELD_VERSIONS} TEXT${cloudExtra})`,
    ...(target === "cloud"
      ? [`CREATE INDEX IF NOT EXISTS task_history_seq ON task_history(_seq, id)`]
      : [
        `CREATE INDEX IF NOT EXISTS task_history_task ON task_history(task_id, created_at)`,
        `CREATE INDEX IF NOT EXISTS task_history_commitment ON task_history(commitment_id, created_at)`,
        `CREATE INDEX IF NOT EXISTS task_history_event ON task_history(event_type, created_at)`,
      ]),
    `ALTER TABLE tasks ADD COLUMN actual_hours_category TEXT CHECK (actual_hours_category IN (${hours}))`,
    // Rows written before: the new field's group at the row's version, like migration 4 did.
    `UPDATE tasks SET ${FIELD_VERSIONS} = json_set(coalesce(${FIELD_VERSIONS}, '{}'), '$.actual_hours_category', version)`,
  ];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "domain tables, sync bookkeeping",
    statements(target) {
      const shared = [...DOMAIN_TABLES_V1, CONFLICTS_V1];
      if (target === "local") {
        return [
          ...shared,
          `CREATE INDEX IF NOT EXISTS commitments_due ON commitments(due_date, due_time) WHERE deleted_at IS NULL`,
          `CREATE INDEX IF NOT EXISTS tasks_commitment ON tasks(commitment_id)`,
          `CREATE INDEX IF NOT EXISTS milestones_goal ON milestones(goal_id)`,
          `CREATE INDEX IF NOT EXISTS commitments_goal ON commitments(goal_id)`,
          `CREATE INDEX IF NOT EXISTS commitments_milestone ON commitments(milestone_id)`,
          `CREATE INDEX IF NOT EXISTS commitments_stakeholder ON commitments(stakeholder_id)`,
          `CREATE INDEX IF NOT EXISTS goals_vision ON goals(vision_id)`,
          `CREATE INDEX IF NOT EXISTS goals_parent ON goals(parent_goal_id)`,
          `CREATE TABLE IF NOT EXISTS _sync_state (key TEXT PRIMARY KEY NOT NULL, value TEXT)`,
          `CREATE TABLE IF NOT EXISTS _sync_outbox (
  entity TEXT NOT NULL,
  id TEXT NOT NULL,
  version TEXT NOT NULL,
  PRIMARY KEY (entity, id))`,
        ];
      }
      // The cloud stamps every row with a server change sequence so that a
      // device pulls only what changed since its watermark.
      return [
        ...shared,
        ...SYNCED_TABLES_V1.flatMap((table) => [
          `ALTER TABLE ${table} ADD COLUMN _seq INTEGER NOT NULL DEFAULT 0`,
          `CREATE INDEX IF NOT EXISTS ${table}_seq ON ${table}(_seq, id)`,
        ]),
        `CREATE TABLE IF NOT EXISTS _jdo_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT)`,
        `INSERT OR IGNORE INTO _jdo_meta (key, value) VALUES ('seq', '0')`,
        `INSERT OR IGNORE INTO _jdo_meta (key, value) VALUES ('cloud_id', lower(hex(randomblob(16))))`,
      ];
    },
  },
  {
    version: 2,
    name: "per-field versions, per-field conflict log",
    statements: perFieldVersions,
  },
  {
    version: 3,
    name: "device directory",
    statements(target) {
      return [target === "local" ? DEVICES_LOCAL : DEVICES_CLOUD];
    },
  },
  {
    version: 4,
    name: "cleanup plans, notification tasks",
    statements: honorYourWord,
  },
  {
    version: 5,
    name: "recurring commitments",
    statements: recurringCommitments,
  },
  {
    version: 6,
    name: "task history, actual hours",
    statements: timeTracking,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS _migrations (
  version INTEGER PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL)`;
