/**
 * Issue 19, point 2 ("honor your word"): at-risk adds the notification task
 * (first in the task list) and a cleanup plan, `recover` returns the
 * commitment to in progress, abandoning suggests notifying first, and the
 * plan follows what the user does. In process, with a fixed clock.
 */
import assert from "node:assert/strict";
import { assertOk as ok, type InProcessJdo, inProcessJdo } from "../helpers/in_process.ts";

type Rec = Record<string, unknown>;
type Shown = Rec & { tasks: Rec[]; cleanup_plan?: Rec };
const NOW = "2031-03-01T12:00:00.000Z";

async function setup(j: InProcessJdo, to = "Dave"): Promise<Rec> {
  const c = await j.json(["commit", "Quarterly report", "--to", to, "--due", "2031-03-14"]);
  await j.json(["task", "add", String(c.id), "Draft"]);
  return c;
}

const show = (j: InProcessJdo, id: unknown) => j.json<Shown>(["show", String(id)]);

Deno.test("at-risk: status, marked_at_risk_at, the notification task first, and a planned cleanup plan", async () => {
  await using j = await inProcessJdo(NOW);
  const c = await setup(j);
  const r = ok(
    await j.run([
      "at-risk",
      String(c.id),
      "--reason",
      "the vendor is late",
      "--impact",
      "launch slips",
    ]),
    "at-risk",
  );
  assert.match(r.stdout, /is now at risk/);
  assert.match(r.stdout, /Added task [0-9a-f]{6,}: Notify Dave about at-risk commitment/);
  const s = await show(j, c.id);
  assert.equal(s.status, "at_risk");
  assert.equal(s.marked_at_risk_at, NOW);
  assert.equal(s.tasks.length, 2);
  const [first, second] = s.tasks;
  assert.equal(first.title, "Notify Dave about at-risk commitment");
  assert.equal(first.order, 0);
  assert.equal(first.is_notification_task, true);
  assert.match(String(first.scope), /To: Dave/);
  assert.match(String(first.scope), /Reason: the vendor is late/);
  assert.match(String(first.scope), /by 2031-03-14/);
  assert.equal(second.title, "Draft");
  assert.equal(s.cleanup_plan?.status, "planned");
  assert.equal(s.cleanup_plan?.notification_task_id, first.id);
  assert.equal(s.cleanup_plan?.impact_description, "launch slips");
  const again = await j.run(["at-risk", String(c.id)]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already at risk/);
});

Deno.test("recover: back to in progress, marked_at_risk_at kept, plan cancelled; refused unless at risk", async () => {
  await using j = await inProcessJdo(NOW);
  const c = await setup(j);
  const notAtRisk = await j.run(["recover", String(c.id)]);
  assert.equal(notAtRisk.code, 1);
  assert.equal(notAtRisk.stdout, "");
  assert.match(notAtRisk.stderr, /not at risk \(it is pending\)/);
  ok(await j.run(["at-risk", String(c.id)]), "at-risk");
  j.clock.set(new Date("2031-03-02T09:00:00Z"));
  const r = ok(await j.run(["recover", String(c.id)]), "recover");
  assert.match(r.stdout, /back in progress/);
  assert.match(r.stdout, /notification task [0-9a-f]{6,} is still open/);
  const s = await show(j, c.id);
  assert.equal(s.status, "in_progress");
  assert.equal(s.marked_at_risk_at, NOW);
  assert.equal(s.cleanup_plan?.status, "cancelled");
  assert.equal(s.tasks[0].status, "pending");
  // At risk again: the same plan (planned again) and the same task, not duplicates.
  ok(await j.run(["at-risk", String(c.id)]), "at-risk again");
  const again = await show(j, c.id);
  assert.equal(again.tasks.filter((t) => t.is_notification_task).length, 1);
  assert.equal(again.cleanup_plan?.id, s.cleanup_plan?.id);
  assert.equal(again.cleanup_plan?.status, "planned");
  const plans = await j.json<Rec[]>(["list", "cleanup-plans", "--all"]);
  assert.equal(plans.length, 1);
});

Deno.test("recover --resolved skips the open notification task, saying why", async () => {
  await using j = await inProcessJdo(NOW);
  const c = await setup(j);
  ok(await j.run(["at-risk", String(c.id)]), "at-risk");
  const r = ok(await j.run(["recover", String(c.id), "--resolved"]), "recover --resolved");
  assert.doesNotMatch(r.stdout, /still open/);
  const s = await show(j, c.id);
  assert.equal(s.tasks[0].status, "skipped");
  assert.match(String(s.tasks[0].scope), /\[Skipped: situation resolved\]/);
});

