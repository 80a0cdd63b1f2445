import assert from "node:assert/strict";
import fc from "fast-check";
import { type CommitmentFacts, computeIntegrity, gradeFor, streakWeeks } from "./integrity.ts";

const DAY = 86_400_000;
const WEEK = 7 * DAY;
// Wednesday 2025-01-15 12:00 UTC; its week starts Monday 2025-01-13.
const NOW = Date.UTC(2025, 0, 15, 12);
const MONDAY = Date.UTC(2025, 0, 13);

function fact(partial: Partial<CommitmentFacts>): CommitmentFacts {
  return {
    status: "pending",
    dueAt: NOW + DAY,
    completedOnTime: null,
    completedAt: null,
    markedAtRiskAt: null,
    ...partial,
  };
}

/** Completed `weeksAgo` weeks before NOW's week, on Tuesday of that week. */
function done(weeksAgo: number, onTime = true): CommitmentFacts {
  const at = MONDAY - weeksAgo * WEEK + DAY;
  return fact({
    status: "completed",
    dueAt: onTime ? at + DAY : at - DAY,
    completedAt: at,
    completedOnTime: onTime,
  });
}

Deno.test("gradeFor: every boundary of the SPEC's scale", () => {
  const table: [number, string][] = [
    [100, "A+"],
    [97, "A+"],
    [96.99, "A"],
    [93, "A"],
    [92.99, "A-"],
    [90, "A-"],
    [89.99, "B+"],
    [87, "B+"],
    [86.99, "B"],
    [83, "B"],
    [82.99, "B-"],
    [80, "B-"],
    [79.99, "C+"],
    [77, "C+"],
    [76.99, "C"],
    [73, "C"],
    [72.99, "C-"],
    [70, "C-"],
    [69.99, "D+"],
    [67, "D+"],
    [66.99, "D"],
    [63, "D"],
    [62.99, "D-"],
    [60, "D-"],
    [59.99, "F"],
    [0, "F"],
  ];
  for (const [score, grade] of table) assert.equal(gradeFor(score), grade, `score ${score}`);
});

Deno.test("no history: perfect rates, score 100, A+, no streak", () => {
  const r = computeIntegrity([], NOW);
  assert.deepEqual(
    {
      score: r.score,
      grade: r.grade,
      on_time_rate: r.on_time_rate,
      completed: r.completed,
      on_time: r.on_time,
      at_risk: r.at_risk,
      abandoned: r.abandoned,
      streak_weeks: r.streak_weeks,
    },
    {
      score: 100,
      grade: "A+",
      on_time_rate: 1,
      completed: 0,
      on_time: 0,
      at_risk: 0,
      abandoned: 0,
      streak_weeks: 0,
    },
  );
});

Deno.test("on-time rate: completed on or before due / completed", () => {
  const facts = [done(0, true), done(0, false), done(1, true), fact({ status: "pending" })];
  const r = computeIntegrity(facts, NOW);
  assert.equal(r.completed, 3);
  assert.equal(r.on_time, 2);
  assert.equal(r.on_time_rate, 0.667);
});

Deno.test("at-risk: counts flags given before the due date among commitments that became late", () => {
  const facts = [
    // Completed late, flagged before due: counts.
    fact({
      status: "completed",
      dueAt: NOW - 3 * DAY,
      completedAt: NOW - DAY,
      completedOnTime: false,
      markedAtRiskAt: NOW - 4 * DAY,
    }),
    // Open and past due, flagged exactly at the due instant: too late, does not count.
    fact({ status: "at_risk", dueAt: NOW - DAY, markedAtRiskAt: NOW - DAY }),
    // Open and past due, flagged after due: late, not counted.
    fact({ status: "at_risk", dueAt: NOW - 2 * DAY, markedAtRiskAt: NOW - DAY }),
    // Open and past due, never flagged.
    fact({ status: "in_progress", dueAt: NOW - DAY }),
    // Flagged but not late (due tomorrow): neither late nor counted.
    fact({ status: "at_risk", dueAt: NOW + DAY, markedAtRiskAt: NOW - DAY }),
    // Completed on time: not late.
    done(0, true),
    // Abandoned past due: not counted as late.
    fact({ status: "abandoned", dueAt: NOW - DAY }),
  ];
  const r = computeIntegrity(facts, NOW);
  assert.equal(r.late, 4);
  assert.equal(r.at_risk, 1);
  assert.equal(r.at_risk_rate, 0.25);
  assert.equal(r.abandoned, 1);
});

