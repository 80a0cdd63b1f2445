/**
 * Generating recurring instances (the original's tests/integration/db
 * test_recurring_workflows and tests/unit/recurrence/test_generator), on a
 * real working database with an injected clock.
 */
import assert from "node:assert/strict";
import { manualClock, openTempStore } from "../../tests/helpers/temp_store.ts";
import { isGeneratedVersion } from "../db/hlc.ts";
import { entity, type Row } from "../db/schema.ts";
import { addGoal, transition } from "./actions.ts";
import type { Schedule } from "./recurrence.ts";
import { generateDue, generateOccurrence, instanceId, templateState } from "./recurring.ts";
import { addRecurring, setRecurringStatus } from "./recurring_actions.ts";
import type { Domain } from "./input.ts";

const WEDNESDAY = "2026-06-10T07:30:00Z";

async function world(at = WEDNESDAY, timeZone = "UTC") {
  const clock = manualClock(new Date(at));
  const t = await openTempStore(clock);
  const d: Domain = { store: t.store, dates: () => ({ now: clock.now(), timeZone }) };
  return { t, d, clock, at: (iso: string) => clock.set(new Date(iso)) };
}

function schedule(p: Partial<Schedule>): Schedule {
  return {
    recurrence_type: "daily",
    interval: 1,
    days_of_week: null,
    day_of_month: null,
    week_of_month: null,
    month_of_year: null,
    start_date: "2026-06-10",
    end_type: "never",
    end_after_count: null,
    end_by_date: null,
    ...p,
  };
}

async function instances(d: Domain, templateId: unknown): Promise<Row[]> {
  return await d.store.query(
    "SELECT * FROM commitments WHERE recurring_id = ? ORDER BY due_date",
    [String(templateId)],
  );
}

Deno.test("add: the first instance at once, with the template's fields and tasks copied", async () => {
  const { t, d } = await world();
  await using _ = t;
  const goal = await addGoal(d, { title: "Keep the team informed" });
  const { template, first } = await addRecurring(d, {
    deliverable: "Weekly report",
    stakeholder: "Ann",
    schedule: schedule({ recurrence_type: "weekly", days_of_week: [0, 3] }),
    dueTime: "14:30",
    goalId: String(goal.id),
    notes: "Send to the list",
    tasks: [{ title: "Draft" }, { title: "Send", scope: "email" }],
  });
  assert.ok(first);
  const c = first.commitment;
  assert.equal(c.id, await instanceId(String(template.id), "2026-06-11"));
  assert.equal(c.due_date, "2026-06-11"); // Thursday, the first listed day on or after Wednesday
  assert.equal(c.due_time, "14:30");
  assert.equal(c.timezone, "UTC");
  assert.equal(c.goal_id, goal.id);
  assert.equal(c.notes, "Send to the list");
  assert.equal(c.status, "pending");
  assert.equal(c.recurring_id, template.id);
  assert.ok(isGeneratedVersion(String(c.version)));
  const tasks = await d.store.query(
    `SELECT * FROM tasks WHERE commitment_id = ? ORDER BY "order"`,
    [c.id],
  );
  assert.deepEqual(tasks.map((r) => [r.title, r.scope, r.order, r.status]), [
    ["Draft", null, 1, "pending"],
    ["Send", "email", 2, "pending"],
  ]);
  // Queued for sync like any row.
  const queued = await d.store.query("SELECT entity FROM _sync_outbox ORDER BY entity");
  assert.deepEqual(
    queued.map((r) => r.entity).filter((e) => e !== "goal" && e !== "stakeholder"),
    ["commitment", "recurring", "task", "task"],
  );
});

Deno.test("one open instance at a time: the next comes when the previous is completed or abandoned", async () => {
  const { t, d } = await world();
  await using _ = t;
  const { template } = await addRecurring(d, {
    deliverable: "Standup",
    stakeholder: "Team",
    schedule: schedule({}),
  });
  assert.deepEqual(await generateDue(d), [], "the open instance holds back the next");
  assert.equal((await instances(d, template.id)).length, 1);
  const [today] = await instances(d, template.id);
  assert.equal(today.due_date, "2026-06-10");
  await transition(d, "complete", entity("commitment"), today);
  const after = await instances(d, template.id);
  assert.deepEqual(after.map((r) => [r.due_date, r.status]), [
    ["2026-06-10", "completed"],
    ["2026-06-11", "pending"],
  ]);
  await transition(d, "abandon", entity("commitment"), after[1]);
  assert.deepEqual((await instances(d, template.id)).map((r) => r.due_date), [
    "2026-06-10",
    "2026-06-11",
    "2026-06-12",
  ]);
});

Deno.test("catch-up: missed occurrences are skipped, only the current one is generated", async () => {
  const { t, d, at } = await world();
  await using _ = t;
  const { template, first } = await addRecurring(d, {
    deliverable: "Weekly report",
    stakeholder: "Ann",
    schedule: schedule({ recurrence_type: "weekly", days_of_week: [0] }),
  });
  assert.equal(first!.commitment.due_date, "2026-06-15");
  // Done on time, then nobody opens jdo for five weeks.
  at("2026-06-15T08:00:00Z");
  await transition(d, "complete", entity("commitment"), first!.commitment);
  at("2026-07-22T08:00:00Z"); // a Wednesday
  await generateDue(d);
  assert.deepEqual((await instances(d, template.id)).map((r) => r.due_date), [
    "2026-06-15",
    "2026-06-22", // made when the first was completed
  ]);
  await transition(d, "complete", entity("commitment"), (await instances(d, template.id))[1]);
  assert.deepEqual(
    (await instances(d, template.id)).map((r) => r.due_date),
    ["2026-06-15", "2026-06-22", "2026-07-27"],
    "the Mondays in between are not generated late",
  );
});

