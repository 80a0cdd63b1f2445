import assert from "node:assert/strict";
import { openTempStore } from "../../tests/helpers/temp_store.ts";
import { addGoal, capture } from "./actions.ts";
import { dismiss, triageInto, triageQueue } from "./triage.ts";
import { JdoError } from "../errors.ts";

const dates = () => ({ now: new Date("2026-11-27T12:00:00Z"), timeZone: "UTC" });

Deno.test("triageInto: the row is not kept when the item was triaged meanwhile (one transaction)", async () => {
  await using t = await openTempStore();
  const d = { store: t.store, dates };
  const item = await capture(d, "Learn Spanish");
  // Another command (or a sync) triaged it after this one read the row.
  await dismiss(d, item);
  await assert.rejects(
    () => triageInto(d, item, (dd) => addGoal(dd, { title: "Learn Spanish" })),
    (e: unknown) => e instanceof JdoError && /already triaged/.test(e.message),
  );
  const goals = await t.store.query("SELECT id FROM goals");
  assert.equal(goals.length, 0, "the goal rolled back with the failed triage");
});

Deno.test("triageInto: the new row and the triaged item commit together", async () => {
  await using t = await openTempStore();
  const d = { store: t.store, dates };
  const a = await capture(d, "A");
  const b = await capture(d, "B");
  const goal = await triageInto(d, a, (dd) => addGoal(dd, { title: "A" }));
  assert.equal(goal.title, "A");
  const queue = await triageQueue(t.store);
  assert.deepEqual(queue.map((r) => r.id), [b.id]);
});
