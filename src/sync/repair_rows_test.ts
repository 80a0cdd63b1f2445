/**
 * repair_rows.ts: after a merge, a live row under a deleted parent is fixed
 * by the parent link's rule (cascade: tombstoned, nullify: unlinked,
 * restrict: the parent comes back), as ordinary queued writes; and rows
 * where the cloud holds older values with nothing queued get queued.
 */
import assert from "node:assert/strict";
import { entity, type Row } from "../db/schema.ts";
import type { Store } from "../db/store.ts";
import {
  capture,
  editInbox,
  openPair,
  outboxKeys,
  withReplica,
} from "../../tests/helpers/sync_pair.ts";
import { openTempStore } from "../../tests/helpers/temp_store.ts";
import { syncOnce } from "./engine.ts";
import { queueWhereCloudIsBehind, repairOrphans } from "./repair_rows.ts";
import { SYNCED } from "./synced.ts";

interface Tree {
  stakeholder: string;
  goal: string;
  milestone: string;
  commitments: string[];
  task: string;
}

/** A stakeholder with two commitments under a goal and a milestone, and a task. */
async function tree(store: Store): Promise<Tree> {
  return await store.write(async (w) => {
    const s = await w.insert(entity("stakeholder"), { name: "Ann", type: "person" });
    const g = await w.insert(entity("goal"), { title: "Goal", status: "active" });
    const m = await w.insert(entity("milestone"), {
      goal_id: g.id,
      title: "Milestone",
      target_date: "2031-03-14",
      status: "pending",
    });
    const commitments: string[] = [];
    for (const deliverable of ["One", "Two"]) {
      const c = await w.insert(entity("commitment"), {
        deliverable,
        stakeholder_id: s.id,
        due_date: "2031-03-14",
        due_time: "17:00",
        goal_id: g.id,
        milestone_id: m.id,
        status: "pending",
      });
      commitments.push(String(c.id));
    }
    const t = await w.insert(entity("task"), {
      commitment_id: commitments[0],
      title: "Task",
      status: "pending",
    });
    await w.tx.execute("DELETE FROM _sync_outbox");
    return {
      stakeholder: String(s.id),
      goal: String(g.id),
      milestone: String(m.id),
      commitments,
      task: String(t.id),
    };
  });
}

/** A delete merged from elsewhere: the tombstone alone, no delete rules applied. */
async function tombstoneOnly(store: Store, table: string, id: string): Promise<void> {
  await store.write((w) =>
    w.tx.execute({
      sql: `UPDATE ${table} SET deleted_at = '2031-03-14T09:00:00.000Z' WHERE id = ?`,
      args: [id],
    })
  );
}

async function row(store: Store, table: string, id: string): Promise<Row> {
  return (await store.one(`SELECT * FROM ${table} WHERE id = ?`, [id]))!;
}

Deno.test("repair_rows: cascade tombstones a live child of a deleted parent", async () => {
  await using s = await openTempStore();
  const t = await tree(s.store);
  await tombstoneOnly(s.store, "commitments", t.commitments[0]);
  assert.equal(await repairOrphans(s.store), 1);
  assert.ok((await row(s.store, "tasks", t.task)).deleted_at, "the task follows its commitment");
  assert.deepEqual(await outboxKeys(s.store), [`task:${t.task}`], "a versioned, queued write");
  assert.equal(await repairOrphans(s.store), 0, "nothing left to repair");
});

Deno.test("repair_rows: nullify unlinks a live child from a deleted parent", async () => {
  await using s = await openTempStore();
  const t = await tree(s.store);
  await tombstoneOnly(s.store, "milestones", t.milestone);
  assert.equal(await repairOrphans(s.store), 2);
  for (const id of t.commitments) {
    const c = await row(s.store, "commitments", id);
    assert.deepEqual([c.milestone_id, c.goal_id, c.deleted_at], [null, t.goal, null]);
  }
  assert.deepEqual(await outboxKeys(s.store), t.commitments.map((id) => `commitment:${id}`).sort());
});

Deno.test("repair_rows: a goal deleted elsewhere cascades to milestones, unlinks the rest", async () => {
  await using s = await openTempStore();
  const t = await tree(s.store);
  await tombstoneOnly(s.store, "goals", t.goal);
  await repairOrphans(s.store);
  assert.ok((await row(s.store, "milestones", t.milestone)).deleted_at);
  for (const id of t.commitments) {
    assert.equal((await row(s.store, "commitments", id)).goal_id, null);
  }
});

Deno.test("repair_rows: restrict brings back a deleted parent of live rows, once", async () => {
  await using s = await openTempStore();
  const t = await tree(s.store);
  await tombstoneOnly(s.store, "stakeholders", t.stakeholder);
  await repairOrphans(s.store);
  assert.equal((await row(s.store, "stakeholders", t.stakeholder)).deleted_at, null);
  for (const id of t.commitments) {
    assert.equal((await row(s.store, "commitments", id)).stakeholder_id, t.stakeholder);
  }
  assert.deepEqual(await outboxKeys(s.store), [`stakeholder:${t.stakeholder}`]);
});

Deno.test("repair_rows: with a change list, only the changed rows and their children", async () => {
  await using s = await openTempStore();
  const t = await tree(s.store);
  await tombstoneOnly(s.store, "commitments", t.commitments[0]);
  const unrelated = new Map([["inbox", ["x"]], ["commitment", [t.commitments[1]]]]);
  assert.equal(await repairOrphans(s.store, unrelated), 0);
  assert.equal((await row(s.store, "tasks", t.task)).deleted_at, null);
  assert.equal(await repairOrphans(s.store, new Map([["task", [t.task]]])), 1, "the child changed");
  await s.store.write((w) =>
    w.tx.execute({ sql: "UPDATE tasks SET deleted_at = NULL WHERE id = ?", args: [t.task] })
  );
  assert.equal(
    await repairOrphans(s.store, new Map([["commitment", [t.commitments[0]]]])),
    1,
    "the parent changed",
  );
  assert.ok((await row(s.store, "tasks", t.task)).deleted_at);
});

Deno.test("repair_rows: rows where the cloud is behind and nothing is queued get queued", async () => {
  await using p = await openPair({ a: withReplica });
  const ahead = await capture(p.a.store, "ahead here");
  await capture(p.a.store, "equal in both");
  const behind = await capture(p.a.store, "behind here");
  await syncOnce(p.a.store, p.ca);
  p.advance();
  await editInbox(p.a.store, ahead, { text: "newer here" });
  await syncOnce(p.b.store, p.cb);
  await editInbox(p.b.store, behind, { text: "newer in the cloud" });
  await syncOnce(p.b.store, p.cb);
  await p.a.store.write((w) => w.tx.execute("DELETE FROM _sync_outbox"));

  const upTo = await p.ca.snapshot();
  const inbox = SYNCED.find((t) => t.table === "inbox_items")!;
  await p.a.store.write(
    (w) => queueWhereCloudIsBehind(w, inbox, "r._seq > ? AND r._seq <= ?", 0, upTo),
    { attach: { path: p.ca.replicaFile()!, as: "cloud" } },
  );
  assert.deepEqual(
    await outboxKeys(p.a.store),
    [`inbox:${ahead}`],
    "not the equal, not the behind",
  );
});
