/**
 * The recurrence rules against the original jdo's calculator tests (its
 * tests/unit/recurrence): each case is the original's pattern, "after" date
 * and expected next date. Calendar dates only: no clock is read.
 */
import assert from "node:assert/strict";
import {
  describeEnd,
  describePattern,
  LAST_WEEK,
  nextAfter,
  nthWeekday,
  occurrencesFrom,
  type Pattern,
  patternProblem,
  plusDays,
  type Schedule,
  weekdayOf,
  windowEnd,
} from "./recurrence.ts";

function pattern(p: Partial<Pattern> & Pick<Pattern, "recurrence_type">): Pattern {
  return {
    interval: 1,
    days_of_week: null,
    day_of_month: null,
    week_of_month: null,
    month_of_year: null,
    ...p,
  };
}

function schedule(
  p: Partial<Schedule> & Pick<Schedule, "recurrence_type" | "start_date">,
): Schedule {
  return { ...pattern(p), end_type: "never", end_after_count: null, end_by_date: null, ...p };
}

const MON = 0, WED = 2, FRI = 4;

Deno.test("daily: the next day, every other day, every 7 days", () => {
  assert.equal(nextAfter(pattern({ recurrence_type: "daily" }), "2025-12-16"), "2025-12-17");
  assert.equal(
    nextAfter(pattern({ recurrence_type: "daily", interval: 2 }), "2025-12-16"),
    "2025-12-18",
  );
  assert.equal(
    nextAfter(pattern({ recurrence_type: "daily", interval: 7 }), "2025-12-16"),
    "2025-12-23",
  );
  // Across a year end and a leap day.
  assert.equal(nextAfter(pattern({ recurrence_type: "daily" }), "2027-12-31"), "2028-01-01");
  assert.equal(nextAfter(pattern({ recurrence_type: "daily" }), "2028-02-28"), "2028-02-29");
});

Deno.test("weekly: the nearest listed day; from that day, the next week; interval 2 skips a week", () => {
  const monday = pattern({ recurrence_type: "weekly", days_of_week: [MON] });
  assert.equal(nextAfter(monday, "2025-12-17"), "2025-12-22"); // Wednesday → Monday
  assert.equal(nextAfter(monday, "2025-12-15"), "2025-12-22"); // Monday → next Monday
  const mwf = pattern({ recurrence_type: "weekly", days_of_week: [FRI, MON, WED] });
  assert.equal(nextAfter(mwf, "2025-12-16"), "2025-12-17"); // Tuesday → Wednesday
  assert.equal(nextAfter(mwf, "2025-12-19"), "2025-12-22"); // Friday → Monday
  const fortnightly = pattern({ recurrence_type: "weekly", days_of_week: [MON], interval: 2 });
  assert.equal(nextAfter(fortnightly, "2025-12-15"), "2025-12-29");
  // The original's spec scenario: Monday and Friday after Wednesday Dec 18 (2024) is Friday Dec 20.
  const monFri = pattern({ recurrence_type: "weekly", days_of_week: [MON, FRI] });
  assert.equal(nextAfter(monFri, "2024-12-18"), "2024-12-20");
});

Deno.test("monthly by day: this month's if still ahead, else next month's; the 31st clamps", () => {
  const fifteenth = pattern({ recurrence_type: "monthly", day_of_month: 15 });
  assert.equal(nextAfter(fifteenth, "2025-12-10"), "2025-12-15");
  assert.equal(nextAfter(fifteenth, "2025-12-15"), "2026-01-15");
  assert.equal(nextAfter(fifteenth, "2025-12-20"), "2026-01-15");
  const last = pattern({ recurrence_type: "monthly", day_of_month: 31 });
  assert.equal(nextAfter(last, "2025-01-31"), "2025-02-28"); // common year
  assert.equal(nextAfter(last, "2028-01-31"), "2028-02-29"); // leap year
  assert.equal(nextAfter(last, "2025-02-28"), "2025-03-31"); // back to the 31st
  assert.equal(nextAfter(last, "2025-04-10"), "2025-04-30");
  const every3 = pattern({ recurrence_type: "monthly", day_of_month: 31, interval: 3 });
  assert.equal(nextAfter(every3, "2025-08-31"), "2025-11-30");
});

