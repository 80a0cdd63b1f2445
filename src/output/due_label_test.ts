import assert from "node:assert/strict";
import { dueLabel } from "./due_label.ts";

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
