/**
 * Issue 19, point 1: `jdo integrity` computes the score as the original jdo
 * does, from real commands run in this process with a settable clock (never
 * the machine's date). Times are explicit ISO instants around 2031.
 */
import assert from "node:assert/strict";
import { type InProcessJdo, inProcessJdo } from "../helpers/in_process.ts";

type Rec = Record<string, unknown>;
type Report = Rec & {
  trends: Rec & { current: Rec; previous: Rec };
  affecting: { id: string; deliverable: string; reason: string }[];
};

const REQUIRED = [
  "score",
  "grade",
  "on_time_rate",
  "completed",
  "on_time",
  "at_risk",
  "abandoned",
  "streak_weeks",
];

async function commit(j: InProcessJdo, what: string, due: string, at: string, to = "Dave") {
  j.clock.set(new Date(at));
  return await j.json(["commit", what, "--to", to, "--due", due, "--time", "17:00"]);
}

async function act(j: InProcessJdo, verb: string[], id: unknown, at: string) {
  j.clock.set(new Date(at));
  const r = await j.run(
    [...verb, String(id), "--yes"].filter((a) => verb[0] === "abandon" || a !== "--yes"),
  );
  assert.equal(r.code, 0, `${verb.join(" ")}: ${r.stderr}${r.stdout}`);
}

async function report(j: InProcessJdo, at: string): Promise<Report> {
  j.clock.set(new Date(at));
  return await j.json<Report>(["integrity"]);
}

Deno.test("integrity: a clean slate is 95 (A) with every component at 1, and --json keeps SPEC §2's keys", async () => {
  await using j = await inProcessJdo("2031-03-01T12:00:00Z");
  const r = await report(j, "2031-03-01T12:00:00Z");
  for (const key of REQUIRED) assert.ok(key in r, key);
  assert.equal(r.score, 95);
  assert.equal(r.grade, "A");
  for (
    const key of [
      "on_time_rate",
      "notification_timeliness",
      "cleanup_completion_rate",
      "estimation_accuracy",
    ]
  ) {
    assert.equal(r[key], 1, key);
  }
  assert.equal(r.streak_weeks, 0);
  assert.equal(r.streak_bonus, 0);
  assert.deepEqual(r.affecting, []);
  assert.equal(r.trends.overall, "stable");
});

Deno.test("integrity: on-time rate counts completions only (open and abandoned items do not count)", async () => {
  await using j = await inProcessJdo();
  const day = (d: number) => `2031-03-${String(d).padStart(2, "0")}`;
  for (let i = 0; i < 4; i++) {
    const c = await commit(j, `R${i}`, day(10 + i), "2031-03-01T09:00:00Z");
    // Three on time, the last one completed the day after it was due.
    await act(
      j,
      ["complete"],
      c.id,
      i < 3 ? `${day(10 + i)}T12:00:00Z` : `${day(11 + i)}T12:00:00Z`,
    );
  }
  await commit(j, "Still open and overdue", day(2), "2031-03-01T09:00:00Z");
  const gone = await commit(j, "Dropped", day(20), "2031-03-01T09:00:00Z");
  await act(j, ["abandon"], gone.id, "2031-03-14T09:00:00Z");
  const r = await report(j, "2031-03-15T12:00:00Z");
  assert.equal(r.completed, 4);
  assert.equal(r.on_time, 3);
  assert.equal(r.on_time_rate, 0.75);
  assert.equal(r.abandoned, 1);
  const late = r.affecting.map((a) => [a.deliverable, a.reason]);
  assert.deepEqual(late, [["R3", "completed late"], ["Dropped", "abandoned"]]);
});

