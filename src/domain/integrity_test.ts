/**
 * The integrity formula as the original jdo defines it (its tests of
 * IntegrityMetrics and IntegrityService are the spec): weights, grade scale,
 * warning credit, streak rules, estimation accuracy and trends.
 */
import assert from "node:assert/strict";
import {
  type AtRiskFacts,
  cleanupCompletionRate,
  compositeScore,
  estimationAccuracy,
  gradeFor,
  notificationTimeliness,
  shownScore,
  streakOf,
  trendOf,
  warningCredit,
  type WeekTally,
} from "./integrity.ts";

const perfect = {
  onTimeRate: 1,
  notificationTimeliness: 1,
  cleanupCompletionRate: 1,
  estimationAccuracy: 1,
  streakWeeks: 0,
};
const DAY = 24 * 3600 * 1000;
const NOW = Date.parse("2026-06-10T12:00:00Z");

Deno.test("composite: 35/25/25/10 weights; a clean slate scores 95 (A)", () => {
  assert.equal(compositeScore(perfect), 95);
  assert.equal(gradeFor(compositeScore(perfect)), "A");
});

Deno.test("composite: streak bonus is 2 points a week, at most 5", () => {
  assert.equal(shownScore(compositeScore({ ...perfect, streakWeeks: 1 })), 97);
  assert.equal(gradeFor(shownScore(compositeScore({ ...perfect, streakWeeks: 1 }))), "A+");
  assert.equal(compositeScore({ ...perfect, streakWeeks: 3 }), 100);
  assert.equal(compositeScore({ ...perfect, streakWeeks: 10 }), 100);
  const zero = { ...perfect, onTimeRate: 0, notificationTimeliness: 0, cleanupCompletionRate: 0 };
  assert.equal(compositeScore({ ...zero, estimationAccuracy: 0 }), 0);
});

Deno.test("composite: a mixed record (0.8, 0.6, 0.7, 0.9, 2 weeks) scores 73.5, C", () => {
  const score = compositeScore({
    onTimeRate: 0.8,
    notificationTimeliness: 0.6,
    cleanupCompletionRate: 0.7,
    estimationAccuracy: 0.9,
    streakWeeks: 2,
  });
  assert.equal(shownScore(score), 73.5);
  assert.equal(gradeFor(shownScore(score)), "C");
});

Deno.test("grade scale of SPEC §1 at every boundary; shown scores never round up across one", () => {
  const scale: [number, string][] = [
    [100, "A+"],
    [97, "A+"],
    [96.9, "A"],
    [93, "A"],
    [90, "A-"],
    [87, "B+"],
    [83, "B"],
    [80, "B-"],
    [77, "C+"],
    [73, "C"],
    [70, "C-"],
    [67, "D+"],
    [63, "D"],
    [60, "D-"],
    [59.9, "F"],
    [0, "F"],
  ];
  for (const [score, grade] of scale) assert.equal(gradeFor(score), grade, String(score));
  assert.equal(shownScore(96.96), 96.9);
  assert.equal(shownScore(0.97 * 100), 97);
});

Deno.test("warning credit: 7+ days full, due day or after none, linear between", () => {
  assert.equal(warningCredit(7), 1);
  assert.equal(warningCredit(30), 1);
  assert.equal(warningCredit(0), 0);
  assert.equal(warningCredit(-3), 0);
  assert.equal(warningCredit(3), 3 / 7);
});

function marked(
  dueDate: string,
  markedDate: string,
  extra: Partial<AtRiskFacts> = {},
): AtRiskFacts {
  const dueAt = Date.parse(`${dueDate}T17:00:00Z`);
  const markedAt = Date.parse(`${markedDate}T10:00:00Z`);
  return {
    dueDate,
    dueAt,
    markedAt,
    markedDate,
    createdAt: Date.parse("2026-01-01T00:00:00Z"),
    status: "at_risk",
    completedOnTime: null,
    ...extra,
  };
}

Deno.test("timeliness: averages warnings; none counted is a clean slate", () => {
  assert.equal(notificationTimeliness([]), 1);
  assert.equal(notificationTimeliness([marked("2026-06-20", "2026-06-10")]), 1);
  assert.equal(notificationTimeliness([marked("2026-06-13", "2026-06-10")]), 3 / 7);
  assert.equal(notificationTimeliness([marked("2026-06-10", "2026-06-10")]), 0);
  assert.equal(notificationTimeliness([marked("2026-06-07", "2026-06-10")]), 0);
  assert.equal(
    notificationTimeliness([
      marked("2026-06-20", "2026-06-10"),
      marked("2026-06-10", "2026-06-10"),
    ]),
    0.5,
  );
});

