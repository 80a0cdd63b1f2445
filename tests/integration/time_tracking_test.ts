/**
 * Issue 19, point 5 ("Time"): a task's scope defaults to its title;
 * completing a task with an estimate records the original's actual-hours
 * category (asked on a terminal, --actual in scripts), which feeds estimation
 * accuracy; every task status change lands in the task history; hours roll
 * up on commitments and goals; making commitments faster than keeping them
 * brings the overcommitting note; in-progress work due soon and untouched for
 * a day is "stalled" on the dashboard. In process, with a fixed clock.
 */
import assert from "node:assert/strict";
import {
  assertFails as fails,
  assertOk as ok,
  type InProcessJdo,
  inProcessJdo,
} from "../helpers/in_process.ts";

type Rec = Record<string, unknown>;
const NOW = "2031-03-03T12:00:00.000Z"; // a Monday

async function commitment(j: InProcessJdo, due = "2031-03-20", name = "Report"): Promise<Rec> {
  return await j.json(["commit", name, "--to", "Dave", "--due", due]);
}

async function task(j: InProcessJdo, c: Rec, title: string, ...flags: string[]): Promise<Rec> {
  return await j.json(["task", "add", String(c.id), title, ...flags]);
}

const history = (j: InProcessJdo, id: unknown) => j.json<Rec[]>(["task", "history", String(id)]);

Deno.test("time: a task's scope defaults to its title; cleared, it is the title again", async () => {
  await using j = await inProcessJdo(NOW);
  const c = await commitment(j);
  const plain = await task(j, c, "Draft the summary");
  assert.equal(plain.scope, "Draft the summary");
  const scoped = await task(j, c, "Review", "--scope", "read the numbers only");
  assert.equal(scoped.scope, "read the numbers only");
  const cleared = await j.json(["edit", String(scoped.id), "--scope", ""]);
  assert.equal(cleared.scope, "Review");
});

Deno.test("time: complete --actual records the category on the task and in its history", async () => {
  await using j = await inProcessJdo(NOW);
  const c = await commitment(j);
  const t = await task(j, c, "Draft", "--estimate", "2");
  j.clock.set(Date.parse("2031-03-03T13:00:00Z"));
  ok(await j.run(["start", String(t.id)]), "start");
  j.clock.set(Date.parse("2031-03-03T15:30:00Z"));
  const done = await j.json(["complete", String(t.id), "--actual", "longer"]);
  assert.equal(done.status, "completed");
  assert.equal(done.actual_hours_category, "longer");
  const events = await history(j, t.id);
  assert.deepEqual(
    events.map((
      e,
    ) => [
      e.event_type,
      e.previous_status,
      e.new_status,
      e.estimated_hours,
      e.actual_hours_category,
    ]),
    [
      ["created", null, "pending", 2, null],
      ["started", "pending", "in_progress", 2, null],
      ["completed", "in_progress", "completed", 2, "longer"],
    ],
  );
  assert.deepEqual(events.map((e) => e.created_at), [
    NOW,
    "2031-03-03T13:00:00.000Z",
    "2031-03-03T15:30:00.000Z",
  ]);
  assert.ok(events.every((e) => e.task_id === t.id && e.commitment_id === c.id));
  const shown = ok(await j.run(["show", String(t.id)]), "show");
  assert.match(shown.stdout, /Actual time +longer/);
  // Reopened, the task's category goes with the completion it no longer has.
  const reopened = await j.json(["edit", String(t.id), "--status", "pending"]);
  assert.equal(reopened.actual_hours_category, null);
  const last = (await history(j, t.id)).at(-1)!;
  assert.deepEqual([last.event_type, last.previous_status, last.new_status], [
    "reopened",
    "completed",
    "pending",
  ]);
});

