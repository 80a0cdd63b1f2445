import nodeAssert from "node:assert/strict";
import fc from "fast-check";
import {
  addDays,
  assertTimeZone,
  type DateContext,
  daysBetween,
  InvalidDateError,
  InvalidTimeError,
  parseDate,
  parseDateTime,
  parseTime,
  parseTimeOfDay,
  skippedWallTime,
  systemTimeZone,
  todayIn,
  wallTimeIn,
  zonedInstant,
} from "./dates.ts";
import { loadDateParser } from "./dates.ts";

await loadDateParser();

// Minimal assertion helpers (JSR's @std/assert is not available here).
function assert(cond: unknown, message?: string): asserts cond {
  nodeAssert.ok(cond, message);
}
function assertEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, message);
}
function assertInstanceOf<T>(
  value: unknown,
  // deno-lint-ignore no-explicit-any
  type: new (...args: any[]) => T,
): asserts value is T {
  assert(
    value instanceof type,
    `expected an instance of ${type.name}, got ${String(value)}`,
  );
}
function assertThrows(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  type?: new (...args: any[]) => Error,
  messageIncludes?: string,
): Error {
  try {
    fn();
  } catch (e) {
    assertInstanceOf(e, type ?? Error);
    if (messageIncludes !== undefined) {
      assert(
        e.message.includes(messageIncludes),
        `expected message to include ${JSON.stringify(messageIncludes)}, got ${
          JSON.stringify(e.message)
        }`,
      );
    }
    return e;
  }
  throw new nodeAssert.AssertionError({ message: "expected fn to throw" });
}

// 2026-11-27T03:00Z is Thursday 2026-11-26 19:00 in Los Angeles and
// Friday 2026-11-27 04:00 in Berlin.
const NOW = new Date("2026-11-27T03:00:00Z");
const LA: DateContext = { now: NOW, timeZone: "America/Los_Angeles" };
const BERLIN: DateContext = { now: NOW, timeZone: "Europe/Berlin" };

function assertInvalidDate(input: string, ctx: DateContext = LA): void {
  const err = assertThrows(() => parseDate(input, ctx));
  assertInstanceOf(err, InvalidDateError);
  assertEquals(err.input, input);
  const named = [
    `Cannot understand the date "${input}": use YYYY-MM-DD or a phrase like "tomorrow", "friday", "in 3 days"`,
    `Cannot use the date "${input}": `,
  ];
  assert(
    err.message === named[0] || (err.message.startsWith(named[1]) && !err.message.includes("\n")),
    `unexpected message: ${err.message}`,
  );
}

// --- todayIn ----------------------------------------------------------------

Deno.test("todayIn gives the calendar date in the context's zone", () => {
  assertEquals(todayIn(LA), "2026-11-26");
  assertEquals(todayIn(BERLIN), "2026-11-27");
  assertEquals(todayIn({ now: NOW, timeZone: "UTC" }), "2026-11-27");
  assertEquals(todayIn({ now: NOW, timeZone: "Asia/Kolkata" }), "2026-11-27");
});

Deno.test("todayIn rejects an unknown zone", () => {
  assertThrows(
    () => todayIn({ now: NOW, timeZone: "Mars/Olympus_Mons" }),
    Error,
    'Unknown time zone "Mars/Olympus_Mons"',
  );
});

// --- parseDate: ISO -----------------------------------------------------------

Deno.test("parseDate returns a valid YYYY-MM-DD date unchanged", () => {
  assertEquals(parseDate("2026-12-01", LA), "2026-12-01");
  assertEquals(parseDate("2028-02-29", LA), "2028-02-29");
  assertEquals(parseDate("2000-02-29", LA), "2000-02-29");
  assertEquals(parseDate("  2026-12-01  ", LA), "2026-12-01");
  // ISO dates are not shifted into the future or by the zone
  assertEquals(parseDate("2020-01-01", BERLIN), "2020-01-01");
});

Deno.test("parseDate rejects ISO dates that do not exist instead of rolling them over", () => {
  for (
    const input of [
      "2026-02-30",
      "2026-02-29",
      "1900-02-29",
      "2026-04-31",
      "2026-13-01",
      "2026-00-10",
      "2026-01-00",
      "2026-01-32",
    ]
  ) {
    assertInvalidDate(input);
  }
});

Deno.test("parseDate rejects malformed ISO-like dates", () => {
  for (const input of ["2026-2-30", "2026-02-30T10:00", "2026/02/30"]) {
    assertInvalidDate(input);
  }
});

// --- parseDate: relative days ---------------------------------------------------