Deno.test("the plan follows the user: notified → in progress; delivered → completed", async () => {
  await using j = await inProcessJdo(NOW);
  const c = await setup(j);
  ok(await j.run(["at-risk", String(c.id)]), "at-risk");
  const task = (await show(j, c.id)).tasks[0];
  ok(await j.run(["complete", String(task.id)]), "complete the notification");
  assert.equal((await show(j, c.id)).cleanup_plan?.status, "in_progress");
  j.clock.set(new Date("2031-03-10T10:00:00Z"));
  const done = await j.json(["complete", String(c.id)]);
  assert.equal(done.completed_on_time, true);
  const plan = (await show(j, c.id)).cleanup_plan;
  assert.equal(plan?.status, "completed");
  assert.equal(plan?.completed_at, "2031-03-10T10:00:00.000Z");
});

Deno.test("abandon an at-risk commitment: refused until notified (or --yes, which skips the plan)", async () => {
  await using j = await inProcessJdo(NOW);
  const c = await setup(j);
  ok(await j.run(["at-risk", String(c.id)]), "at-risk");
  const refused = await j.run(["abandon", String(c.id)]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /not notified Dave yet/);
  assert.equal((await show(j, c.id)).status, "at_risk");
  // On a terminal it asks; "no" abandons nothing.
  const asked = await j.run(["abandon", String(c.id)], { tty: true, answers: [false] });
  assert.notEqual(asked.code, 0);
  assert.match(asked.asked.join("\n"), /not notified Dave yet/);
  ok(await j.run(["abandon", String(c.id), "--yes"]), "abandon --yes");
  const plan = (await show(j, c.id)).cleanup_plan;
  assert.equal(plan?.status, "skipped");
  assert.match(String(plan?.skipped_reason), /without notifying/);
});

Deno.test("abandon after notifying completes the cleanup plan, no questions asked", async () => {
  await using j = await inProcessJdo(NOW);
  const c = await setup(j);
  ok(await j.run(["at-risk", String(c.id)]), "at-risk");
  ok(await j.run(["complete", String((await show(j, c.id)).tasks[0].id)]), "notify");
  const r = ok(await j.run(["abandon", String(c.id)]), "abandon");
  assert.equal(r.stderr, "");
  assert.equal((await show(j, c.id)).cleanup_plan?.status, "completed");
});

Deno.test("abandon a commitment owed to someone suggests marking it at risk and notifying first", async () => {
  await using j = await inProcessJdo(NOW);
  const c = await setup(j);
  const declined = await j.run(["abandon", String(c.id)], { tty: true, answers: [false] });
  assert.notEqual(declined.code, 0);
  assert.match(declined.asked.join("\n"), /owed to Dave/);
  assert.match(declined.stderr, /Recommended: jdo at-risk [0-9a-f]{6,}, notify Dave/);
  assert.equal((await show(j, c.id)).status, "pending");
  // In a script it goes ahead, with the suggestion on stderr.
  const scripted = ok(await j.run(["abandon", String(c.id)]), "abandon in a script");
  assert.match(scripted.stderr, /owed to Dave; jdo at-risk [0-9a-f]{6,} first/);
  assert.equal((await show(j, c.id)).status, "abandoned");
  // Owed to yourself: nothing to notify.
  ok(await j.run(["stakeholder", "add", "Me", "--type", "self"]), "self");
  const mine = await setup(j, "Me");
  const quiet = ok(await j.run(["abandon", String(mine.id)]), "abandon own");
  assert.equal(quiet.stderr, "");
});

Deno.test("skipping the notification task asks first (refused in a script without --yes)", async () => {
  await using j = await inProcessJdo(NOW);
  const c = await setup(j);
  ok(await j.run(["at-risk", String(c.id)]), "at-risk");
  const task = (await show(j, c.id)).tasks[0];
  const refused = await j.run(["abandon", String(task.id)]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /Refusing to skip the stakeholder notification without --yes/);
  ok(await j.run(["abandon", String(task.id), "--yes"]), "skip with --yes");
  assert.equal((await show(j, c.id)).tasks[0].status, "skipped");
});