Deno.test("time: --actual is refused where there is nothing to record, with one line and exit 2", async () => {
  await using j = await inProcessJdo(NOW);
  const c = await commitment(j);
  const unestimated = await task(j, c, "No estimate");
  const estimated = await task(j, c, "Estimated", "--estimate", "1");
  fails(
    await j.run(["complete", String(unestimated.id), "--actual", "on_target"]),
    2,
    /--actual needs a task with an estimate/,
    "no estimate",
  );
  fails(
    await j.run(["complete", String(c.id), "--actual", "on_target"]),
    2,
    /--actual applies only to completing a task/,
    "a commitment",
  );
  fails(
    await j.run(["complete", String(estimated.id), "--actual", "ontime"]),
    2,
    /--actual must be one of much_shorter, shorter, on_target, longer, much_longer \(or 1-5\), not "ontime"/,
    "unknown category",
  );
  const t = await j.json(["show", String(estimated.id)]);
  assert.equal(t.status, "pending", "nothing half-written");
  assert.equal((await history(j, estimated.id)).length, 1, "only its creation");
});

Deno.test("time: on a terminal, completing an estimated task asks how long it took; Enter skips", async () => {
  await using j = await inProcessJdo(NOW);
  const c = await commitment(j);
  const a = await task(j, c, "Asked", "--estimate", "3");
  const asked = ok(await j.run(["complete", String(a.id)], { tty: true, answers: ["5"] }), "");
  assert.equal(asked.asked.length, 1);
  assert.match(asked.asked[0], /How did the time taken compare with the estimate/);
  assert.match(asked.stderr, /Estimated: 3 h/);
  assert.match(asked.stderr, /\[3\] On target \(85-115%\)/);
  assert.equal((await j.json(["show", String(a.id)])).actual_hours_category, "much_longer");

  const b = await task(j, c, "Skipped answer", "--estimate", "1");
  ok(await j.run(["complete", String(b.id)], { tty: true, answers: [""] }), "Enter");
  assert.equal((await j.json(["show", String(b.id)])).actual_hours_category, null);

  const retry = await task(j, c, "Wrong then right", "--estimate", "1");
  const r = ok(
    await j.run(["complete", String(retry.id)], { tty: true, answers: ["9", "shorter"] }),
    "",
  );
  assert.equal(r.asked.length, 2, "asked again after a wrong answer");
  assert.equal((await j.json(["show", String(retry.id)])).actual_hours_category, "shorter");

  // Off a terminal, or without an estimate, nothing is asked.
  const quiet = await task(j, c, "Script", "--estimate", "1");
  const off = ok(await j.run(["complete", String(quiet.id)]), "no tty");
  assert.deepEqual(off.asked, []);
  const none = await task(j, c, "No estimate");
  const noEstimate = ok(await j.run(["complete", String(none.id)], { tty: true }), "");
  assert.deepEqual(noEstimate.asked, []);
});

Deno.test("time: recorded categories feed the integrity score's estimation accuracy", async () => {
  await using j = await inProcessJdo(NOW);
  const c = await commitment(j);
  const categories = ["on_target", "on_target", "on_target", "much_longer", "shorter"];
  for (const [i, category] of categories.entries()) {
    const t = await task(j, c, `T${i}`, "--estimate", "1");
    ok(await j.run(["complete", String(t.id), "--actual", category]), category);
  }
  const r = await j.json(["integrity"]);
  assert.equal(r.tasks_with_estimates, 5);
  // Same day, same weight: (1 + 1 + 1 + 0.25 + 0.75) / 5.
  assert.equal(r.estimation_accuracy, 0.8);
  // A week later the week-old ones weigh half as much as a new one.
  j.clock.set(Date.parse("2031-03-10T12:00:00Z"));
  const t = await task(j, c, "Late", "--estimate", "1");
  ok(await j.run(["complete", String(t.id), "--actual", "much_shorter"]), "");
  const later = await j.json(["integrity"]);
  assert.equal(later.tasks_with_estimates, 6);
  assert.equal(later.estimation_accuracy, Math.round(((0.8 * 5 * 0.5 + 0.25) / 3.5) * 1000) / 1000);
  // After 90 days they no longer count: fewer than five, the clean slate again.
  j.clock.set(Date.parse("2031-06-05T12:00:00Z"));
  const old = await j.json(["integrity"]);
  assert.equal(old.tasks_with_estimates, 1);
  assert.equal(old.estimation_accuracy, 1);
});

