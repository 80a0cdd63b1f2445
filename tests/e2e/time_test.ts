/**
 * Issue 19, point 5 ("Time") as a user meets it: jdo as a subprocess, each
 * run at a moment the test names (clockAtEnv). A task's scope defaults to its
 * title; `complete --actual` records the actual-hours category, which the
 * task history and the integrity score read; hours roll up on `show` and
 * `list`; the overcommitting note; the stalled risk on the dashboard. With
 * sync (a real sqld): the history syncs, and completing a task on one device
 * while its estimate is edited on another keeps both, field by field.
 */
import assert from "node:assert/strict";
import { startSqld } from "../helpers/sqld.ts";
import { type Device, device, type Row, setup, syncNow } from "../helpers/device.ts";
import { clockAtEnv } from "../helpers/test_clock.ts";

// Times on the viewer's clock are read in UTC here, whatever zone the suite runs jdo in.
const at = (iso: string) => ({ env: { ...clockAtEnv(iso), JDO_TIMEZONE: "UTC" } });

Deno.test("time (CLI): scope, --actual, history, roll-ups, the overcommitting note and the stalled risk", async () => {
  await using dev = await device("laptop");
  const t0 = "2031-03-03T09:00:00Z";
  const c = await dev.json<Row>(
    ["commit", "Board deck", "--to", "Dana", "--due", "2031-03-05", "--json"],
    at(t0),
  );
  const task = await dev.json<Row>(
    ["task", "add", c.id, "Draft slides", "--estimate", "2", "--json"],
    at(t0),
  );
  assert.equal(task.scope, "Draft slides", "scope defaults to the title");
  await dev.ok(["task", "add", c.id, "Rehearse", "--estimate", "1", "--json"], at(t0));
  await dev.ok(["start", c.id], at(t0));
  await dev.ok(["start", task.id], at("2031-03-03T10:00:00Z"));
  const done = await dev.json<Row>(
    ["complete", task.id, "--actual", "much-longer", "--json"],
    at("2031-03-03T13:00:00Z"),
  );
  assert.equal(done.actual_hours_category, "much_longer");

  const bad = await dev.run(["complete", task.id, "--actual", "forever"], at(t0));
  assert.equal(bad.code, 2);
  assert.equal(bad.stdout, "");
  assert.match(bad.stderr, /^jdo: --actual must be one of .*not "forever"\n/);

  const events = await dev.json<Row[]>(["task", "history", task.id, "--json"], at(t0));
  assert.deepEqual(
    // (Each process's clock starts at the moment given and runs on: minutes compared.)
    events.map((e) => [
      e.event_type,
      e.new_status,
      e.actual_hours_category,
      String(e.created_at).slice(0, 16),
    ]),
    [
      ["created", "pending", null, "2031-03-03T09:00"],
      ["started", "in_progress", null, "2031-03-03T10:00"],
      ["completed", "completed", "much_longer", "2031-03-03T13:00"],
    ],
  );
  const integrity = await dev.json<Row>(["integrity", "--json"], at("2031-03-03T14:00:00Z"));
  assert.equal(integrity.tasks_with_estimates, 1);

  const shown = await dev.json<Row>(["show", c.id, "--json"], at(t0));
  assert.deepEqual(shown.time, {
    total_estimated_hours: 3,
    remaining_estimated_hours: 1,
    completed_estimated_hours: 2,
    task_count: 2,
    tasks_with_estimates: 2,
    completed_task_count: 1,
  });
  const listed = await dev.json<Row[]>(["list", "--json"], at(t0));
  assert.deepEqual(listed[0].time, shown.time);
  const human = await dev.ok(["show", c.id], at(t0));
  assert.match(human.stdout, /Hours +3 h estimated, 1 h remaining, 2 h done/);

  const second = await dev.ok(
    ["commit", "Budget", "--to", "Dana", "--due", "2031-03-20"],
    at("2031-03-03T15:00:00Z"),
  );
  assert.equal(
    second.stderr,
    "jdo: note: you've created 1 commitment this week but only completed 0. Are you overcommitting?\n",
  );

  // The next morning nothing has moved for more than a day: stalled.
  const dash = await dev.ok([], at("2031-03-04T14:00:00Z"));
  assert.match(dash.stdout, /Stalled \(in progress, due soon, nothing done for 24 h\): 1\n/);
  assert.match(dash.stdout, /Board deck → Dana {2}last activity 2031-03-03 13:00/);
  const earlier = await dev.ok([], at("2031-03-04T12:00:00Z"));
  assert.doesNotMatch(earlier.stdout, /Stalled/, "23 hours is not yet a day");
});

async function synced(url: string, token: string, name: string): Promise<Device> {
  const d = await device(name);
  assert.equal((await setup(d, url, token, ["--no-backup"])).code, 0, name);
  return d;
}

Deno.test("time (sync): the task history syncs; a completion here and an estimate edit there both survive", async () => {
  await using server = await startSqld({ auth: true });
  const token = await server.token("rw");
  await using laptop = await synced(server.url, token, "laptop");
  await using desktop = await synced(server.url, token, "desktop");
  const c = await laptop.json<Row>([
    "commit",
    "Quarterly report",
    "--to",
    "Alice",
    "--due",
    "2031-03-20",
    "--json",
  ]);
  const t = await laptop.json<Row>(["task", "add", c.id, "Numbers", "--estimate", "2", "--json"]);
  await syncNow(laptop);
  await syncNow(desktop);

  // Offline on both: the laptop completes the task, the desktop re-estimates
  // it and adds a task of its own.
  await laptop.ok(["complete", t.id, "--actual", "on_target"]);
  await desktop.ok(["edit", t.id, "--estimate", "3"]);
  const u = await desktop.json<Row>(["task", "add", c.id, "Charts", "--estimate", "1", "--json"]);
  await desktop.ok(["start", u.id]);
  for (const d of [laptop, desktop, laptop]) {
    assert.equal((await syncNow(d)).conflicts, 0, `${d.name}: different fields, no conflict`);
  }

  const views = [];
  for (const d of [laptop, desktop]) {
    const task = await d.json<Row>(["show", t.id, "--json"]);
    assert.equal(task.status, "completed", d.name);
    assert.equal(task.actual_hours_category, "on_target", d.name);
    assert.equal(task.estimated_hours, 3, d.name);
    const history = await d.json<Row[]>(["task", "history", c.id, "--json"]);
    views.push(history.map((e) => `${e.task_id === t.id ? "T" : "U"}:${e.event_type}`).sort());
    const integrity = await d.json<Row>(["integrity", "--json"]);
    assert.equal(integrity.tasks_with_estimates, 1, d.name);
    const shown = await d.json<Row>(["show", c.id, "--json"]);
    assert.deepEqual(shown.time, {
      total_estimated_hours: 4,
      remaining_estimated_hours: 1,
      completed_estimated_hours: 3,
      task_count: 2,
      tasks_with_estimates: 2,
      completed_task_count: 1,
    }, d.name);
  }
  assert.deepEqual(views[0], ["T:completed", "T:created", "U:created", "U:started"]);
  assert.deepEqual(views[1], views[0], "both devices hold the same history");
});