Deno.test("monthly by nth weekday: 2nd Friday, last Friday, interval", () => {
  const second = pattern({
    recurrence_type: "monthly",
    week_of_month: 2,
    days_of_week: [FRI],
  });
  assert.equal(nextAfter(second, "2025-12-01"), "2025-12-12");
  assert.equal(nextAfter(second, "2025-12-12"), "2026-01-09");
  // The original's spec scenario: 2nd Friday after Dec 15 is the 2nd Friday of January.
  assert.equal(nextAfter(second, "2025-12-15"), "2026-01-09");
  const lastFriday = pattern({
    recurrence_type: "monthly",
    week_of_month: LAST_WEEK,
    days_of_week: [FRI],
  });
  assert.equal(nextAfter(lastFriday, "2025-12-01"), "2025-12-26");
  assert.equal(nextAfter(lastFriday, "2025-12-26"), "2026-01-30");
  assert.equal(nthWeekday(2026, 2, 0, LAST_WEEK), "2026-02-23");
  assert.equal(nthWeekday(2026, 3, 1, 2), "2026-03-10"); // 2nd Tuesday of March 2026
});

Deno.test("yearly: March 15 this year or next; February 29 is the 28th in a common year", () => {
  const ides = pattern({ recurrence_type: "yearly", month_of_year: 3, day_of_month: 15 });
  assert.equal(nextAfter(ides, "2025-02-01"), "2025-03-15");
  assert.equal(nextAfter(ides, "2025-03-20"), "2026-03-15");
  assert.equal(nextAfter(ides, "2025-03-15"), "2026-03-15");
  const leap = pattern({ recurrence_type: "yearly", month_of_year: 2, day_of_month: 29 });
  assert.equal(nextAfter(leap, "2025-01-01"), "2025-02-28");
  assert.equal(nextAfter(leap, "2027-03-01"), "2028-02-29");
  const firstMondayOfJune = pattern({
    recurrence_type: "yearly",
    month_of_year: 6,
    week_of_month: 1,
    days_of_week: [MON],
  });
  assert.equal(nextAfter(firstMondayOfJune, "2026-06-10"), "2027-06-07");
  const biennial = pattern({
    recurrence_type: "yearly",
    month_of_year: 3,
    day_of_month: 15,
    interval: 2,
  });
  assert.equal(nextAfter(biennial, "2025-03-20"), "2027-03-15");
});

Deno.test("calendar dates do not move across daylight-saving changes", () => {
  // Europe and the US change clocks in these weeks; dates are counted in days, not hours.
  const daily = pattern({ recurrence_type: "daily" });
  assert.equal(nextAfter(daily, "2026-03-28"), "2026-03-29");
  assert.equal(nextAfter(daily, "2026-03-29"), "2026-03-30");
  assert.equal(nextAfter(daily, "2026-10-25"), "2026-10-26");
  const sunday = pattern({ recurrence_type: "weekly", days_of_week: [6] });
  assert.equal(nextAfter(sunday, "2026-03-22"), "2026-03-29");
  assert.equal(nextAfter(sunday, "2026-11-01"), "2026-11-08");
  assert.equal(weekdayOf("2026-03-29"), 6);
  assert.equal(plusDays("2026-03-28", 2), "2026-03-30");
});