Deno.test("time: history records skips, abandons and the notification task; it outlives the task", async () => {
  await using j = await inProcessJdo(NOW);
  const c = await commitment(j);
  const skipped = await task(j, c, "Not needed");
  ok(await j.run(["abandon", String(skipped.id)]), "skip a pending task");
  const dropped = await task(j, c, "Dropped midway", "--estimate", "4");
  ok(await j.run(["start", String(dropped.id)]), "start");
  ok(await j.run(["abandon", String(dropped.id)]), "abandon it in progress");
  ok(await j.run(["at-risk", String(c.id)]), "at-risk adds the notification task");
  const notify = ((await j.json(["show", String(c.id)])).tasks as Rec[])[0];
  ok(await j.run(["recover", String(c.id), "--resolved"]), "recover: the notice is skipped");

  const all = await history(j, c.id);
  const of = (id: unknown) =>
    all.filter((e) => e.task_id === id).map((e) => `${e.event_type}:${e.new_status}`);
  assert.deepEqual(of(skipped.id), ["created:pending", "skipped:skipped"]);
  assert.deepEqual(of(dropped.id), ["created:pending", "started:in_progress", "abandoned:skipped"]);
  assert.deepEqual(of(notify.id), ["created:pending", "skipped:skipped"]);
  assert.equal(
    all.find((e) => e.task_id === notify.id && e.event_type === "skipped")?.notes,
    "Situation resolved",
  );

  const table = ok(await j.run(["task", "history", String(c.id)]), "human view");
  assert.match(table.stdout, /^WHEN +TASK +EVENT +STATUS +DETAILS/);
  assert.match(table.stdout, /Dropped midway +abandoned +in progress → skipped +est\. 4 h/);

  const listed = ok(await j.run(["list", "task-history"]), "list task-history");
  assert.match(listed.stdout, /^ID +WHEN +EVENT_TYPE\n/);
  assert.equal((await j.json<Rec[]>(["list", "task-history"])).length, all.length);

  // As in the original, the history stays when the task (or commitment) is deleted.
  ok(await j.run(["delete", String(dropped.id), "--yes"]), "delete the task");
  assert.equal((await history(j, c.id)).length, all.length);
  const byTask = await j.run(["task", "history", String(dropped.id)]);
  assert.equal(byTask.code, 1, "the task itself is gone");
  fails(await j.run(["task", "history", "zzzz"]), 1, /IDs are hexadecimal/, "bad id");
});

Deno.test("time: estimated and remaining hours roll up on commitments and goals", async () => {
  await using j = await inProcessJdo(NOW);
  const goal = await j.json(["goal", "add", "Ship v2"]);
  const c = await j.json([
    "commit",
    "Release notes",
    "--to",
    "Dave",
    "--due",
    "2031-03-20",
    "--goal",
    String(goal.id),
  ]);
  const a = await task(j, c, "Outline", "--estimate", "1.5");
  const b = await task(j, c, "Write", "--estimate", "3");
  const s = await task(j, c, "Polish", "--estimate", "0.5");
  await task(j, c, "Unestimated");
  ok(await j.run(["complete", String(a.id), "--actual", "on_target"]), "");
  ok(await j.run(["start", String(b.id)]), "");
  ok(await j.run(["abandon", String(s.id)]), "skipped: neither remaining nor done");
  const expected = {
    total_estimated_hours: 5,
    remaining_estimated_hours: 3,
    completed_estimated_hours: 1.5,
    task_count: 4,
    tasks_with_estimates: 3,
    completed_task_count: 1,
  };
  assert.deepEqual((await j.json(["show", String(c.id)])).time, expected);
  const listed = await j.json<Rec[]>(["list"]);
  assert.deepEqual(listed.find((r) => r.id === c.id)?.time, expected);
  const shown = ok(await j.run(["show", String(c.id)]), "human show");
  assert.match(
    shown.stdout,
    /Hours +5 h estimated, 3 h remaining, 1\.5 h done \(3 of 4 tasks estimated\)/,
  );

  // The goal sums its commitments; an abandoned one's work is not counted.
  const other = await j.json([
    "commit",
    "Migration guide",
    "--to",
    "Dave",
    "--due",
    "2031-03-25",
    "--goal",
    String(goal.id),
  ]);
  await task(j, other, "Draft", "--estimate", "2");
  const dropped = await j.json([
    "commit",
    "Blog post",
    "--to",
    "Dave",
    "--due",
    "2031-03-25",
    "--goal",
    String(goal.id),
  ]);
  await task(j, dropped, "Draft", "--estimate", "10");
  ok(await j.run(["abandon", String(dropped.id), "--yes"]), "abandon");
  const g = await j.json(["show", String(goal.id)]);
  assert.deepEqual(g.time, {
    total_estimated_hours: 7,
    remaining_estimated_hours: 5,
    completed_estimated_hours: 1.5,
    task_count: 5,
    tasks_with_estimates: 4,
    completed_task_count: 1,
  });
  // Nothing estimated: no Hours line.
  const bare = await commitment(j, "2031-03-22", "Bare");
  await task(j, bare, "T");
  assert.doesNotMatch(ok(await j.run(["show", String(bare.id)]), "").stdout, /Hours/);
});

