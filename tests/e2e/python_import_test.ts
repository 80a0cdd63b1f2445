/**
 * `jdo import` of a database of the original, Python jdo: the test builds an
 * SQLite file with the original's schema (as SQLModel/SQLAlchemy writes it on
 * SQLite: 32-hex UUIDs, enum member names, naive UTC datetimes) and imports it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { runJdo, runJson, tempHome } from "../helpers/cli.ts";

// The original's tables, written from its models and Alembic migrations.
const SCHEMA = [
  `CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)`,
  `CREATE TABLE drafts (id CHAR(32) NOT NULL PRIMARY KEY, entity_type VARCHAR(10) NOT NULL,
     partial_data JSON, created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL)`,
  `CREATE TABLE stakeholders (id CHAR(32) NOT NULL PRIMARY KEY, name VARCHAR NOT NULL,
     type VARCHAR(12) NOT NULL, contact_info VARCHAR, notes VARCHAR,
     created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL)`,
  `CREATE TABLE visions (id CHAR(32) NOT NULL PRIMARY KEY, title VARCHAR NOT NULL,
     narrative VARCHAR NOT NULL, timeframe VARCHAR, metrics JSON, why_it_matters VARCHAR,
     status VARCHAR(9) NOT NULL, next_review_date DATE NOT NULL, last_reviewed_at DATETIME,
     created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL)`,
  `CREATE TABLE goals (id CHAR(32) NOT NULL PRIMARY KEY, title VARCHAR NOT NULL,
     problem_statement VARCHAR NOT NULL, solution_vision VARCHAR NOT NULL, motivation VARCHAR,
     parent_goal_id CHAR(32) REFERENCES goals (id), vision_id CHAR(32) REFERENCES visions (id),
     status VARCHAR(9) NOT NULL, next_review_date DATE, review_interval_days INTEGER,
     last_reviewed_at DATETIME, created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL)`,
  `CREATE TABLE milestones (id CHAR(32) NOT NULL PRIMARY KEY,
     goal_id CHAR(32) NOT NULL REFERENCES goals (id), title VARCHAR NOT NULL,
     description VARCHAR, target_date DATE NOT NULL, status VARCHAR(11) NOT NULL,
     completed_at DATETIME, created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL)`,
  `CREATE TABLE recurring_commitments (id CHAR(32) NOT NULL PRIMARY KEY,
     deliverable_template VARCHAR NOT NULL, stakeholder_id CHAR(32) NOT NULL REFERENCES stakeholders (id),
     goal_id CHAR(32) REFERENCES goals (id), due_time TIME, timezone VARCHAR NOT NULL,
     recurrence_type VARCHAR(7) NOT NULL, interval INTEGER NOT NULL, days_of_week JSON,
     day_of_month INTEGER, week_of_month INTEGER, month_of_year INTEGER,
     end_type VARCHAR(11) NOT NULL, end_after_count INTEGER, end_by_date DATE,
     task_templates JSON, notes VARCHAR, status VARCHAR(6) NOT NULL, last_generated_date DATE,
     instances_generated INTEGER NOT NULL, created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL)`,
  `CREATE TABLE commitments (id CHAR(32) NOT NULL PRIMARY KEY, deliverable VARCHAR NOT NULL,
     stakeholder_id CHAR(32) NOT NULL REFERENCES stakeholders (id),
     goal_id CHAR(32) REFERENCES goals (id), milestone_id CHAR(32) REFERENCES milestones (id),
     recurring_commitment_id CHAR(32) REFERENCES recurring_commitments (id) ON DELETE SET NULL,
     due_date DATE NOT NULL, due_time TIME NOT NULL, timezone VARCHAR NOT NULL,
     status VARCHAR(11) NOT NULL, completed_at DATETIME, notes VARCHAR, marked_at_risk_at DATETIME,
     completed_on_time BOOLEAN, created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
     at_risk_recovered BOOLEAN DEFAULT '0' NOT NULL)`,
  `CREATE TABLE tasks (id CHAR(32) NOT NULL PRIMARY KEY,
     commitment_id CHAR(32) NOT NULL REFERENCES commitments (id), title VARCHAR NOT NULL,
     scope VARCHAR NOT NULL, status VARCHAR(11) NOT NULL, sub_tasks JSON, "order" INTEGER NOT NULL,
     is_notification_task BOOLEAN NOT NULL, created_at DATETIME NOT NULL,
     updated_at DATETIME NOT NULL, estimated_hours FLOAT, actual_hours_category VARCHAR(12),
     estimation_confidence VARCHAR(6))`,
  `CREATE TABLE cleanup_plans (id CHAR(32) NOT NULL PRIMARY KEY,
     commitment_id CHAR(32) NOT NULL REFERENCES commitments (id), impact_description VARCHAR,
     mitigation_actions JSON, notification_task_id CHAR(32) REFERENCES tasks (id),
     status VARCHAR(11) NOT NULL, completed_at DATETIME, skipped_reason VARCHAR,
     created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL)`,
  `CREATE TABLE task_history (id CHAR(32) NOT NULL PRIMARY KEY, task_id CHAR(32) NOT NULL,
     commitment_id CHAR(32) NOT NULL, event_type VARCHAR(9) NOT NULL, previous_status VARCHAR(11),
     new_status VARCHAR(11) NOT NULL, estimated_hours FLOAT, actual_hours_category VARCHAR(12),
     notes VARCHAR, created_at DATETIME NOT NULL)`,
];

// Ids as the original stores them: 32 hex digits, no dashes.
const id = (n: number) => `0a1b2c3d4e5f40718293a4b5c6d7e${n.toString(16).padStart(3, "0")}`;
const dashed = (hex: string) =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
const S_ALICE = id(1), S_TEAM = id(2), S_SELF = id(3);
const VISION = id(10), GOAL = id(20), MILESTONE = id(30);
const C_AT_RISK = id(40), C_DONE = id(41), C_SELF = id(42);
const T_NOTIFY = id(50), T_WORK = id(51), PLAN = id(60);
const DRAFT_TRIAGE = id(70), DRAFT_PARTIAL = id(71), RECURRING = id(80);
const T0 = "2030-11-02 10:20:30.456789"; // a naive datetime (UTC), as the original stores it

async function buildOriginalDb(path: string, opts: { goalStatus?: string } = {}): Promise<void> {
  const db = createClient({ url: `file:${path}` });
  try {
    for (const sql of SCHEMA) await db.execute(sql);
    const ins = (table: string, row: Record<string, string | number | null>) =>
      db.execute({
        sql: `INSERT INTO ${table} (${Object.keys(row).map((k) => `"${k}"`).join(", ")})
              VALUES (${Object.keys(row).map(() => "?").join(", ")})`,
        args: Object.values(row),
      });
    const t = { created_at: T0, updated_at: T0 };
    await ins("alembic_version", { version_num: "a1b2c3d4e5f6" });
    await ins("stakeholders", {
      id: S_ALICE,
      name: "Alice",
      type: "PERSON",
      contact_info: "alice@example.com",
      notes: null,
      ...t,
    });
    await ins("stakeholders", {
      id: S_TEAM,
      name: "Platform Team",
      type: "TEAM",
      contact_info: null,
      notes: "on-call",
      ...t,
    });
    await ins("stakeholders", { id: S_SELF, name: "Me", type: "SELF", ...t });
    await ins("visions", {
      id: VISION,
      title: "Write books",
      narrative: "A shelf of my own",
      timeframe: "5 years",
      metrics: '["3 books", "1 award"]',
      why_it_matters: null,
      status: "ACTIVE",
      next_review_date: "2031-06-01",
      last_reviewed_at: null,
      ...t,
    });
    await ins("goals", {
      id: GOAL,
      title: "Finish the novel",
      problem_statement: "Half a draft",
      solution_vision: "A full draft",
      motivation: null,
      parent_goal_id: null,
      vision_id: VISION,
      status: opts.goalStatus ?? "ON_HOLD",
      next_review_date: null,
      review_interval_days: 30,
      last_reviewed_at: null,
      ...t,
    });
    await ins("milestones", {
      id: MILESTONE,
      goal_id: GOAL,
      title: "Part one",
      description: null,
      target_date: "2031-02-01",
      status: "MISSED",
      completed_at: null,
      ...t,
    });
    await ins("recurring_commitments", {
      id: RECURRING,
      deliverable_template: "Weekly report",
      stakeholder_id: S_TEAM,
      due_time: "09:00:00.000000",
      timezone: "America/New_York",
      recurrence_type: "WEEKLY",
      interval: 1,
      days_of_week: "[0]",
      end_type: "NEVER",
      task_templates: "[]",
      status: "ACTIVE",
      instances_generated: 1,
      ...t,
    });
    await ins("commitments", {
      id: C_AT_RISK,
      deliverable: "Send chapter 3",
      stakeholder_id: S_ALICE,
      goal_id: GOAL,
      milestone_id: MILESTONE,
      due_date: "2031-03-14",
      due_time: "14:30:00.000000",
      timezone: "Europe/Berlin",
      status: "AT_RISK",
      marked_at_risk_at: "2031-03-10 08:15:00.123456",
      completed_on_time: null,
      at_risk_recovered: 0,
      ...t,
    });
    await ins("commitments", {
      id: C_DONE,
      deliverable: "Weekly report",
      stakeholder_id: S_TEAM,
      recurring_commitment_id: RECURRING,
      due_date: "2031-01-06",
      due_time: "09:00:00.000000",
      timezone: "America/New_York",
      status: "COMPLETED",
      completed_at: "2031-01-05 17:00:00", // no fraction of a second
      notes: null,
      completed_on_time: 1,
      ...t,
    });
    await ins("commitments", {
      id: C_SELF,
      deliverable: "Run 5k",
      stakeholder_id: S_SELF,
      due_date: "2031-04-01",
      due_time: "07:00:00",
      timezone: "America/New_York",
      status: "IN_PROGRESS",
      ...t,
    });
    await ins("tasks", {
      id: T_NOTIFY,
      commitment_id: C_AT_RISK,
      title: "Notify Alice",
      scope: "Tell Alice chapter 3 is late",
      status: "PENDING",
      sub_tasks: "[]",
      order: 0,
      is_notification_task: 1,
      ...t,
    });
    await ins("tasks", {
      id: T_WORK,
      commitment_id: C_AT_RISK,
      title: "Revise",
      scope: "Chapter 3 revised",
      status: "IN_PROGRESS",
      sub_tasks: '[{"description": "outline", "completed": true}, {"description": "prose"}]',
      order: 1,
      is_notification_task: 0,
      estimated_hours: 2.5,
      actual_hours_category: null,
      ...t,
    });
    await ins("cleanup_plans", {
      id: PLAN,
      commitment_id: C_AT_RISK,
      impact_description: "Alice's edit slips a week",
      mitigation_actions: '["Send part now", "Offer a call"]',
      notification_task_id: T_NOTIFY,
      status: "PLANNED",
      ...t,
    });
    await ins("drafts", {
      id: DRAFT_TRIAGE,
      entity_type: "UNKNOWN",
      partial_data: '{"raw_text": "call the dentist"}',
      ...t,
    });
    await ins("drafts", {
      id: DRAFT_PARTIAL,
      entity_type: "COMMITMENT",
      partial_data: '{"deliverable": "half-typed"}',
      ...t,
    });
    await ins("task_history", {
      id: id(90),
      task_id: T_WORK,
      commitment_id: C_AT_RISK,
      event_type: "STARTED",
      previous_status: "PENDING",
      new_status: "IN_PROGRESS",
      estimated_hours: 2.5,
      created_at: T0,
    });
  } finally {
    db.close();
  }
}

type Rec = Record<string, unknown>;
type Doc = Record<string, Rec[]>;
const byId = (doc: Doc, kind: string, hex: string) => doc[kind].find((r) => r.id === dashed(hex))!;

const BY_KIND = {
  stakeholders: 3,
  visions: 1,
  goals: 1,
  milestones: 1,
  recurring: 1,
  commitments: 3,
  tasks: 2,
  "cleanup-plans": 1,
  "task-history": 1,
  inbox: 1,
};
const NOT_IMPORTED = {
  "unfinished drafts": 1,
};

Deno.test("import of a Python jdo database: every kind, mapped fields, idempotent", async () => {
  await using t = await tempHome();
  const file = join(t.root, "jdo.db");
  await buildOriginalDb(file);
  const before = await Deno.readFile(file);

  const first = await runJson<Rec>(t.home, ["import", file, "--json"]);
  assert.deepEqual(first, {
    imported: 15,
    skipped: 0,
    deleted_here: 0,
    restored: 0,
    by_kind: BY_KIND,
    not_imported: NOT_IMPORTED,
  });
  assert.deepEqual(await Deno.readFile(file), before, "the original's file is only read");

  const doc = await runJson<Doc>(t.home, ["export"]);
  const alice = byId(doc, "stakeholders", S_ALICE);
  assert.deepEqual([alice.name, alice.type, alice.contact_info], [
    "Alice",
    "person",
    "alice@example.com",
  ]);
  assert.deepEqual(alice.created_at, "2030-11-02T10:20:30.456Z", "naive datetime read as UTC");
  const team = byId(doc, "stakeholders", S_TEAM);
  assert.deepEqual([team.type, team.contact_info, team.notes], ["team", null, "on-call"]);
  assert.deepEqual(byId(doc, "stakeholders", S_SELF).type, "self");

  const vision = byId(doc, "visions", VISION);
  assert.deepEqual([vision.metrics, vision.next_review_date, vision.status], [
    ["3 books", "1 award"],
    "2031-06-01",
    "active",
  ]);
  const goal = byId(doc, "goals", GOAL);
  assert.deepEqual(
    [goal.status, goal.vision_id, goal.next_review_date, goal.review_interval_days],
    [
      "on_hold",
      dashed(VISION),
      null,
      30,
    ],
  );
  const milestone = byId(doc, "milestones", MILESTONE);
  assert.deepEqual([milestone.status, milestone.goal_id, milestone.target_date], [
    "missed",
    dashed(GOAL),
    "2031-02-01",
  ]);

  const atRisk = byId(doc, "commitments", C_AT_RISK);
  assert.deepEqual(
    [atRisk.status, atRisk.due_date, atRisk.due_time, atRisk.timezone, atRisk.marked_at_risk_at],
    ["at_risk", "2031-03-14", "14:30", "Europe/Berlin", "2031-03-10T08:15:00.123Z"],
  );
  assert.deepEqual([atRisk.stakeholder_id, atRisk.milestone_id], [
    dashed(S_ALICE),
    dashed(MILESTONE),
  ]);
  const done = byId(doc, "commitments", C_DONE);
  assert.deepEqual([done.status, done.completed_at, done.completed_on_time, done.notes], [
    "completed",
    "2031-01-05T17:00:00.000Z",
    true,
    null,
  ]);
  // The recurring template keeps its id and pattern; its instance keeps the link.
  assert.equal(done.recurring_id, dashed(RECURRING));
  const weekly = byId(doc, "recurring", RECURRING);
  assert.deepEqual(
    [
      weekly.deliverable,
      weekly.recurrence_type,
      weekly.days_of_week,
      weekly.status,
      weekly.end_type,
    ],
    ["Weekly report", "weekly", [0], "active", "never"],
  );
  assert.deepEqual([weekly.due_time, weekly.timezone], ["09:00", "America/New_York"]);
  const self = byId(doc, "commitments", C_SELF);
  assert.deepEqual([self.status, self.due_time, self.completed_on_time], [
    "in_progress",
    "07:00",
    null,
  ]);

  const notify = byId(doc, "tasks", T_NOTIFY);
  assert.deepEqual([notify.is_notification_task, notify.order, notify.status], [
    true,
    0,
    "pending",
  ]);
  const work = byId(doc, "tasks", T_WORK);
  assert.deepEqual([work.status, work.estimated_hours, work.is_notification_task], [
    "in_progress",
    2.5,
    false,
  ]);
  assert.deepEqual(work.scope, "Chapter 3 revised\n- [x] outline\n- [ ] prose");
  const plan = byId(doc, "cleanup-plans", PLAN);
  assert.deepEqual([plan.status, plan.mitigation_actions, plan.notification_task_id], [
    "planned",
    ["Send part now", "Offer a call"],
    dashed(T_NOTIFY),
  ]);
  assert.equal(work.actual_hours_category, null);
  const event = byId(doc, "task-history", id(90));
  assert.deepEqual(
    [
      event.task_id,
      event.commitment_id,
      event.event_type,
      event.previous_status,
      event.new_status,
      event.estimated_hours,
      event.created_at,
    ],
    [
      dashed(T_WORK),
      dashed(C_AT_RISK),
      "started",
      "pending",
      "in_progress",
      2.5,
      "2030-11-02T10:20:30.456Z",
    ],
  );
  const inbox = byId(doc, "inbox", DRAFT_TRIAGE);
  assert.deepEqual([inbox.text, inbox.status], ["call the dentist", "open"]);

  // Again: the original ids are kept, so nothing is added; the text form counts per kind.
  const again = await runJdo(t.home, ["import", file]);
  assert.deepEqual(again.code, 0, again.stderr);
  assert.match(again.stdout, /^Imported 0 items; 15 already present$/m);
  assert.match(again.stderr, /Not imported \(jdo has no place for them\): 1 unfinished drafts/);
  const after = await runJson<Doc>(t.home, ["export"]);
  for (const [kind, n] of Object.entries(BY_KIND)) assert.deepEqual(after[kind].length, n, kind);
});

Deno.test("import of a Python jdo database prints a count per kind", async () => {
  await using t = await tempHome();
  const file = join(t.root, "jdo.db");
  await buildOriginalDb(file);
  const r = await runJdo(t.home, ["import", file]);
  assert.deepEqual(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^Imported 15 items \(3 stakeholders, 1 vision, 1 goal, 1 milestone, 1 recurring commitment, 3 commitments, .*1 inbox/m,
  );
});

Deno.test("import of a Python jdo database is all-or-nothing on a bad row", async () => {
  await using t = await tempHome();
  const file = join(t.root, "jdo.db");
  await buildOriginalDb(file, { goalStatus: "SOMEDAY" });
  const r = await runJdo(t.home, ["import", file]);
  assert.deepEqual(r.code, 1);
  assert.deepEqual(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, /unknown status "someday"/);
  const doc = await runJson<Doc>(t.home, ["export"]);
  assert.deepEqual(doc.stakeholders.length + doc.commitments.length, 0, "nothing was imported");
});

Deno.test("import refuses an SQLite file that is not a Python jdo database", async () => {
  await using t = await tempHome();
  const file = join(t.root, "other.db");
  const db = createClient({ url: `file:${file}` });
  await db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
  await db.execute("INSERT INTO notes (body) VALUES ('hello')");
  db.close();
  const r = await runJdo(t.home, ["import", file]);
  assert.deepEqual(r.code, 1);
  assert.deepEqual(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, /an SQLite file, but not a Python jdo database/);
  assert(!r.stderr.includes("    at "), "no stack trace");
});

Deno.test("import refuses jdo's own database file, pointing at db restore", async () => {
  await using t = await tempHome();
  const captured = await runJdo(t.home, ["capture", "hello"]);
  assert.equal(captured.code, 0, captured.stderr);
  const r = await runJdo(t.home, ["import", join(t.home, "jdo.db")]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, /this is a jdo database, not an export; use `jdo db restore`/);
});
