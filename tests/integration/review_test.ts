/**
 * Issue 19, point 6: `jdo review` lists active goals and visions whose next
 * review date is today or past; `jdo review ID` records a review and moves
 * the date as the original does (goal: its interval, or none; vision: 90
 * days). In-process, the clock set explicitly (tests/helpers/in_process.ts).
 */
import assert from "node:assert/strict";
import { inProcessJdo, showResult as show } from "../helpers/in_process.ts";

type Rec = Record<string, unknown>;

Deno.test("review lists what is due by date, and recording a review moves the next date", async () => {
  await using j = await inProcessJdo("2026-06-15T12:00:00Z");
  const weekly = await j.json(["goal", "add", "Weekly", "--review", "7"]);
  const monthly = await j.json(["goal", "add", "Monthly", "--review", "30"]);
  const never = await j.json(["goal", "add", "No interval"]);
  const vision = await j.json(["vision", "add", "Calm", "--narrative", "Quiet weeks"]);
  const dropped = await j.json(["goal", "add", "Dropped", "--review", "7"]);
  await j.json(["abandon", String(dropped.id), "--yes"]);
  assert.equal(weekly.next_review_date, "2026-06-22");
  assert.equal(monthly.next_review_date, "2026-07-15");
  assert.equal(vision.next_review_date, "2026-09-13");
  assert.equal(never.next_review_date, null);

  const none = await j.run(["review"]);
  assert.equal(none.code, 0, show(none));
  assert.equal(none.stdout, "No goals or visions due for review.\n");
  assert.deepEqual(await j.json<Rec[]>(["review"]), []);

  j.clock.set(new Date("2026-06-21T23:00:00Z"));
  assert.deepEqual(await j.json<Rec[]>(["review"]), [], "the day before is not due");
  j.clock.set(new Date("2026-06-22T00:30:00Z"));
  const due = await j.json<Rec[]>(["review"]);
  assert.deepEqual(due.map((d) => [d.kind, d.title]), [["goal", "Weekly"]], "on the day: due");

  j.clock.set(new Date("2026-09-20T12:00:00Z"));
  const later = await j.json<Rec[]>(["review"]);
  assert.deepEqual(
    later.map((d) => [d.kind, d.title, d.next_review_date]),
    [
      ["goal", "Weekly", "2026-06-22"],
      ["goal", "Monthly", "2026-07-15"],
      ["vision", "Calm", "2026-09-13"],
    ],
    "earliest first; abandoned goals and goals without a date are not listed",
  );
  const table = await j.run(["review"]);
  assert.match(table.stdout, /^ID +KIND +REVIEW DUE +TITLE\n/);
  assert.match(table.stdout, /vision +2026-09-13 +Calm/);

  const reviewed = await j.json(["review", String(weekly.id)]);
  assert.equal(reviewed.next_review_date, "2026-09-27", "goal: today + its interval");
  assert.deepEqual(reviewed, await j.json(["show", String(weekly.id)]), "printed as show --json");
  const v = await j.run(["review", String(vision.id)]);
  assert.equal(v.code, 0, show(v));
  assert.match(v.stdout, /^Reviewed vision [0-9a-f]+: Calm; next review 2026-12-19\n$/);
  const n = await j.run(["review", String(never.id)]);
  assert.match(n.stdout, /Reviewed goal [0-9a-f]+: No interval; no next review/);
  const left = await j.json<Rec[]>(["review"]);
  assert.deepEqual(left.map((d) => d.title), ["Monthly"]);
});

Deno.test("review ID of something that is not a goal or vision is refused", async () => {
  await using j = await inProcessJdo("2026-06-15T12:00:00Z");
  const c = await j.json(["commit", "Report", "--to", "Al", "--due", "2031-03-14"]);
  const r = await j.run(["review", String(c.id)]);
  assert.equal(r.code, 1, show(r));
  assert.equal(r.stdout, "");
  assert.equal(r.stderr.trimEnd().split("\n").length, 1, show(r));
});