Deno.test("time: making commitments faster than keeping them brings the original's note", async () => {
  await using j = await inProcessJdo(NOW);
  const first = ok(await j.run(["commit", "One", "--to", "Dave", "--due", "2031-03-20"]), "");
  assert.equal(first.stderr, "", "none made yet this week");
  const second = ok(await j.run(["commit", "Two", "--to", "Dave", "--due", "2031-03-21"]), "");
  assert.match(second.stdout, /^Committed [0-9a-f]{6,}: "Two" to Dave, due 2031-03-21 09:00\n$/);
  assert.equal(
    second.stderr,
    "jdo: note: you've created 1 commitment this week but only completed 0. Are you overcommitting?\n",
  );
  // With --json too: stdout is the record alone.
  const json = ok(
    await j.run(["commit", "Three", "--to", "Dave", "--due", "2031-03-21", "--json"]),
    "",
  );
  assert.ok(JSON.parse(json.stdout).id);
  assert.match(json.stderr, /created 2 commitments this week but only completed 0/);
  // Keeping them quiets it: 3 made, 3 completed.
  for (const c of await j.json<Rec[]>(["list"])) ok(await j.run(["complete", String(c.id)]), "");
  const kept = ok(await j.run(["commit", "Four", "--to", "Dave", "--due", "2031-03-22"]), "");
  assert.equal(kept.stderr, "");
  // Only the last seven days count: a week on, "Four" was made 8 days ago.
  j.clock.set(Date.parse("2031-03-11T12:00:00Z"));
  const later = ok(await j.run(["commit", "Five", "--to", "Dave", "--due", "2031-03-22"]), "");
  assert.equal(later.stderr, "");
});

Deno.test("time: in-progress work due within two days and untouched for 24 hours is stalled on the dashboard", async () => {
  await using j = await inProcessJdo("2031-03-01T09:00:00Z");
  const stalled = await commitment(j, "2031-03-04", "Stalled report");
  const busy = await commitment(j, "2031-03-04", "Busy report");
  const later = await commitment(j, "2031-03-06", "Due later");
  const waiting = await commitment(j, "2031-03-04", "Not started");
  const busyTask = await task(j, busy, "Numbers");
  for (const c of [stalled, busy, later]) ok(await j.run(["start", String(c.id)]), "start");
  // Two days on: "Busy report" had a task started an hour ago.
  j.clock.set(Date.parse("2031-03-03T11:00:00Z"));
  ok(await j.run(["start", String(busyTask.id)]), "task activity");
  j.clock.set(Date.parse("2031-03-03T12:00:00Z"));
  const dash = ok(await j.run([]), "dashboard").stdout;
  assert.match(dash, /Stalled \(in progress, due soon, nothing done for 24 h\): 1\n/);
  assert.match(dash, /Stalled report → Dave {2}last activity 2031-03-01 09:00/);
  const section = dash.slice(dash.indexOf("Stalled ("));
  for (const c of [busy, later, waiting]) {
    assert.doesNotMatch(section.split("\n\n")[0], new RegExp(String(c.deliverable)));
  }
  // Touching it (an edit) takes it off the list.
  ok(await j.run(["edit", String(stalled.id), "--notes", "on it"]), "");
  assert.doesNotMatch(ok(await j.run([]), "").stdout, /Stalled \(/);
});
