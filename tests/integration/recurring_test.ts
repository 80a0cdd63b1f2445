/**
 * Issue 19, point 3: `jdo recurring add|list|show|edit|pause|resume|delete`
 * as a user types them — patterns, ends, defaults, `--json` on reads and
 * writes, and a bad pattern refused with one line and exit 2, nothing saved.
 * In-process, the clock set explicitly (tests/helpers/in_process.ts).
 */
import assert from "node:assert/strict";
import { assertFails, assertOk, inProcessJdo, showResult as show } from "../helpers/in_process.ts";

type Rec = Record<string, unknown>;

/** A Wednesday. */
const WEDNESDAY = "2026-06-10T08:00:00Z";

Deno.test("recurring add: each pattern, its first instance, and list/show in words", async () => {
  await using j = await inProcessJdo(WEDNESDAY);
  const weekly = await j.json([
    "recurring",
    "add",
    "Weekly report",
    "--to",
    "Alice",
    "--every",
    "week",
    "--day",
    "monday,thursday",
    "--time",
    "3pm",
    "--task",
    "Draft",
    "--task",
    "Send",
  ]);
  assert.deepEqual(
    [weekly.recurrence_type, weekly.days_of_week, weekly.due_time, weekly.pattern],
    ["weekly", [0, 3], "15:00", "Weekly on Mon, Thu"],
  );
  const first = await j.json(["show", String(weekly.first_instance_id)]);
  assert.deepEqual(
    [first.deliverable, first.due_date, first.due_time, first.recurring_id, first.stakeholder],
    ["Weekly report", "2026-06-11", "15:00", weekly.id, "Alice"],
  );
  assert.deepEqual((first.tasks as Rec[]).map((t) => t.title), ["Draft", "Send"]);

  const rent = await j.json([
    "recurring",
    "add",
    "Rent",
    "--to",
    "Landlord",
    "--every",
    "month",
    "--day",
    "31",
    "--count",
    "3",
  ]);
  assert.deepEqual([rent.pattern, rent.ends, rent.next_due], [
    "Monthly on the 31st",
    "after 3 times",
    "2026-06-30", // June has 30 days
  ]);
  const board = await j.json([
    "recurring",
    "add",
    "Board pack",
    "--to",
    "Board",
    "--every",
    "month",
    "--day",
    "last friday",
    "--until",
    "2026-12-31",
  ]);
  assert.deepEqual([board.pattern, board.end_by_date, board.next_due], [
    "Monthly on the last Fri",
    "2026-12-31",
    "2026-06-26",
  ]);
  const nth = await j.json([
    "recurring",
    "add",
    "Team lunch",
    "--to",
    "Team",
    "--every",
    "month",
    "--nth",
    "2nd",
    "--day",
    "tuesday",
    "--interval",
    "2",
  ]);
  assert.equal(nth.pattern, "Every 2 months on the 2nd Tue");
  assert.equal(nth.next_due, "2026-07-14", "June's 2nd Tuesday has passed");
  const tax = await j.json([
    "recurring",
    "add",
    "Tax return",
    "--to",
    "IRS",
    "--every",
    "year",
    "--month",
    "april",
    "--day",
    "15",
  ]);
  assert.deepEqual([tax.pattern, tax.next_due], ["Yearly on Apr 15", "2027-04-15"]);
  // Left out, the day comes from the start date.
  const standup = await j.json(["recurring", "add", "Standup", "--to", "Team", "--every", "week"]);
  assert.equal(standup.pattern, "Weekly on Wed");

  const list = await j.json<Rec[]>(["recurring", "list"]);
  assert.deepEqual(list.map((r) => r.deliverable).sort(), [
    "Board pack",
    "Rent",
    "Standup",
    "Tax return",
    "Team lunch",
    "Weekly report",
  ]);
  const table = assertOk(await j.run(["recurring", "list"]), "recurring list").stdout;
  assert.match(table, /^ID +STATUS +PATTERN +NEXT +TO +DELIVERABLE\n/);
  assert.match(table, /active +Weekly on Mon, Thu +2026-06-11 +Alice +Weekly report/);
  const text = assertOk(await j.run(["recurring", "show", String(rent.id)]), "show").stdout;
  assert.match(text, /^Recurring [0-9a-f]{6}: Rent\n/);
  assert.match(text, /Pattern: +Monthly on the 31st\n/);
  assert.match(text, /Ends: +after 3 times\n/);
  assert.match(text, /Next due: +2026-06-30\n/);
  // The instances are ordinary commitments.
  const commitments = await j.json<Rec[]>(["list"]);
  assert.equal(commitments.filter((c) => c.recurring_id).length, 6);
});

