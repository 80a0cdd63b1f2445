import assert from "node:assert/strict";
import { JdoError } from "../errors.ts";
import { manualClock, openTempStore } from "../../tests/helpers/temp_store.ts";
import { parseVersion } from "./hlc.ts";
import { entity, type Row } from "./schema.ts";
import { offsetClock, Store } from "./store.ts";

const T0 = Date.UTC(2025, 0, 15, 12);

async function outbox(store: Store): Promise<Map<string, string>> {
  const rows = await store.query("SELECT entity, id, version FROM _sync_outbox");
  return new Map(rows.map((r) => [`${r.entity}:${r.id}`, String(r.version)]));
}

async function rowOf(store: Store, table: string, id: unknown): Promise<Row> {
  const row = await store.one(`SELECT * FROM ${table} WHERE id = ?`, [String(id)]);
  assert.ok(row, `no ${table} row ${id}`);
  return row;
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<JdoError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof JdoError, `expected a JdoError, got ${error}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}`);
}

/** A stakeholder, a goal with a milestone, and a commitment with two tasks linked to both. */
async function seed(store: Store) {
  return await store.write(async (w) => {
    const person = await w.insert(entity("stakeholder"), { name: "Alice", type: "person" });
    const goal = await w.insert(entity("goal"), { title: "Ship", status: "active" });
    const milestone = await w.insert(entity("milestone"), {
      goal_id: goal.id,
      title: "Beta",
      target_date: "2025-02-01",
      status: "pending",
    });
    const commitment = await w.insert(entity("commitment"), {
      deliverable: "Report",
      stakeholder_id: person.id,
      due_date: "2025-01-20",
      due_time: "17:00",
      goal_id: goal.id,
      milestone_id: milestone.id,
      status: "pending",
    });
    const tasks = [
      await w.insert(entity("task"), {
        commitment_id: commitment.id,
        title: "a",
        status: "pending",
      }),
      await w.insert(entity("task"), {
        commitment_id: commitment.id,
        title: "b",
        status: "pending",
      }),
    ];
    return { person, goal, milestone, commitment, tasks };
  });
}