Deno.test("integrity: notification timeliness is graded by days of warning before the due date", async () => {
  await using j = await inProcessJdo();
  const early = await commit(j, "Early warning", "2031-03-20", "2031-03-01T09:00:00Z");
  const onDay = await commit(j, "Warned on the day", "2031-03-05", "2031-03-01T09:00:00Z");
  await act(j, ["at-risk"], early.id, "2031-03-10T09:00:00Z"); // 10 days ahead: full credit
  await act(j, ["at-risk"], onDay.id, "2031-03-05T08:00:00Z"); // due day: none
  let r = await report(j, "2031-03-05T12:00:00Z");
  assert.equal(r.at_risk, 2);
  assert.equal(r.notification_timeliness, 0.5);
  const three = await commit(j, "Three days", "2031-03-13", "2031-03-01T09:00:00Z");
  await act(j, ["at-risk"], three.id, "2031-03-10T09:00:00Z");
  r = await report(j, "2031-03-10T12:00:00Z");
  assert.equal(r.notification_timeliness, Math.round(((1 + 0 + 3 / 7) / 3) * 1000) / 1000);
});

Deno.test("integrity: backfilling a commitment with a past due date is no warning that could have been given", async () => {
  await using j = await inProcessJdo();
  // Recorded on March 10th, due March 1st: at risk the moment it exists.
  const backfilled = await commit(j, "Backfilled", "2031-03-01", "2031-03-10T09:00:00Z");
  await act(j, ["at-risk"], backfilled.id, "2031-03-10T09:05:00Z");
  let r = await report(j, "2031-03-10T12:00:00Z");
  assert.equal(r.notification_timeliness, 1);
  // Recorded before it was due and flagged after: that warning came too late.
  const missed = await commit(j, "Missed", "2031-03-05", "2031-03-01T09:00:00Z");
  await act(j, ["at-risk"], missed.id, "2031-03-10T10:00:00Z");
  r = await report(j, "2031-03-10T12:00:00Z");
  assert.equal(r.notification_timeliness, 0);
});

Deno.test("integrity: cleanup plans feed the cleanup rate (notify, deliver, abandon, recover)", async () => {
  await using j = await inProcessJdo();
  const a = await commit(j, "A", "2031-04-01", "2031-03-01T09:00:00Z");
  await act(j, ["at-risk"], a.id, "2031-03-02T09:00:00Z");
  let r = await report(j, "2031-03-02T10:00:00Z");
  assert.equal(r.cleanup_completion_rate, 0);
  assert.equal(r.cleanup_plans, 1);
  assert.equal(r.score, 70); // 35 + 25 + 0 + 10
  assert.equal(r.grade, "C-");
  const shown = await j.json<Rec & { tasks: Rec[] }>(["show", String(a.id)]);
  await act(j, ["complete"], shown.tasks[0].id, "2031-03-02T11:00:00Z"); // notified
  r = await report(j, "2031-03-02T12:00:00Z");
  assert.equal(r.cleanup_completion_rate, 1);
  assert.equal(r.score, 95);
  // Abandoned without notifying (--yes): the plan is skipped and counts against.
  const b = await commit(j, "B", "2031-04-01", "2031-03-01T09:00:00Z");
  await act(j, ["at-risk"], b.id, "2031-03-03T09:00:00Z");
  await act(j, ["abandon"], b.id, "2031-03-03T10:00:00Z");
  r = await report(j, "2031-03-03T12:00:00Z");
  assert.equal(r.cleanup_plans, 2);
  assert.equal(r.cleanup_plans_done, 1);
  assert.equal(r.cleanup_completion_rate, 0.5);
  // Recovered: the plan is cancelled and no longer counts either way.
  const c = await commit(j, "C", "2031-04-01", "2031-03-01T09:00:00Z");
  await act(j, ["at-risk"], c.id, "2031-03-04T09:00:00Z");
  await act(j, ["recover"], c.id, "2031-03-04T10:00:00Z");
  r = await report(j, "2031-03-04T12:00:00Z");
  assert.equal(r.cleanup_plans, 2);
  assert.equal(r.cleanup_completion_rate, 0.5);
});