Deno.test("the generation window: an occurrence months away waits until it is a month away", async () => {
  const { t, d, at } = await world();
  await using _ = t;
  const { template, first } = await addRecurring(d, {
    deliverable: "Quarterly review",
    stakeholder: "Board",
    schedule: schedule({ recurrence_type: "monthly", day_of_month: 15, interval: 3 }),
  });
  assert.equal(first!.commitment.due_date, "2026-06-15");
  await transition(d, "complete", entity("commitment"), first!.commitment);
  assert.equal((await instances(d, template.id)).length, 1, "September 15 is not within a month");
  at("2026-08-20T08:00:00Z");
  await generateDue(d);
  assert.deepEqual((await instances(d, template.id)).map((r) => r.due_date), [
    "2026-06-15",
    "2026-09-15",
  ]);
});

Deno.test("pause and resume: nothing generated while paused; resuming generates what is due", async () => {
  const { t, d, at } = await world();
  await using _ = t;
  const { template, first } = await addRecurring(d, {
    deliverable: "Standup",
    stakeholder: "Team",
    schedule: schedule({}),
  });
  const paused = await setRecurringStatus(d, template, "paused");
  await transition(d, "complete", entity("commitment"), first!.commitment);
  at("2026-06-12T08:00:00Z");
  await generateDue(d);
  assert.equal((await instances(d, template.id)).length, 1);
  assert.equal((await templateState(d.store, paused, d.dates())).next, null);
  await assert.rejects(() => setRecurringStatus(d, paused, "paused"), /already paused/);
  await setRecurringStatus(d, paused, "active");
  assert.deepEqual((await instances(d, template.id)).map((r) => r.due_date), [
    "2026-06-10",
    "2026-06-12",
  ]);
});

Deno.test("end after N and end by a date: nothing past the end", async () => {
  const { t, d } = await world();
  await using _ = t;
  const completeAll = async (id: unknown) => {
    for (let i = 0; i < 10; i++) {
      const open = (await instances(d, id)).find((r) => r.status === "pending");
      if (!open) return;
      await transition(d, "complete", entity("commitment"), open);
    }
  };
  const counted = await addRecurring(d, {
    deliverable: "Three times",
    stakeholder: "Ann",
    schedule: schedule({ end_type: "after_count", end_after_count: 3 }),
  });
  await completeAll(counted.template.id);
  assert.deepEqual((await instances(d, counted.template.id)).map((r) => r.due_date), [
    "2026-06-10",
    "2026-06-11",
    "2026-06-12",
  ]);
  const dated = await addRecurring(d, {
    deliverable: "Until Friday",
    stakeholder: "Ann",
    schedule: schedule({ end_type: "by_date", end_by_date: "2026-06-12", interval: 2 }),
  });
  await completeAll(dated.template.id);
  assert.deepEqual((await instances(d, dated.template.id)).map((r) => r.due_date), [
    "2026-06-10",
    "2026-06-12",
  ]);
  const state = await templateState(d.store, dated.template, d.dates());
  assert.deepEqual(state, { instances: 2, next: null });
});

Deno.test("generating an occurrence twice is a no-op, even after its instance was deleted", async () => {
  const { t, d } = await world();
  await using _ = t;
  const { template, first } = await addRecurring(d, {
    deliverable: "Standup",
    stakeholder: "Team",
    schedule: schedule({}),
  });
  const again = await d.store.write((w) =>
    generateOccurrence(w, template, "2026-06-10", d.dates())
  );
  assert.equal(again, null);
  await d.store.write((w) => w.tombstone(entity("commitment"), String(first!.commitment.id)));
  // The deleted occurrence is not made again: the next one is.
  await generateDue(d);
  const rows = await instances(d, template.id);
  assert.deepEqual(rows.map((r) => [r.due_date, r.deleted_at === null]), [
    ["2026-06-10", false],
    ["2026-06-11", true],
  ]);
});

Deno.test("an edit a person makes always beats the generated values", async () => {
  const { t, d } = await world();
  await using _ = t;
  const { first } = await addRecurring(d, {
    deliverable: "Standup",
    stakeholder: "Team",
    schedule: schedule({}),
  });
  const done = await transition(d, "complete", entity("commitment"), first!.commitment);
  const fv = JSON.parse(String(done._fv));
  assert.ok(isGeneratedVersion(fv.deliverable));
  assert.ok(!isGeneratedVersion(fv.status));
  assert.ok(fv.status > fv.deliverable, "a real version sorts after every generated one");
});

Deno.test("daylight saving: each instance is due at the template's wall time; a time in the gap moves", async () => {
  const { t, d } = await world("2026-03-27T12:00:00Z", "Europe/Paris");
  await using _ = t;
  const { template } = await addRecurring(d, {
    deliverable: "Night check",
    stakeholder: "Ops",
    schedule: schedule({ start_date: "2026-03-28" }),
    dueTime: "02:30",
  });
  for (let i = 0; i < 2; i++) {
    const open = (await instances(d, template.id)).find((r) => r.status === "pending")!;
    await transition(d, "abandon", entity("commitment"), open);
  }
  assert.deepEqual(
    (await instances(d, template.id)).map((r) => [r.due_date, r.due_time, r.timezone]),
    [
      ["2026-03-28", "02:30", "Europe/Paris"],
      ["2026-03-29", "03:30", "Europe/Paris"], // 02:30 does not exist that night
      ["2026-03-30", "02:30", "Europe/Paris"],
    ],
  );
});