Deno.test("parseDate resolves today/tomorrow/yesterday in the context's zone", () => {
  assertEquals(parseDate("today", LA), "2026-11-26");
  assertEquals(parseDate("today", BERLIN), "2026-11-27");
  assertEquals(parseDate("tomorrow", LA), "2026-11-27");
  assertEquals(parseDate("tomorrow", BERLIN), "2026-11-28");
  assertEquals(parseDate("yesterday", LA), "2026-11-25");
  assertEquals(parseDate("yesterday", BERLIN), "2026-11-26");
});

Deno.test("parseDate is case-insensitive and ignores surrounding whitespace and punctuation", () => {
  assertEquals(parseDate("TODAY", LA), "2026-11-26");
  assertEquals(parseDate("Tomorrow", LA), "2026-11-27");
  assertEquals(parseDate("  tomorrow  ", LA), "2026-11-27");
  assertEquals(parseDate("tomorrow.", LA), "2026-11-27");
});

Deno.test("parseDate resolves 'in N days' from today in the zone", () => {
  assertEquals(parseDate("in 3 days", LA), "2026-11-29");
  assertEquals(parseDate("in 3 days", BERLIN), "2026-11-30");
  assertEquals(parseDate("in 10 days", LA), "2026-12-06");
  assertEquals(parseDate("in 2 weeks", LA), "2026-12-10");
  assertEquals(parseDate("in 0 days", LA), "2026-11-26");
});

// --- parseDate: weekdays --------------------------------------------------------

Deno.test("parseDate resolves a weekday to its next occurrence", () => {
  // Thursday in LA
  assertEquals(parseDate("friday", LA), "2026-11-27");
  assertEquals(parseDate("Friday", LA), "2026-11-27");
  assertEquals(parseDate("saturday", LA), "2026-11-28");
  assertEquals(parseDate("monday", LA), "2026-11-30");
  assertEquals(parseDate("wednesday", LA), "2026-12-02");
  assertEquals(parseDate("fri", LA), "2026-11-27");
});

Deno.test("parseDate resolves a weekday to today when today is that weekday", () => {
  assertEquals(parseDate("friday", BERLIN), "2026-11-27"); // Friday in Berlin
  assertEquals(parseDate("thursday", LA), "2026-11-26"); // Thursday in LA
  assertEquals(parseDate("this friday", BERLIN), "2026-11-27");
  // ... and a week later the day after
  assertEquals(parseDate("thursday", BERLIN), "2026-12-03");
});

Deno.test("parseDate resolves 'next <weekday>' to the first such day after today, as the original", () => {
  assertEquals(parseDate("next monday", LA), "2026-11-30");
  assertEquals(parseDate("next monday", BERLIN), "2026-11-30");
  assertEquals(parseDate("Next Monday", LA), "2026-11-30");
  // Thursday in LA: the coming Friday is tomorrow.
  assertEquals(parseDate("next friday", LA), "2026-11-27");
  // Friday in Berlin: not today, a week ahead.
  assertEquals(parseDate("next friday", BERLIN), "2026-12-04");
  // "friday next week" keeps meaning the Friday of next week.
  assertEquals(parseDate("friday next week", LA), "2026-12-04");
});

Deno.test("parseDate: 'next saturday' on a Friday is tomorrow; 'this <weekday>' may be today", () => {
  // The original's own examples: Tuesday 2025-12-16 and Friday 2025-12-19 (UTC).
  const tuesday = { now: new Date("2025-12-16T12:00:00Z"), timeZone: "UTC" };
  const friday = { now: new Date("2025-12-19T12:00:00Z"), timeZone: "UTC" };
  assertEquals(parseDate("next Friday", tuesday), "2025-12-19");
  assertEquals(parseDate("next Monday", tuesday), "2025-12-22");
  assertEquals(parseDate("this Friday", friday), "2025-12-19");
  assertEquals(parseDate("next saturday", friday), "2025-12-20");
  assertEquals(parseDate("next sat", friday), "2025-12-20");
  assertEquals(parseDate("next friday", friday), "2025-12-26");
  // From a Monday, every "next <day>" lands within the following seven days.
  const monday = { now: new Date("2025-01-06T12:00:00Z"), timeZone: "UTC" };
  for (
    const day of ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
  ) {
    const got = parseDate(`next ${day}`, monday);
    assert(got > "2025-01-06" && got <= "2025-01-13", `next ${day}: ${got}`);
  }
});

Deno.test("parseDate resolves 'last <weekday>' to the most recent one before today", () => {
  assertEquals(parseDate("last friday", LA), "2026-11-20");
  assertEquals(parseDate("last friday", BERLIN), "2026-11-20");
  assertEquals(parseDate("last thursday", LA), "2026-11-19");
  assertEquals(parseDate("last thursday", BERLIN), "2026-11-26");
});