Deno.test("streak: consecutive weeks with a completion and no late completion", () => {
  // This week, last week and the week before: 3.
  assert.equal(streakWeeks([done(0), done(1), done(2)], NOW), 3);
  // Nothing yet this week: counting starts at last week.
  assert.equal(streakWeeks([done(1), done(2)], NOW), 2);
  // A gap week ends the streak.
  assert.equal(streakWeeks([done(0), done(2), done(3)], NOW), 1);
  // A late completion in a week ends the streak there.
  assert.equal(streakWeeks([done(0), done(1), done(1, false), done(2)], NOW), 1);
  assert.equal(streakWeeks([done(0, false), done(1)], NOW), 0);
  // Nothing this week or last week: 0.
  assert.equal(streakWeeks([done(2), done(3)], NOW), 0);
  // Only completed rows count.
  assert.equal(streakWeeks([fact({ status: "pending", completedAt: NOW })], NOW), 0);
  // Weeks start on Monday 00:00 UTC: Sunday 23:59 is the previous week.
  const sunday = fact({
    status: "completed",
    completedAt: MONDAY - 60_000,
    completedOnTime: true,
  });
  const monday = fact({ status: "completed", completedAt: MONDAY, completedOnTime: true });
  assert.equal(streakWeeks([monday], NOW), 1);
  assert.equal(streakWeeks([sunday], NOW), 1); // last week counts when this week is empty
  assert.equal(streakWeeks([monday, sunday], NOW), 2);
});

Deno.test("score: 60% on-time + 25% at-risk + 15% kept, + streak (≤5), rounded, capped at 100", () => {
  // 4 completed, 3 on time; the late one was flagged in time; 1 abandoned.
  const late = fact({
    status: "completed",
    dueAt: MONDAY - 3 * WEEK,
    completedAt: MONDAY - 3 * WEEK + DAY,
    completedOnTime: false,
    markedAtRiskAt: MONDAY - 3 * WEEK - DAY,
  });
  const facts = [done(0), done(1), done(5), late, fact({ status: "abandoned" })];
  const r = computeIntegrity(facts, NOW);
  // on-time 0.75, at-risk 1/1, kept 1 - 1/5 = 0.8, streak 2:
  // 100 * (0.45 + 0.25 + 0.12) + 2 = 84 → B
  assert.equal(r.on_time_rate, 0.75);
  assert.equal(r.at_risk_rate, 1);
  assert.equal(r.streak_weeks, 2);
  assert.equal(r.score, 84);
  assert.equal(r.grade, "B");

  // Everything late and unflagged, everything abandoned: F.
  const bad = [
    fact({ status: "completed", dueAt: NOW - 2 * DAY, completedAt: NOW, completedOnTime: false }),
    fact({ status: "abandoned" }),
  ];
  const rb = computeIntegrity(bad, NOW);
  // on-time 0, at-risk 0/1, kept 1 - 1/2: 100 * 0.075 = 7.5 → 8
  assert.equal(rb.score, 8);
  assert.equal(rb.grade, "F");

  // The streak bonus is capped at 5 points and the score at 100.
  const long = Array.from({ length: 10 }, (_, i) => done(i));
  const rl = computeIntegrity(long, NOW);
  assert.equal(rl.streak_weeks, 10);
  assert.equal(rl.score, 100);
  const almost = [...long, done(0, false)];
  // on-time 10/11 → 54.5; the late one was not flagged → at-risk 0/1; kept 15; streak 0 → 70
  const ra = computeIntegrity(almost, NOW);
  assert.equal(ra.streak_weeks, 0);
  assert.equal(ra.score, 70);
  assert.equal(ra.grade, "C-");
});

Deno.test("property: score in 0..100, grade matches score, counts are consistent", () => {
  const statusArb = fc.constantFrom("pending", "in_progress", "at_risk", "completed", "abandoned");
  const factArb = fc.record({
    status: statusArb,
    dueAt: fc.integer({ min: NOW - 60 * DAY, max: NOW + 60 * DAY }),
    completedOnTime: fc.option(fc.boolean(), { nil: null }),
    completedAt: fc.option(fc.integer({ min: NOW - 60 * DAY, max: NOW }), { nil: null }),
    markedAtRiskAt: fc.option(fc.integer({ min: NOW - 60 * DAY, max: NOW }), { nil: null }),
  });
  fc.assert(
    fc.property(fc.array(factArb, { maxLength: 40 }), (facts) => {
      const r = computeIntegrity(facts, NOW);
      assert.ok(Number.isInteger(r.score) && r.score >= 0 && r.score <= 100);
      assert.equal(r.grade, gradeFor(r.score));
      assert.ok(r.on_time <= r.completed);
      assert.ok(r.at_risk <= r.late);
      assert.ok(r.on_time_rate >= 0 && r.on_time_rate <= 1);
      assert.equal(r.completed, facts.filter((f) => f.status === "completed").length);
      assert.equal(r.abandoned, facts.filter((f) => f.status === "abandoned").length);
      assert.ok(r.streak_weeks >= 0);
    }),
    { numRuns: 300 },
  );
});