Deno.test("the series: first occurrence on or after the start; after N; by a date", () => {
  const weekly = schedule({
    recurrence_type: "weekly",
    days_of_week: [MON, FRI],
    start_date: "2026-06-10", // a Wednesday
  });
  assert.deepEqual(occurrencesFrom(weekly, "0000-01-01", 4), [
    "2026-06-12",
    "2026-06-15",
    "2026-06-19",
    "2026-06-22",
  ]);
  // The start date itself when it matches.
  assert.deepEqual(
    occurrencesFrom({ ...weekly, start_date: "2026-06-12" }, "0000-01-01", 1),
    ["2026-06-12"],
  );
  const three = { ...weekly, end_type: "after_count" as const, end_after_count: 3 };
  assert.deepEqual(occurrencesFrom(three, "0000-01-01", 10), [
    "2026-06-12",
    "2026-06-15",
    "2026-06-19",
  ]);
  assert.deepEqual(occurrencesFrom(three, "2026-06-16", 10), ["2026-06-19"]);
  const until = { ...weekly, end_type: "by_date" as const, end_by_date: "2026-06-19" };
  assert.deepEqual(occurrencesFrom(until, "2026-06-13", 10), ["2026-06-15", "2026-06-19"]);
  // The interval counts from the first occurrence, which is on or after the start.
  const fortnightly = schedule({
    recurrence_type: "weekly",
    days_of_week: [MON],
    interval: 2,
    start_date: "2026-06-10",
  });
  assert.deepEqual(occurrencesFrom(fortnightly, "0000-01-01", 3), [
    "2026-06-15",
    "2026-06-29",
    "2026-07-13",
  ]);
  const everyOtherDay = schedule({
    recurrence_type: "daily",
    interval: 2,
    start_date: "2026-06-10",
  });
  assert.deepEqual(occurrencesFrom(everyOtherDay, "0000-01-01", 2), ["2026-06-10", "2026-06-12"]);
  // An end leaves nothing after it: the original's end conditions.
  assert.deepEqual(occurrencesFrom(until, "2026-06-20", 10), []);
});

Deno.test("generation windows: a week, two weeks, a month, a year (month end clamps)", () => {
  assert.equal(windowEnd("daily", "2026-06-10"), "2026-06-17");
  assert.equal(windowEnd("weekly", "2026-06-10"), "2026-06-24");
  assert.equal(windowEnd("monthly", "2026-01-31"), "2026-02-28");
  assert.equal(windowEnd("yearly", "2028-02-29"), "2029-02-28");
});

Deno.test("validation: the original's model rules", () => {
  assert.equal(patternProblem(pattern({ recurrence_type: "daily" })), null);
  assert.match(
    patternProblem(pattern({ recurrence_type: "weekly", days_of_week: [] }))!,
    /at least one day/,
  );
  assert.match(
    patternProblem(pattern({ recurrence_type: "weekly", days_of_week: [1, 1] }))!,
    /twice/,
  );
  assert.match(patternProblem(pattern({ recurrence_type: "monthly" }))!, /day of the month/);
  assert.match(
    patternProblem(pattern({ recurrence_type: "monthly", day_of_month: 32 }))!,
    /1-31/,
  );
  assert.match(
    patternProblem(pattern({ recurrence_type: "yearly", day_of_month: 1 }))!,
    /needs a month/,
  );
  assert.match(
    patternProblem(pattern({ recurrence_type: "daily", interval: 0 }))!,
    /interval/,
  );
  assert.match(
    patternProblem(
      pattern({ recurrence_type: "monthly", week_of_month: 7, days_of_week: [1] }),
    )!,
    /week of the month/,
  );
});

Deno.test("summaries as the original words them", () => {
  assert.equal(describePattern(pattern({ recurrence_type: "daily" })), "Daily");
  assert.equal(describePattern(pattern({ recurrence_type: "daily", interval: 3 })), "Every 3 days");
  assert.equal(
    describePattern(pattern({ recurrence_type: "weekly", days_of_week: [FRI, MON, WED] })),
    "Weekly on Mon, Wed, Fri",
  );
  assert.equal(
    describePattern(pattern({ recurrence_type: "monthly", day_of_month: 22 })),
    "Monthly on the 22nd",
  );
  assert.equal(
    describePattern(pattern({ recurrence_type: "monthly", day_of_month: 11, interval: 2 })),
    "Every 2 months on the 11th",
  );
  assert.equal(
    describePattern(
      pattern({ recurrence_type: "monthly", week_of_month: LAST_WEEK, days_of_week: [FRI] }),
    ),
    "Monthly on the last Fri",
  );
  assert.equal(
    describePattern(pattern({ recurrence_type: "yearly", month_of_year: 3, day_of_month: 15 })),
    "Yearly on Mar 15",
  );
  assert.equal(
    describeEnd(schedule({
      recurrence_type: "daily",
      start_date: "2026-01-01",
      end_type: "after_count",
      end_after_count: 1,
    })),
    "after 1 time",
  );
});