Deno.test("parseDate accepts harmless lead-in words before a phrase", () => {
  assertEquals(parseDate("on friday", LA), "2026-11-27");
  assertEquals(parseDate("by friday", LA), "2026-11-27");
  assertEquals(parseDate("due jan 17", LA), "2027-01-17");
});

// --- parseDate: month and day -----------------------------------------------

Deno.test("parseDate resolves a month-day phrase to the next such date, rolling into next year", () => {
  assertEquals(parseDate("jan 17", LA), "2027-01-17");
  assertEquals(parseDate("Jan 17", BERLIN), "2027-01-17");
  assertEquals(parseDate("january 17th", LA), "2027-01-17");
  assertEquals(parseDate("17 jan", LA), "2027-01-17");
  assertEquals(parseDate("dec 25", LA), "2026-12-25");
});

Deno.test("parseDate resolves a month-day phrase naming today to today", () => {
  assertEquals(parseDate("nov 26", LA), "2026-11-26"); // today in LA
  assertEquals(parseDate("nov 26", BERLIN), "2027-11-26"); // yesterday in Berlin
  assertEquals(parseDate("nov 27", BERLIN), "2026-11-27");
});

Deno.test("parseDate keeps an explicit year, even in the past", () => {
  assertEquals(parseDate("dec 25 2027", LA), "2027-12-25");
  assertEquals(parseDate("jan 17 2025", LA), "2025-01-17");
});

// --- parseDate: errors --------------------------------------------------------

Deno.test("parseDate rejects empty and whitespace-only input", () => {
  assertInvalidDate("");
  assertInvalidDate("   ");
});

Deno.test("parseDate rejects garbage, naming the input in the error", () => {
  for (const input of ["asdf", "soon", "next", "jan", "42", "someday"]) {
    assertInvalidDate(input);
  }
});

Deno.test("parseDate rejects a phrase buried in other words", () => {
  for (
    const input of [
      "blah friday blah",
      "friday blah",
      "blah friday",
      "jan 17 blah",
      "day after tomorrow", // chrono matches only "tomorrow"
      "previous friday", // chrono matches only "friday"
      "in -3 days", // chrono matches only "-3 days"
    ]
  ) {
    assertInvalidDate(input);
  }
});

Deno.test("parseDate rejects input containing two dates or contradictory fields", () => {
  assertInvalidDate("today and tomorrow");
  assertInvalidDate("monday tomorrow"); // tomorrow is a Friday
  assertInvalidDate("friday jan 16"); // 2027-01-16 is a Saturday
  assertEquals(parseDate("friday jan 15", LA), "2027-01-15");
});

Deno.test("parseDate rejects a bare time of day", () => {
  assertInvalidDate("5pm");
  assertInvalidDate("noon");
});

Deno.test("parseDate rejects an unknown context zone", () => {
  assertThrows(
    () => parseDate("today", { now: NOW, timeZone: "Nowhere/Special" }),
    Error,
    'Unknown time zone "Nowhere/Special"',
  );
});

Deno.test("parseDate resolves relative dates on a DST change day", () => {
  // 2026-03-08 03:30 EDT, half an hour after the clocks sprang forward
  const ctx = {
    now: new Date("2026-03-08T07:30:00Z"),
    timeZone: "America/New_York",
  };
  assertEquals(parseDate("today", ctx), "2026-03-08");
  assertEquals(parseDate("tomorrow", ctx), "2026-03-09");
  assertEquals(parseDate("sunday", ctx), "2026-03-08");
  assertEquals(parseDate("in 3 days", ctx), "2026-03-11");
});

Deno.test("parseDate resolves far-east zones across the date line", () => {
  const ctx = { now: NOW, timeZone: "Pacific/Kiritimati" }; // UTC+14
  assertEquals(parseDate("today", ctx), "2026-11-27");
  const ctx2 = {
    now: new Date("2026-11-27T11:00:00Z"),
    timeZone: "Pacific/Kiritimati",
  };
  assertEquals(parseDate("today", ctx2), "2026-11-28");
  assertEquals(parseDate("saturday", ctx2), "2026-11-28");
});

const canSpawn = Deno.permissions.querySync({ name: "run" }).state ===
    "granted" &&
  Deno.permissions.querySync({ name: "read" }).state === "granted";

