import assert from "node:assert/strict";
import fc from "fast-check";
import { testNow } from "../../tests/helpers/test_clock.ts";
import { dueCells, dueLabel, dueOnViewerClock, dueText } from "./due_label.ts";
import { addDays } from "../domain/dates.ts";

const dates = { now: new Date("2026-11-27T18:00:00Z"), timeZone: "UTC" };
const commitment = (due_date: string, due_time: string) => ({
  due_date,
  due_time,
  timezone: "UTC",
});

Deno.test("dueLabel: a commitment due earlier today is overdue, later today is today", () => {
  assert.deepEqual(dueLabel(commitment("2026-11-27", "15:00"), dates), {
    text: "overdue",
    level: 2,
  });
  assert.deepEqual(dueLabel(commitment("2026-11-27", "19:00"), dates), { text: "today", level: 1 });
});

Deno.test("dueLabel: past days, tomorrow and later days", () => {
  assert.deepEqual(dueLabel(commitment("2026-11-25", "17:00"), dates), {
    text: "overdue 2d",
    level: 2,
  });
  assert.deepEqual(dueLabel(commitment("2026-11-28", "09:00"), dates), {
    text: "tomorrow",
    level: 0,
  });
  assert.deepEqual(dueLabel(commitment("2026-12-01", "09:00"), dates), { text: "in 4d", level: 0 });
});

Deno.test("dueLabel: the due time is read in the commitment's own zone", () => {
  // 17:00 in New York is 22:00Z: not yet overdue at 18:00Z.
  const ny = { due_date: "2026-11-27", due_time: "17:00", timezone: "America/New_York" };
  assert.deepEqual(dueLabel(ny, dates), { text: "today", level: 1 });
});

Deno.test("dueLabel: a viewer in another zone sees the same instant", () => {
  // Due today 17:00 in Los Angeles (01:00Z next day); at 00:11Z 49 minutes remain.
  const la = { due_date: "2026-11-27", due_time: "17:00", timezone: "America/Los_Angeles" };
  const at = new Date("2026-11-28T00:11:00Z");
  for (const timeZone of ["UTC", "Asia/Tokyo", "Pacific/Kiritimati", "America/Los_Angeles"]) {
    assert.deepEqual(dueLabel(la, { now: at, timeZone }), { text: "today", level: 1 }, timeZone);
  }
  // After 01:00Z it is overdue (same day in LA), a day later "overdue 1d".
  assert.deepEqual(dueLabel(la, { now: new Date("2026-11-28T01:01:00Z"), timeZone: "UTC" }), {
    text: "overdue",
    level: 2,
  });
  assert.deepEqual(dueLabel(la, { now: new Date("2026-11-29T01:01:00Z"), timeZone: "UTC" }), {
    text: "overdue 1d",
    level: 2,
  });
  // A Tokyo commitment due tomorrow 09:00 (00:00Z) seen from LA the evening before.
  const tokyo = { due_date: "2026-11-29", due_time: "09:00", timezone: "Asia/Tokyo" };
  const evening = { now: new Date("2026-11-28T02:00:00Z"), timeZone: "America/Los_Angeles" };
  assert.deepEqual(dueLabel(tokyo, evening), { text: "tomorrow", level: 0 });
});

Deno.test("dueLabel counts days on the viewer's calendar, the day the DUE column shows", () => {
  // Due Friday 20:00 in Los Angeles = Saturday 04:00Z; a UTC viewer on Friday 18:00Z.
  const la = { due_date: "2026-11-27", due_time: "20:00", timezone: "America/Los_Angeles" };
  const utcFriday = { now: new Date("2026-11-27T18:00:00Z"), timeZone: "UTC" };
  assert.equal(dueOnViewerClock(la, "UTC"), "2026-11-28 04:00");
  assert.deepEqual(dueLabel(la, utcFriday), { text: "tomorrow", level: 0 });
  // The same moment in Los Angeles (10:00 on Friday): today.
  assert.deepEqual(dueLabel(la, { ...utcFriday, timeZone: "America/Los_Angeles" }), {
    text: "today",
    level: 1,
  });
});

Deno.test("dueText shows the viewer's clock, and the commitment's own when its zone differs", () => {
  const la = { due_date: "2026-11-27", due_time: "17:00", timezone: "America/Los_Angeles" };
  assert.equal(dueText(la, "America/Los_Angeles"), "2026-11-27 17:00");
  assert.equal(
    dueText(la, "Asia/Tokyo"),
    "2026-11-28 10:00 (2026-11-27 17:00 America/Los_Angeles)",
  );
  // A row made without a zone is read in the viewer's.
  assert.equal(dueText({ due_date: "2031-03-14", due_time: "09:00" }, "UTC"), "2031-03-14 09:00");
});

Deno.test("dueCells: dueOnViewerClock and dueLabel of each commitment, whatever the zones", () => {
  const now = testNow().getTime();
  fc.assert(
    fc.property(
      fc.integer({ min: -3 * 86_400_000, max: 3 * 86_400_000 }).map((ms) => ms - (ms % 60_000) // whole minutes too, so the due instant is now
      ),
      fc.constantFrom("00:00", "02:30", "09:00", "23:59", "9:05", "24:00"),
      fc.integer({ min: -2, max: 2 }),
      fc.constantFrom(null, "", "UTC", "America/Los_Angeles", "Asia/Tokyo", "Pacific/Kiritimati"),
      fc.constantFrom("UTC", "UTC", "America/New_York", "Asia/Kolkata"),
      (shift, time, days, zone, viewer) => {
        const dates = { now: new Date(now + shift), timeZone: viewer };
        const commitment = {
          due_date: addDays(new Date(now).toISOString().slice(0, 10), days),
          due_time: time,
          timezone: zone,
        };
        // Times jdo never writes ("24:00") throw either way.
        const outcome = <T>(f: () => T) => {
          try {
            return f();
          } catch {
            return "throws";
          }
        };
        assert.deepEqual(
          outcome(() => dueCells(dates)(commitment)),
          outcome(() => ({
            clock: dueOnViewerClock(commitment, viewer),
            label: dueLabel(commitment, dates),
          })),
        );
      },
    ),
  );
});