Deno.test("integrity: streak weeks, their bonus, and what resets them (late completion, abandonment)", async () => {
  await using j = await inProcessJdo();
  // Three consecutive ISO weeks (Mondays 2031-03-03, -10, -17), each with an on-time completion.
  for (const day of ["2031-03-04", "2031-03-11", "2031-03-18"]) {
    const c = await commit(j, `Week of ${day}`, day, "2031-03-01T09:00:00Z");
    await act(j, ["complete"], c.id, `${day}T10:00:00Z`);
  }
  let r = await report(j, "2031-03-19T12:00:00Z");
  assert.equal(r.streak_weeks, 3);
  assert.equal(r.streak_bonus, 5);
  assert.equal(r.score, 100);
  assert.equal(r.grade, "A+");
  // Abandoning something this week resets the streak.
  const dropped = await commit(j, "Dropped", "2031-04-30", "2031-03-01T09:00:00Z");
  await act(j, ["abandon"], dropped.id, "2031-03-19T13:00:00Z");
  r = await report(j, "2031-03-19T14:00:00Z");
  assert.equal(r.streak_weeks, 0);
  // Next week: on time again, one week of streak; then a late completion ends it.
  const next = await commit(j, "Next", "2031-03-26", "2031-03-20T09:00:00Z");
  await act(j, ["complete"], next.id, "2031-03-25T10:00:00Z");
  r = await report(j, "2031-03-25T12:00:00Z");
  assert.equal(r.streak_weeks, 1);
  const late = await commit(j, "Late", "2031-03-31", "2031-03-20T09:00:00Z");
  await act(j, ["complete"], late.id, "2031-04-01T10:00:00Z");
  r = await report(j, "2031-04-01T12:00:00Z");
  assert.equal(r.streak_weeks, 0);
});

Deno.test("integrity: trends compare the last 30 days with the 30 before; affecting lists the last 30 days", async () => {
  await using j = await inProcessJdo();
  // Previous period (40 days before now): one late, one on time.
  const oldLate = await commit(j, "Old late", "2031-01-20", "2031-01-01T09:00:00Z");
  await act(j, ["complete"], oldLate.id, "2031-01-21T10:00:00Z");
  const oldOk = await commit(j, "Old fine", "2031-01-25", "2031-01-01T09:00:00Z");
  await act(j, ["complete"], oldOk.id, "2031-01-20T10:00:00Z");
  // This period: two on time.
  for (const day of ["2031-02-20", "2031-02-25"]) {
    const c = await commit(j, `New ${day}`, day, "2031-02-10T09:00:00Z");
    await act(j, ["complete"], c.id, `${day}T10:00:00Z`);
  }
  const r = await report(j, "2031-03-01T12:00:00Z");
  assert.equal(r.trends.previous.on_time_rate, 0.5);
  assert.equal(r.trends.current.on_time_rate, 1);
  assert.equal(r.trends.on_time, "up");
  assert.equal(r.trends.overall, "up");
  assert.equal(r.trends.cleanup, "stable");
  // The late completion is older than 30 days: it no longer shows as affecting the score.
  assert.deepEqual(r.affecting, []);
  assert.equal(r.on_time_rate, 0.75);
});

Deno.test("integrity: at most five commitments affect the score, late completions first", async () => {
  await using j = await inProcessJdo();
  for (let i = 0; i < 6; i++) {
    const c = await commit(j, `Late ${i}`, "2031-03-02", "2031-03-01T09:00:00Z");
    await act(j, ["complete"], c.id, `2031-03-0${3 + i}T10:00:00Z`);
  }
  const r = await report(j, "2031-03-10T12:00:00Z");
  assert.equal(r.affecting.length, 5);
  assert.equal(r.affecting[0].deliverable, "Late 5");
  const text = await j.run(["integrity"]);
  assert.match(text.stdout, /Affecting your score \(last 30 days\):/);
  assert.match(text.stdout, /Late 5 — completed late/);
  assert.match(text.stdout, /on time +0% \(0 of 6 completed\)/);
});