Deno.test({
  name: "parseDate gives the same answers whatever the host's time zone",
  ignore: !canSpawn,
  async fn() {
    const inputs = [
      "today",
      "tomorrow",
      "friday",
      "thursday",
      "next monday",
      "last friday",
      "in 3 days",
      "jan 17",
      "nov 26",
    ];
    // 00:30 on 2026-09-06 does not exist in Santiago (the clocks jump from
    // midnight to 01:00), which matters when that is the host's zone.
    const gapNow = new Date("2026-09-06T00:30:00Z");
    const answers = inputs.map((i) => [
      parseDate(i, LA),
      parseDate(i, BERLIN),
      parseDate(i, { now: gapNow, timeZone: "UTC" }),
    ]);
    const script = `
      import { loadDateParser, parseDate, systemTimeZone } from ${
      JSON.stringify(import.meta.resolve("./dates.ts"))
    };
      await loadDateParser();
      const now = new Date(${JSON.stringify(NOW.toISOString())});
      const gapNow = new Date(${JSON.stringify(gapNow.toISOString())});
      const answers = ${JSON.stringify(inputs)}.map((i) => [
        parseDate(i, { now, timeZone: "America/Los_Angeles" }),
        parseDate(i, { now, timeZone: "Europe/Berlin" }),
        parseDate(i, { now: gapNow, timeZone: "UTC" }),
      ]);
      console.log(JSON.stringify({ zone: systemTimeZone(), answers }));
    `;
    const root = new URL("../../", import.meta.url);
    for (
      const hostZone of [
        "Pacific/Kiritimati",
        "America/Adak",
        "Asia/Colombo",
        "America/Santiago",
      ]
    ) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["eval", "--quiet", script],
        cwd: root,
        env: { TZ: hostZone },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert(out.success, `subprocess failed under TZ=${hostZone}: ${stderr}`);
      // the zone check proves the subprocess really ran in that host zone
      assertEquals(
        JSON.parse(new TextDecoder().decode(out.stdout)),
        { zone: hostZone, answers },
        `host TZ=${hostZone}`,
      );
    }
  },
});

// --- parseTime -----------------------------------------------------------------

Deno.test("parseTime accepts 24-hour HH:MM times", () => {
  assertEquals(parseTime("09:30"), "09:30");
  assertEquals(parseTime("17:00"), "17:00");
  assertEquals(parseTime("00:00"), "00:00");
  assertEquals(parseTime("23:59"), "23:59");
});

Deno.test("parseTime pads a single-digit hour", () => {
  assertEquals(parseTime("9:30"), "09:30");
  assertEquals(parseTime(" 7:05 "), "07:05");
});

Deno.test("parseTime rejects out-of-range and malformed times, naming the input", () => {
  for (
    const input of [
      "25:00",
      "24:00",
      "12:60",
      "9:7",
      "abc",
      "",
      "0930",
      "09:30:00",
      "-1:00",
      "9am",
      "09.30",
      "123:00",
    ]
  ) {
    const err = assertThrows(() => parseTime(input));
    assertInstanceOf(err, InvalidTimeError);
    assertEquals(err.input, input);
    assert(
      err.message.includes(`"${input}"`),
      `message should name the input: ${err.message}`,
    );
  }
});

// --- zonedInstant ----------------------------------------------------------------

Deno.test("zonedInstant converts a summer wall-clock time using daylight time", () => {
  assertEquals(
    zonedInstant("2026-07-01", "17:00", "America/New_York").toISOString(),
    "2026-07-01T21:00:00.000Z",
  );
});

Deno.test("zonedInstant converts a winter wall-clock time using standard time", () => {
  assertEquals(
    zonedInstant("2026-01-15", "17:00", "America/New_York").toISOString(),
    "2026-01-15T22:00:00.000Z",
  );
  assertEquals(
    zonedInstant("2026-01-15", "17:00", "UTC").toISOString(),
    "2026-01-15T17:00:00.000Z",
  );
});

Deno.test("zonedInstant moves a time skipped by spring-forward ahead by the gap", () => {
  // 02:30 does not exist on 2026-03-08 in New York; it becomes 03:30 EDT.
  assertEquals(
    zonedInstant("2026-03-08", "02:30", "America/New_York").toISOString(),
    "2026-03-08T07:30:00.000Z",
  );
  // Just either side of the gap
  assertEquals(
    zonedInstant("2026-03-08", "01:59", "America/New_York").toISOString(),
    "2026-03-08T06:59:00.000Z",
  );
  assertEquals(
    zonedInstant("2026-03-08", "03:00", "America/New_York").toISOString(),
    "2026-03-08T07:00:00.000Z",
  );
  // Europe/Berlin skips 02:00-03:00 on 2026-03-29
  assertEquals(
    zonedInstant("2026-03-29", "02:30", "Europe/Berlin").toISOString(),
    "2026-03-29T01:30:00.000Z",
  );
});

Deno.test("zonedInstant picks the earlier instant for a time repeated at fall-back", () => {
  // 01:30 happens twice on 2026-11-01 in New York: EDT (05:30Z) then EST.
  assertEquals(
    zonedInstant("2026-11-01", "01:30", "America/New_York").toISOString(),
    "2026-11-01T05:30:00.000Z",
  );
  assertEquals(
    zonedInstant("2026-11-01", "02:00", "America/New_York").toISOString(),
    "2026-11-01T07:00:00.000Z",
  );
});