Deno.test("insert stamps id, timestamps and a version, and queues the row in the outbox", async () => {
  const clock = manualClock(T0);
  await using t = await openTempStore(clock);
  assert.equal(t.store.wrote, false);
  const row = await t.store.write((w) =>
    w.insert(entity("inbox"), { text: "hello", status: "open" })
  );
  assert.match(
    String(row.id),
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
  assert.equal(row.created_at, "2025-01-15T12:00:00.000Z");
  assert.equal(row.updated_at, "2025-01-15T12:00:00.000Z");
  assert.equal(row.deleted_at, null);
  const v = parseVersion(String(row.version));
  assert.ok(v, `unparseable version ${row.version}`);
  assert.equal(v.ms, T0);
  assert.equal(v.deviceId, await t.store.deviceId());
  const stored = await rowOf(t.store, "inbox_items", row.id);
  assert.equal(stored.version, row.version);
  assert.deepEqual(await outbox(t.store), new Map([[`inbox:${row.id}`, row.version]]));
  assert.equal(t.store.wrote, true);
});

Deno.test("every write bumps the version (even with a frozen or backwards clock) and updates the outbox", async () => {
  const clock = manualClock(T0);
  await using t = await openTempStore(clock);
  const row = await t.store.write((w) => w.insert(entity("inbox"), { text: "v1", status: "open" }));
  const versions = [String(row.version)];
  for (let i = 0; i < 5; i++) {
    if (i === 2) clock.set(T0 - 3_600_000); // the wall clock jumps an hour back
    if (i === 4) clock.set(T0 + 10);
    const updated = await t.store.write((w) =>
      w.update(entity("inbox"), String(row.id), { text: `v${i + 2}` })
    );
    versions.push(String(updated.version));
    assert.equal(updated.text, `v${i + 2}`);
    assert.equal((await outbox(t.store)).get(`inbox:${row.id}`), updated.version);
  }
  for (let i = 1; i < versions.length; i++) {
    assert.ok(versions[i] > versions[i - 1], `${versions[i]} should be > ${versions[i - 1]}`);
  }
  // One outbox entry per row, holding the latest version.
  assert.equal((await outbox(t.store)).size, 1);
  // The clock state is saved with the write (see the next test for its use).
  const hlc = await t.store.query(
    "SELECT key, value FROM _sync_state WHERE key IN ('hlc_ms','hlc_counter') ORDER BY key",
  );
  assert.equal(hlc.length, 2);
});

Deno.test("the clock persists across Store instances (a later process never reuses a version)", async () => {
  await using t = await openTempStore(offsetClock(0));
  const ahead = new Store(t.client, offsetClock(3_600_000), t.path); // a run with the clock 1h ahead
  const a = await ahead.write((w) => w.insert(entity("inbox"), { text: "a", status: "open" }));
  const behind = new Store(t.client, offsetClock(0), t.path); // then the clock is corrected
  const b = await behind.write((w) => w.insert(entity("inbox"), { text: "b", status: "open" }));
  assert.ok(String(b.version) > String(a.version), `${b.version} should be > ${a.version}`);
});

Deno.test("observe() makes later local versions order after a remote version", async () => {
  await using t = await openTempStore(offsetClock(-3_600_000)); // this device is 1h behind
  const remote = `${String(Date.now()).padStart(13, "0")}-0003-ffffffffffff`;
  const row = await t.store.write((w) => {
    w.observe(remote);
    return w.insert(entity("inbox"), { text: "x", status: "open" });
  });
  assert.ok(String(row.version) > remote, `${row.version} should be > ${remote}`);
  const next = await t.store.write((w) => w.insert(entity("inbox"), { text: "y", status: "open" }));
  assert.ok(String(next.version) > String(row.version));
});

Deno.test("a failing write rolls back everything, including the outbox and the clock", async () => {
  await using t = await openTempStore(manualClock(T0));
  const first = await t.store.write((w) =>
    w.insert(entity("inbox"), { text: "a", status: "open" })
  );
  const stateBefore = await t.store.query("SELECT * FROM _sync_state ORDER BY key");
  await assert.rejects(
    t.store.write(async (w) => {
      await w.insert(entity("inbox"), { text: "b", status: "open" });
      throw new Error("boom");
    }),
    /boom/,
  );
  const items = await t.store.query("SELECT text FROM inbox_items");
  assert.deepEqual(items.map((r) => r.text), ["a"]);
  assert.deepEqual([...(await outbox(t.store)).keys()], [`inbox:${first.id}`]);
  assert.deepEqual(await t.store.query("SELECT * FROM _sync_state ORDER BY key"), stateBefore);
});

Deno.test("update of a missing or deleted row is NOT_FOUND", async () => {
  await using t = await openTempStore();
  await rejectsWith(
    t.store.write((w) => w.update(entity("inbox"), "no-such-id", { text: "x" })),
    "NOT_FOUND",
  );
  const row = await t.store.write((w) => w.insert(entity("inbox"), { text: "a", status: "open" }));
  await t.store.write((w) => w.tombstone(entity("inbox"), String(row.id)));
  await rejectsWith(
    t.store.write((w) => w.update(entity("inbox"), String(row.id), { text: "x" })),
    "NOT_FOUND",
  );
});

Deno.test("deleting a commitment tombstones it and its tasks, never a hard DELETE", async () => {
  await using t = await openTempStore();
  const s = await seed(t.store);
  const before = await outbox(t.store);
  const count = await t.store.write((w) =>
    w.tombstone(entity("commitment"), String(s.commitment.id))
  );
  assert.equal(count, 3);
  const c = await rowOf(t.store, "commitments", s.commitment.id);
  assert.ok(c.deleted_at, "commitment tombstoned");
  assert.ok(String(c.version) > String(s.commitment.version));
  const after = await outbox(t.store);
  assert.equal(after.get(`commitment:${s.commitment.id}`), c.version);
  for (const task of s.tasks) {
    const row = await rowOf(t.store, "tasks", task.id);
    assert.ok(row.deleted_at, "task tombstoned");
    assert.ok(String(row.version) > String(task.version));
    assert.equal(after.get(`task:${task.id}`), row.version);
    assert.notEqual(after.get(`task:${task.id}`), before.get(`task:${task.id}`));
  }
  // Unrelated rows are untouched.
  assert.equal((await rowOf(t.store, "goals", s.goal.id)).version, s.goal.version);
  assert.equal((await rowOf(t.store, "stakeholders", s.person.id)).version, s.person.version);
  // Deleting again changes nothing.
  assert.equal(
    await t.store.write((w) => w.tombstone(entity("commitment"), String(s.commitment.id))),
    0,
  );
});

Deno.test("deleting a goal tombstones its milestones and unlinks its commitments", async () => {
  await using t = await openTempStore();
  const s = await seed(t.store);
  const child = await t.store.write((w) =>
    w.insert(entity("goal"), { title: "Sub", parent_goal_id: s.goal.id, status: "active" })
  );
  const count = await t.store.write((w) => w.tombstone(entity("goal"), String(s.goal.id)));
  assert.equal(count, 2, "the goal and its milestone");
  assert.ok((await rowOf(t.store, "goals", s.goal.id)).deleted_at);
  const m = await rowOf(t.store, "milestones", s.milestone.id);
  assert.ok(m.deleted_at, "milestone tombstoned");
  const c = await rowOf(t.store, "commitments", s.commitment.id);
  assert.equal(c.deleted_at, null, "the commitment itself stays");
  assert.equal(c.goal_id, null);
  assert.equal(c.milestone_id, null);
  assert.ok(String(c.version) > String(s.commitment.version), "the unlink is a versioned change");
  assert.equal((await outbox(t.store)).get(`commitment:${s.commitment.id}`), c.version);
  // Tasks of the surviving commitment are untouched.
  for (const task of s.tasks) {
    assert.equal((await rowOf(t.store, "tasks", task.id)).deleted_at, null);
  }
  // A sub-goal loses its parent link but survives.
  const sub = await rowOf(t.store, "goals", child.id);
  assert.equal(sub.deleted_at, null);
  assert.equal(sub.parent_goal_id, null);
});

Deno.test("deleting a milestone unlinks its commitments", async () => {
  await using t = await openTempStore();
  const s = await seed(t.store);
  assert.equal(
    await t.store.write((w) => w.tombstone(entity("milestone"), String(s.milestone.id))),
    1,
  );
  const c = await rowOf(t.store, "commitments", s.commitment.id);
  assert.equal(c.milestone_id, null);
  assert.equal(c.goal_id, s.goal.id, "the goal link stays");
});

Deno.test("deleting a stakeholder who still has commitments is refused, and nothing changes", async () => {
  await using t = await openTempStore();
  const s = await seed(t.store);
  const outboxBefore = await outbox(t.store);
  const e = await rejectsWith(
    t.store.write((w) => w.tombstone(entity("stakeholder"), String(s.person.id))),
    "INVALID_INPUT",
  );
  assert.match(e.message, /1 commitment still refers to it/);
  const p = await rowOf(t.store, "stakeholders", s.person.id);
  assert.equal(p.deleted_at, null);
  assert.equal(p.version, s.person.version);
  assert.deepEqual(await outbox(t.store), outboxBefore);
  // Once the commitment is gone (tombstoned), the stakeholder can be deleted.
  await t.store.write((w) => w.tombstone(entity("commitment"), String(s.commitment.id)));
  assert.equal(
    await t.store.write((w) => w.tombstone(entity("stakeholder"), String(s.person.id))),
    1,
  );
});