Deno.test("timeliness: a backfilled commitment (recorded after its due instant) does not count", () => {
  const backfilled = marked("2026-06-01", "2026-06-10", {
    createdAt: Date.parse("2026-06-09T00:00:00Z"),
  });
  assert.equal(notificationTimeliness([backfilled]), 1);
  // Recorded before it was due and flagged after: a warning that came too late.
  const late = marked("2026-06-01", "2026-06-10", {
    createdAt: Date.parse("2026-05-20T00:00:00Z"),
  });
  assert.equal(notificationTimeliness([late, backfilled]), 0);
});

Deno.test("timeliness: an at-risk commitment delivered on time does not count against the score", () => {
  const recovered = marked("2026-06-11", "2026-06-10", {
    status: "completed",
    completedOnTime: true,
  });
  assert.equal(notificationTimeliness([recovered]), 1);
  const deliveredLate = { ...recovered, completedOnTime: false };
  assert.equal(notificationTimeliness([deliveredLate]), 1 / 7);
});

Deno.test("cleanup rate: carried out (completed, or notified) over plans not cancelled", () => {
  const plan = (status: string) => ({ status, createdAt: NOW });
  assert.equal(cleanupCompletionRate([]), 1);
  assert.equal(
    cleanupCompletionRate(["completed", "completed", "in_progress", "planned"].map(plan)),
    0.75,
  );
  assert.equal(cleanupCompletionRate(["skipped", "completed"].map(plan)), 0.5);
  assert.equal(cleanupCompletionRate(["cancelled"].map(plan)), 1);
});

function weeks(...list: [string, number, number][]): WeekTally {
  return new Map(
    list.map(([monday, onTime, late]) => [Date.parse(`${monday}T00:00:00Z`), { onTime, late }]),
  );
}

Deno.test("streak: weeks with completions all on time, newest first; a late week ends it", () => {
  assert.equal(streakOf(new Map(), null), 0);
  assert.equal(streakOf(weeks(["2026-06-08", 1, 0]), null), 1);
  assert.equal(streakOf(weeks(["2026-06-08", 0, 1]), null), 0);
  assert.equal(
    streakOf(weeks(["2026-06-08", 1, 0], ["2026-06-01", 2, 0], ["2026-05-25", 1, 0]), null),
    3,
  );
  assert.equal(
    streakOf(weeks(["2026-06-08", 1, 0], ["2026-06-01", 0, 1], ["2026-05-25", 1, 0]), null),
    1,
  );
  // A quiet week neither adds nor breaks.
  assert.equal(streakOf(weeks(["2026-06-08", 1, 0], ["2026-05-25", 1, 0]), null), 2);
});

Deno.test("streak: an abandonment resets it; only weeks after the abandonment's week count", () => {
  const three = weeks(["2026-06-08", 1, 0], ["2026-06-01", 1, 0], ["2026-05-25", 1, 0]);
  assert.equal(streakOf(three, Date.parse("2026-06-03T10:00:00Z")), 1);
  assert.equal(streakOf(three, Date.parse("2026-06-09T10:00:00Z")), 0);
  assert.equal(streakOf(three, Date.parse("2026-05-01T10:00:00Z")), 3);
});

Deno.test("estimation accuracy: fewer than 5 estimated tasks is the benefit of the doubt", () => {
  assert.deepEqual(estimationAccuracy([], NOW), { accuracy: 1, count: 0 });
  const one = [{ category: "much_longer", completedAt: NOW }];
  assert.deepEqual(estimationAccuracy(one, NOW), { accuracy: 1, count: 1 });
});

Deno.test("estimation accuracy: on target 1, off lowers it, recent weighs more, >90 days ignored", () => {
  const at = (category: string, daysAgo: number) => ({
    category,
    completedAt: NOW - daysAgo * DAY,
  });
  const onTarget = Array.from({ length: 5 }, (_, i) => at("on_target", i));
  assert.deepEqual(estimationAccuracy(onTarget, NOW), { accuracy: 1, count: 5 });
  const mixed = [
    at("on_target", 0),
    at("shorter", 0),
    at("longer", 1),
    at("much_longer", 2),
    at("much_shorter", 3),
  ];
  const m = estimationAccuracy(mixed, NOW);
  assert.equal(m.count, 5);
  assert.ok(m.accuracy < 1 && m.accuracy > 0, String(m.accuracy));
  const decayed = [at("on_target", 0), ...[31, 32, 33, 34].map((d) => at("much_longer", d))];
  const dd = estimationAccuracy(decayed, NOW);
  assert.equal(dd.count, 5);
  assert.ok(dd.accuracy > 0.5, String(dd.accuracy));
  const old = Array.from({ length: 5 }, () => at("much_longer", 100));
  assert.deepEqual(estimationAccuracy(old, NOW), { accuracy: 1, count: 0 });
});

Deno.test("trend: a change of more than 0.05 is up or down; exactly 0.05 is stable", () => {
  assert.equal(trendOf(0.7, 0.8), "up");
  assert.equal(trendOf(0.8, 0.7), "down");
  assert.equal(trendOf(0.8, 0.82), "stable");
  assert.equal(trendOf(0.8, 0.85), "stable");
});