Deno.test("zonedInstant handles fractional-hour offsets and the southern hemisphere", () => {
  assertEquals(
    zonedInstant("2026-01-01", "00:00", "Asia/Kolkata").toISOString(),
    "2025-12-31T18:30:00.000Z",
  );
  assertEquals(
    zonedInstant("2026-01-01", "12:00", "Asia/Kathmandu").toISOString(),
    "2026-01-01T06:15:00.000Z",
  );
  // Sydney is on daylight time (UTC+11) in January
  assertEquals(
    zonedInstant("2026-01-10", "09:00", "Australia/Sydney").toISOString(),
    "2026-01-09T22:00:00.000Z",
  );
});

Deno.test("zonedInstant rejects bad dates, times and zones", () => {
  assertThrows(() => zonedInstant("2026-02-30", "10:00", "UTC"), RangeError);
  assertThrows(
    () => zonedInstant("2026-02-01", "25:00", "UTC"),
    InvalidTimeError,
  );
  assertThrows(
    () => zonedInstant("2026-02-01", "10:00", "Not/AZone"),
    Error,
    'Unknown time zone "Not/AZone"',
  );
});

const DST_ZONES = [
  "America/New_York",
  "Europe/Berlin",
  "Australia/Sydney",
  "Asia/Tokyo",
  "America/Santiago", // its clocks jump at midnight
];

function wallClockOf(d: Date, timeZone: string): string {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    }).formatToParts(d).map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

/** zonedInstant's answer must read back as the input wall clock, except in a
 * gap, and must be the earlier instant when the wall clock repeats. */
function checkZonedInstant(date: string, time: string, zone: string): void {
  const instant = zonedInstant(date, time, zone);
  const back = wallClockOf(instant, zone);
  if (back !== `${date} ${time}`) {
    // Only a skipped time may fail to round-trip, and it must come out
    // exactly one hour later (every zone here jumps by one hour).
    const plusHour = new Date(Date.parse(`${date}T${time}:00Z`) + 3_600_000);
    assertEquals(
      back,
      plusHour.toISOString().slice(0, 16).replace("T", " "),
      `${date} ${time} ${zone}`,
    );
  } else {
    const hourBefore = new Date(instant.getTime() - 3_600_000);
    assert(
      wallClockOf(hourBefore, zone) !== back,
      `${date} ${time} ${zone}: not the earlier of two instants`,
    );
  }
}