Deno.test("recurring edit, pause, resume, delete (its instances stay)", async () => {
  await using j = await inProcessJdo(WEDNESDAY);
  const t = await j.json(["recurring", "add", "Standup", "--to", "Team", "--every", "day"]);
  const id = String(t.id);
  const edited = await j.json([
    "recurring",
    "edit",
    id,
    "--every",
    "week",
    "--day",
    "fri",
    "--interval",
    "2",
    "--count",
    "5",
    "--deliverable",
    "Standup notes",
    "--notes",
    "in the wiki",
  ]);
  assert.deepEqual(
    [edited.deliverable, edited.pattern, edited.ends, edited.notes],
    ["Standup notes", "Every 2 weeks on Fri", "after 5 times", "in the wiki"],
  );
  const forever = await j.json(["recurring", "edit", id, "--forever"]);
  assert.equal(forever.ends, "never");
  assert.equal(forever.pattern, "Every 2 weeks on Fri", "the pattern is kept");

  const paused = await j.json(["recurring", "pause", id]);
  assert.deepEqual([paused.status, paused.next_due], ["paused", null]);
  assertFails(
    await j.run(["recurring", "pause", id]),
    1,
    /already paused/,
    "pausing twice",
  );
  const resumed = assertOk(await j.run(["recurring", "resume", id]), "resume");
  assert.match(resumed.stdout, /^Resumed recurring [0-9a-f]{6}\n$/);

  const instance = String(t.first_instance_id);
  const del = await j.json(["recurring", "delete", id, "--yes"]);
  assert.deepEqual(del, { deleted: 1, id, kind: "recurring" });
  const kept = await j.json(["show", instance]);
  assert.equal(kept.recurring_id, null, "the instance stays, unlinked (as the original)");
  assertFails(await j.run(["recurring", "show", id]), 1, /deleted|No /, "show deleted");
});

Deno.test("a bad pattern is one line on stderr, exit 2, and nothing is saved", async () => {
  await using j = await inProcessJdo(WEDNESDAY);
  const add = (...flags: string[]) =>
    j.run(["recurring", "add", "Report", "--to", "Alice", ...flags]);
  const cases: [string[], RegExp][] = [
    [["--every", "fortnight"], /--every "fortnight" \(use day, week, month or year\)/],
    [["--every", "week", "--day", "funday"], /"funday" is not a day of the week/],
    [["--every", "week", "--day", "15"], /"15" is not a day of the week/],
    [["--every", "week", "--day", "mon,mon"], /a day of the week is given twice/],
    [["--every", "month", "--day", "32"], /day of the month must be 1-31/],
    [["--every", "month", "--day", "tuesday"], /give a day of the month \(15\), or a weekday/],
    [["--every", "month", "--day", "6th tuesday"], /--nth "6th"/],
    [["--every", "day", "--day", "monday"], /do not apply to a daily recurrence/],
    [["--every", "day", "--interval", "0"], /--interval must be from 1 to 365/],
    [["--every", "day", "--count", "0"], /--count must be at least 1/],
    [["--every", "day", "--count", "2", "--until", "2026-12-01"], /give one of --until/],
    [["--every", "day", "--until", "2026-01-01"], /before the start 2026-06-10/],
    [["--every", "month", "--month", "march"], /--month applies to a yearly recurrence/],
    [["--every", "year", "--month", "smarch"], /--month "smarch"/],
  ];
  for (const [flags, message] of cases) {
    const r = await add(...flags);
    assertFails(r, 2, message, flags.join(" "));
    assert.match(r.stderr, /^jdo: Bad recurrence: /, show(r));
  }
  assertFails(await add(), 2, /--every/, "no --every");
  assert.deepEqual(await j.json<Rec[]>(["recurring", "list"]), [], "nothing saved");
  assert.deepEqual(await j.json<Rec[]>(["list", "--all"]), []);
});