const hhmm = (minutes: number) =>
  `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;

Deno.test("zonedInstant round-trips random wall-clock times", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...DST_ZONES),
      fc.integer({ min: 0, max: 3 * 366 }),
      fc.integer({ min: 0, max: 24 * 60 - 1 }),
      (zone, dayOffset, minutes) => {
        checkZonedInstant(
          addDays("2025-01-01", dayOffset),
          hhmm(minutes),
          zone,
        );
      },
    ),
    { numRuns: 1000, seed: 20261127 },
  );
});

Deno.test("zonedInstant is right at every quarter hour around each DST change", () => {
  let transitionDays = 0;
  for (const zone of DST_ZONES) {
    for (let i = 0; i < 3 * 365; i++) {
      const date = addDays("2025-01-01", i);
      const noonToday = Date.parse(`${date}T12:00:00Z`);
      const offsetChanges = zonedInstant(date, "12:00", zone).getTime() -
          noonToday !==
        zonedInstant(addDays(date, 1), "12:00", zone).getTime() -
          (noonToday + 86_400_000);
      if (!offsetChanges) continue;
      transitionDays++;
      for (const day of [date, addDays(date, 1)]) {
        for (let m = 0; m < 24 * 60; m += 15) {
          checkZonedInstant(day, hhmm(m), zone);
        }
      }
    }
  }
  // New York, Berlin, Sydney and Santiago change twice a year; Tokyo never.
  assertEquals(transitionDays, 4 * 2 * 3);
});

// --- addDays / daysBetween ------------------------------------------------------------

Deno.test("addDays crosses month, year and leap-day boundaries", () => {
  assertEquals(addDays("2026-01-31", 1), "2026-02-01");
  assertEquals(addDays("2026-12-31", 1), "2027-01-01");
  assertEquals(addDays("2027-01-01", -1), "2026-12-31");
  assertEquals(addDays("2026-02-28", 1), "2026-03-01");
  assertEquals(addDays("2028-02-28", 1), "2028-02-29");
  assertEquals(addDays("2028-03-01", -1), "2028-02-29");
  assertEquals(addDays("2000-02-28", 1), "2000-02-29");
  assertEquals(addDays("1900-02-28", 1), "1900-03-01");
  assertEquals(addDays("2028-01-01", 365), "2028-12-31");
  assertEquals(addDays("2026-11-26", 0), "2026-11-26");
  assertEquals(addDays("2026-11-26", 400), "2027-12-31");
});

Deno.test("addDays rejects invalid dates and fractional days", () => {
  assertThrows(() => addDays("2026-02-30", 1), RangeError);
  assertThrows(() => addDays("tomorrow", 1), RangeError);
  assertThrows(() => addDays("2026-01-01", 1.5), RangeError);
});

Deno.test("daysBetween counts whole days from a to b", () => {
  assertEquals(daysBetween("2026-11-26", "2026-11-27"), 1);
  assertEquals(daysBetween("2026-11-27", "2026-11-26"), -1);
  assertEquals(daysBetween("2026-11-26", "2026-11-26"), 0);
  assertEquals(daysBetween("2026-02-28", "2026-03-01"), 1);
  assertEquals(daysBetween("2028-02-28", "2028-03-01"), 2);
  assertEquals(daysBetween("2026-01-01", "2027-01-01"), 365);
  assertEquals(daysBetween("2028-01-01", "2029-01-01"), 366);
  assertEquals(daysBetween("2026-12-31", "2027-01-01"), 1);
  assertEquals(daysBetween("1970-01-01", "2000-01-01"), 10957);
});

Deno.test("daysBetween rejects invalid dates", () => {
  assertThrows(() => daysBetween("2026-02-30", "2026-03-01"), RangeError);
  assertThrows(() => daysBetween("2026-03-01", "2026-3-1"), RangeError);
});

Deno.test("addDays and daysBetween agree with each other and with UTC Date arithmetic", () => {
  const isoOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const minMs = Date.UTC(1600, 0, 1);
  const maxMs = Date.UTC(2600, 0, 1);
  fc.assert(
    fc.property(
      fc.integer({ min: minMs / 86_400_000, max: maxMs / 86_400_000 }),
      fc.integer({ min: -100_000, max: 100_000 }),
      (startDay, n) => {
        const a = isoOf(startDay * 86_400_000);
        const b = addDays(a, n);
        assertEquals(b, isoOf((startDay + n) * 86_400_000));
        assertEquals(daysBetween(a, b), n);
        assertEquals(addDays(b, -n), a);
      },
    ),
    { numRuns: 2000, seed: 42 },
  );
});

// --- time zones ------------------------------------------------------------------

Deno.test("systemTimeZone returns a zone that assertTimeZone accepts", () => {
  const zone = systemTimeZone();
  assert(zone.length > 0);
  assertEquals(assertTimeZone(zone), zone);
});

Deno.test("assertTimeZone accepts IANA names and normalises their case", () => {
  assertEquals(assertTimeZone("America/New_York"), "America/New_York");
  assertEquals(assertTimeZone("Europe/Berlin"), "Europe/Berlin");
  assertEquals(assertTimeZone("UTC"), "UTC");
  assertEquals(assertTimeZone("america/new_york"), "America/New_York");
});

Deno.test("assertTimeZone rejects unknown names with a message naming them", () => {
  for (const name of ["Mars/Base", "", " ", "New York", "America/Nowhere"]) {
    const err = assertThrows(() => assertTimeZone(name));
    assertInstanceOf(err, Error);
    assertEquals(err.message, `Unknown time zone "${name}"`);
  }
});

// --- issue 11: impossible dates, times in phrases, absurd years ---------------

Deno.test("parseDate rejects a month-name phrase whose day does not exist (dec 32 is not 2032-12-01)", () => {
  for (const input of ["dec 32", "jan 45", "march", "dec 2027"]) {
    const err = assertThrows(() => parseDate(input, LA), InvalidDateError);
    assert(err.message.includes(`"${input}"`), err.message);
  }
  assertThrows(() => parseDate("dec 32", LA), InvalidDateError, "no such day");
  assertThrows(() => parseDate("march", LA), InvalidDateError, "day of the month");
  assertEquals(parseDate("dec 31", LA), "2026-12-31");
  // Relative phrases without a day keep chrono's day (today's).
  assertEquals(parseDate("in a month", LA), "2026-12-26");
});

Deno.test("parseDateTime returns the time a phrase names, and none otherwise", () => {
  // LA today is Thursday 2026-11-26, 19:00.
  assertEquals(parseDateTime("tomorrow 3pm", LA), { date: "2026-11-27", time: "15:00" });
  assertEquals(parseDateTime("friday at 9:30", LA), { date: "2026-11-27", time: "09:30" });
  assertEquals(parseDateTime("tomorrow noon", LA), { date: "2026-11-27", time: "12:00" });
  assertEquals(parseDateTime("tomorrow", LA), { date: "2026-11-27" });
  assertEquals(parseDateTime("2026-12-01", LA), { date: "2026-12-01" });
  assertEquals(parseDate("tomorrow 3pm", LA), "2026-11-27");
});

Deno.test("parseDate rejects years more than 100 years from today", () => {
  for (const input of ["0001-01-01", "1900-01-01", "3026-01-01", "9999-12-31"]) {
    assertThrows(() => parseDate(input, LA), InvalidDateError, "more than 100 years");
  }
  assertEquals(parseDate("1927-01-01", LA), "1927-01-01");
  assertEquals(parseDate("2126-11-26", LA), "2126-11-26");
});

// --- issue 19: the original's phrases ------------------------------------------

Deno.test("parseDate refuses vague phrases with a hint to name a day", () => {
  for (
    const input of [
      "next week",
      "soon",
      "later",
      "ASAP",
      "eventually",
      "sometime",
      "next month",
      "next year",
      "by next week",
    ]
  ) {
    const err = assertThrows(() => parseDate(input, LA), InvalidDateError, "too vague");
    assert(err.message.includes(`"${input}"`), err.message);
    assert(err.message.includes("name a day"), err.message);
  }
});

Deno.test("parseDateTime reads 'by 5pm', eod, end of day, noon and midnight after a day", () => {
  // The original's example: Tuesday 2025-12-16.
  const tuesday = { now: new Date("2025-12-16T12:00:00Z"), timeZone: "UTC" };
  assertEquals(parseDateTime("December 20 by 5pm", tuesday), { date: "2025-12-20", time: "17:00" });
  assertEquals(parseDateTime("tomorrow at 3pm", tuesday), { date: "2025-12-17", time: "15:00" });
  assertEquals(parseDateTime("tomorrow by 5pm", tuesday), { date: "2025-12-17", time: "17:00" });
  assertEquals(parseDateTime("friday EOD", tuesday), { date: "2025-12-19", time: "17:00" });
  assertEquals(parseDateTime("friday end of day", tuesday), { date: "2025-12-19", time: "17:00" });
  assertEquals(parseDateTime("2031-03-14 at noon", tuesday), { date: "2031-03-14", time: "12:00" });
  assertEquals(parseDateTime("2031-03-14 midnight", tuesday), {
    date: "2031-03-14",
    time: "00:00",
  });
  assertEquals(parseDateTime("2031-03-14 3:30 pm", tuesday), { date: "2031-03-14", time: "15:30" });
  assertEquals(parseDateTime("2031-03-14 12am", tuesday), { date: "2031-03-14", time: "00:00" });
  // A time alone names no day.
  for (const input of ["5pm", "by 5pm", "eod", "noon", "midnight"]) {
    assertThrows(() => parseDateTime(input, tuesday), InvalidDateError, "needs a day too");
  }
});

Deno.test("parseTimeOfDay takes --time in the original's forms and names a bad input", () => {
  const cases: [string, string][] = [
    ["15:00", "15:00"],
    ["9:05", "09:05"],
    ["3pm", "15:00"],
    ["3 pm", "15:00"],
    ["3:30pm", "15:30"],
    ["12pm", "12:00"],
    ["12am", "00:00"],
    ["by 5pm", "17:00"],
    ["at 9am", "09:00"],
    ["EOD", "17:00"],
    ["end of day", "17:00"],
    ["noon", "12:00"],
    ["midnight", "00:00"],
  ];
  for (const [input, want] of cases) assertEquals(parseTimeOfDay(input), want, input);
  for (const input of ["xyzzy", "", "13pm", "0am", "25:00", "9", "3:75pm"]) {
    const err = assertThrows(() => parseTimeOfDay(input), InvalidTimeError);
    assert(err.message.includes(`"${input}"`), err.message);
  }
});

Deno.test("parseTimeOfDay reads every 12-hour clock time as its 24-hour twin", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), (h, m) => {
      const twelve = `${h % 12 === 0 ? 12 : h % 12}:${String(m).padStart(2, "0")}${
        h < 12 ? "am" : "pm"
      }`;
      assertEquals(
        parseTimeOfDay(twelve),
        `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`,
      );
    }),
  );
});

Deno.test("parseDate refuses a numeric date that reads as two days, suggesting both ISO forms", () => {
  const err = assertThrows(() => parseDate("1/2/2027", LA), InvalidDateError);
  assert(err.message.includes("2027-01-02") && err.message.includes("2027-02-01"), err.message);
  assert(err.message.includes("JDO_DATE_ORDER"), err.message);
  assertThrows(() => parseDate("1.2.2027", LA), InvalidDateError, "YYYY-MM-DD");
  // One reading only: no doubt (the original's 12/25/2025 among them).
  assertEquals(parseDate("12/25/2025", LA), "2025-12-25");
  assertEquals(parseDate("25/12/2027", LA), "2027-12-25");
  assertEquals(parseDate("3/3/2027", LA), "2027-03-03");
  // No year: the next such day on or after today (LA: 2026-11-26).
  assertEquals(parseDate("12/25", LA), "2026-12-25");
  assertThrows(() => parseDate("13/13/2027", LA), InvalidDateError, "no such day");
});

Deno.test("parseDate follows an explicit day order for numeric dates", () => {
  const mdy = { ...LA, dateOrder: "mdy" as const };
  const dmy = { ...LA, dateOrder: "dmy" as const };
  assertEquals(parseDate("1/2/2027", mdy), "2027-01-02");
  assertEquals(parseDate("1/2/2027", dmy), "2027-02-01");
  assertEquals(parseDate("1.2.27", dmy), "2027-02-01");
  assertThrows(() => parseDate("25/12/2027", mdy), InvalidDateError, "JDO_DATE_ORDER=mdy");
  assertEquals(parseDateTime("1/2/2027 by 5pm", dmy), { date: "2027-02-01", time: "17:00" });
});

Deno.test("skippedWallTime names where a time in a spring-forward gap moves, and nothing else", () => {
  assertEquals(skippedWallTime("2027-03-14", "02:30", "America/New_York"), {
    date: "2027-03-14",
    time: "03:30",
  });
  assertEquals(skippedWallTime("2027-03-28", "02:00", "Europe/Berlin"), {
    date: "2027-03-28",
    time: "03:00",
  });
  assertEquals(skippedWallTime("2027-03-14", "03:30", "America/New_York"), undefined);
  assertEquals(skippedWallTime("2027-11-07", "01:30", "America/New_York"), undefined); // repeated, exists
  assertEquals(skippedWallTime("2027-03-14", "02:30", "UTC"), undefined);
});

Deno.test("wallTimeIn shows an instant on the viewer's clock", () => {
  const instant = new Date("2026-11-28T01:00:00Z");
  assertEquals(wallTimeIn(instant, "America/Los_Angeles"), { date: "2026-11-27", time: "17:00" });
  assertEquals(wallTimeIn(instant, "Asia/Tokyo"), { date: "2026-11-28", time: "10:00" });
  assertEquals(wallTimeIn(instant.getTime(), "UTC"), { date: "2026-11-28", time: "01:00" });
});

Deno.test("UTC without Intl: the same wall times, instants and names as Intl's Etc/UTC", () => {
  // Etc/UTC goes through Intl.DateTimeFormat; "UTC" is arithmetic (issue 20).
  fc.assert(
    fc.property(
      fc.integer({ min: Date.parse("0001-01-02T00:00:00Z"), max: Date.UTC(9999, 11, 30) }),
      (ms) => {
        nodeAssert.deepEqual(wallTimeIn(ms, "UTC"), wallTimeIn(ms, "Etc/UTC"));
        nodeAssert.equal(
          todayIn({ now: new Date(ms), timeZone: "UTC" }),
          todayIn({ now: new Date(ms), timeZone: "Etc/UTC" }),
        );
        const { date, time } = wallTimeIn(ms, "Etc/UTC");
        nodeAssert.equal(
          zonedInstant(date, time, "UTC").getTime(),
          zonedInstant(date, time, "Etc/UTC").getTime(),
        );
      },
    ),
    { numRuns: 2000 },
  );
  nodeAssert.equal(assertTimeZone("utc"), "UTC");
  nodeAssert.equal(assertTimeZone("UTC"), "UTC");
});

Deno.test("today and tomorrow, read without chrono-node, are chrono's days at every hour", async () => {
  await loadDateParser();
  // "by …" is read by chrono (an allowed lead-in); the bare word is not (issue 20).
  fc.assert(
    fc.property(
      fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2060, 0, 1) }),
      fc.constantFrom("UTC", "America/New_York", "Asia/Tokyo", "Pacific/Kiritimati", "Etc/GMT+12"),
      fc.constantFrom("today", "tomorrow", "Tomorrow", " today "),
      (ms, timeZone, word) => {
        const ctx = { now: new Date(ms), timeZone };
        nodeAssert.deepEqual(parseDateTime(word, ctx), parseDateTime(`by ${word}`, ctx));
        nodeAssert.deepEqual(
          parseDateTime(`${word} 3pm`, ctx),
          parseDateTime(`by ${word} 3pm`, ctx),
        );
      },
    ),
    { numRuns: 3000 },
  );
});
