/**
 * Issue 19, points 7–9: dates as the original jdo reads them, time zones on
 * the viewer's clock, and `show` for a person. Real jdo commands in this
 * process (tests/helpers/in_process.ts), each test at a moment it pins.
 */
import assert from "node:assert/strict";
import {
  assertFails as fails,
  assertOk as ok,
  type InProcessJdo,
  inProcessJdo,
} from "../helpers/in_process.ts";

type Rec = Record<string, unknown>;

const commit = (j: InProcessJdo, due: string, more: string[] = [], env?: Record<string, string>) =>
  j.json(["commit", "Report", "--to", "Alice", "--due", due, ...more], env ? { env } : undefined);

// Friday 2026-06-12, 15:00 UTC.
const FRIDAY = "2026-06-12T15:00:00Z";

Deno.test("7: a due date without a time is due at 09:00; 'next saturday' on a Friday is tomorrow", async () => {
  await using j = await inProcessJdo(FRIDAY);
  const c = await commit(j, "2031-03-14");
  assert.equal(c.due_time, "09:00");
  const sat = await commit(j, "next saturday");
  assert.deepEqual([sat.due_date, sat.due_time], ["2026-06-13", "09:00"]);
  const fri = await commit(j, "next friday");
  assert.equal(fri.due_date, "2026-06-19", "next friday on a Friday: a week ahead");
});

Deno.test("7: vague phrases are refused with a hint to name a day", async () => {
  await using j = await inProcessJdo(FRIDAY);
  for (const phrase of ["next week", "soon", "asap", "later"]) {
    fails(
      await j.run(["commit", "X", "--to", "Al", "--due", phrase]),
      2,
      /--due: .*too vague; name a day, e\.g\. "next monday"/,
      phrase,
    );
  }
  assert.deepEqual(await j.json(["list"]), [], "nothing saved");
});

Deno.test("7: by 5pm, EOD, end of day, noon and midnight in --due and --time", async () => {
  await using j = await inProcessJdo(FRIDAY);
  const cases: [string, string[], string][] = [
    ["2031-03-14 by 5pm", [], "17:00"],
    ["2031-03-14 EOD", [], "17:00"],
    ["2031-03-14 end of day", [], "17:00"],
    ["2031-03-14 at noon", [], "12:00"],
    ["2031-03-14 midnight", [], "00:00"],
    ["2031-03-14", ["--time", "by 5pm"], "17:00"],
    ["2031-03-14", ["--time", "eod"], "17:00"],
    ["2031-03-14", ["--time", "end of day"], "17:00"],
    ["2031-03-14", ["--time", "noon"], "12:00"],
    ["2031-03-14", ["--time", "midnight"], "00:00"],
    ["2031-03-14", ["--time", "3:30pm"], "15:30"],
  ];
  for (const [due, more, time] of cases) {
    const c = await commit(j, due, more);
    assert.deepEqual([c.due_date, c.due_time], ["2031-03-14", time], `${due} ${more.join(" ")}`);
  }
  const c = await commit(j, "2031-03-14");
  const edited = await j.json(["edit", String(c.id), "--time", "noon"]);
  assert.equal(edited.due_time, "12:00");
  fails(
    await j.run(["commit", "X", "--to", "Al", "--due", "2031-03-14", "--time", "teatime"]),
    2,
    /--time: Cannot understand the time "teatime": use HH:MM \(24-hour\), 3pm, 3:30pm, noon/,
    "bad --time",
  );
  fails(
    await j.run(["commit", "X", "--to", "Al", "--due", "by 5pm"]),
    2,
    /"by 5pm": a time of day needs a day too/,
    "a time alone",
  );
});

Deno.test("7: a numeric date that reads two ways is refused; JDO_DATE_ORDER chooses", async () => {
  await using j = await inProcessJdo(FRIDAY);
  fails(
    await j.run(["commit", "X", "--to", "Al", "--due", "1/2/2031"]),
    2,
    /"1\/2\/2031": it could be 2031-01-02 \(month first\) or 2031-02-01 \(day first\); write YYYY-MM-DD, or set JDO_DATE_ORDER=mdy or dmy/,
    "ambiguous",
  );
  const unambiguous = await commit(j, "12/25/2031");
  assert.equal(unambiguous.due_date, "2031-12-25");
  const dmy = await commit(j, "1/2/2031", [], { JDO_DATE_ORDER: "dmy" });
  assert.equal(dmy.due_date, "2031-02-01");
  const mdy = await commit(j, "1/2/2031", [], { JDO_DATE_ORDER: "mdy" });
  assert.equal(mdy.due_date, "2031-01-02");
  fails(
    await j.run(["commit", "X", "--to", "Al", "--due", "2031-01-02"], {
      env: { JDO_DATE_ORDER: "ymd" },
    }),
    1,
    /JDO_DATE_ORDER must be mdy or dmy, not "ymd"/,
    "bad setting",
  );
});

Deno.test("7: edit echoes the new due date and time", async () => {
  await using j = await inProcessJdo(FRIDAY);
  const c = await commit(j, "2031-03-14");
  const edit = ok(await j.run(["edit", String(c.id), "--due", "2031-04-01 by 5pm"]), "edit");
  assert.match(edit.stdout, /^Updated commitment [0-9a-f]{6,}: due 2031-04-01 17:00\n$/);
  const notes = ok(await j.run(["edit", String(c.id), "--notes", "n"]), "edit notes");
  assert.match(notes.stdout, /^Updated commitment [0-9a-f]{6,}\n$/, "no due date to echo");
});

Deno.test("7: a due time inside a DST gap moves past it, with a note", async () => {
  // 2031-03-09: New York springs forward at 02:00, so 02:30 never happens.
  await using j = await inProcessJdo(FRIDAY, "America/New_York");
  const r = ok(
    await j.run(["commit", "X", "--to", "Al", "--due", "2031-03-09", "--time", "02:30", "--json"]),
    "commit in the gap",
  );
  assert.equal(
    r.stderr,
    "jdo: note: 2031-03-09 02:30 does not exist in America/New_York (the clocks go forward); due 2031-03-09 03:30 instead\n",
  );
  const made = JSON.parse(r.stdout) as Rec;
  assert.equal(made.due_time, "03:30");
  const c = await commit(j, "2031-03-09");
  const edit = ok(await j.run(["edit", String(c.id), "--time", "2:15"]), "edit into the gap");
  assert.match(edit.stderr, /2031-03-09 02:15 does not exist .*due 2031-03-09 03:15 instead/);
  assert.match(edit.stdout, /due 2031-03-09 03:15\n$/);
  const fine = ok(await j.run(["commit", "Y", "--to", "Al", "--due", "2031-03-10 2:30am"]), "");
  // (The overcommitting note is about something else: three made, none kept this week.)
  assert.doesNotMatch(fine.stderr, /does not exist/, "the next day 02:30 exists");
});

// --- 8. time zones ---------------------------------------------------------------

Deno.test("8: list sorts by the due instant and shows due times on the viewer's clock", async () => {
  await using j = await inProcessJdo(FRIDAY);
  const at = (zone: string) => ({ JDO_TIMEZONE: zone });
  // Wall-clock order B, C, A; instant order C (23:00Z), A (00:00Z), B (03:00Z).
  const b = await commit(j, "2031-03-13 8pm", [], at("America/Los_Angeles"));
  const c = await commit(j, "2031-03-13 11pm", [], at("UTC"));
  const a = await commit(j, "2031-03-14 9am", [], at("Asia/Tokyo"));
  const list = await j.json<Rec[]>(["list"], { env: at("UTC") });
  assert.deepEqual(list.map((r) => r.id), [c.id, a.id, b.id]);
  // Each keeps its own zone.
  assert.deepEqual(list.map((r) => r.timezone), ["UTC", "Asia/Tokyo", "America/Los_Angeles"]);
  const table = ok(await j.run(["list"], { env: at("UTC") }), "list").stdout;
  const dues = [...table.matchAll(/^[0-9a-f]{6,}\s+(\d{4}-\d\d-\d\d \d\d:\d\d)/gm)].map((m) =>
    m[1]
  );
  assert.deepEqual(dues, ["2031-03-13 23:00", "2031-03-14 00:00", "2031-03-14 03:00"]);
  const inTokyo = ok(await j.run(["list"], { env: at("Asia/Tokyo") }), "list").stdout;
  const tokyoDues = [...inTokyo.matchAll(/^[0-9a-f]{6,}\s+(\d{4}-\d\d-\d\d \d\d:\d\d)/gm)].map((
    m,
  ) => m[1]);
  assert.deepEqual(tokyoDues, ["2031-03-14 08:00", "2031-03-14 09:00", "2031-03-14 12:00"]);
});

Deno.test("8: capture dates are shown on the viewer's calendar", async () => {
  await using j = await inProcessJdo("2026-06-15T23:30:00Z");
  ok(await j.run(["capture", "late idea"]), "capture");
  const utc = ok(await j.run(["list", "inbox"], { env: { JDO_TIMEZONE: "UTC" } }), "").stdout;
  assert.match(utc, /2026-06-15/);
  const tokyo = ok(await j.run(["list", "inbox"], { env: { JDO_TIMEZONE: "Asia/Tokyo" } }), "")
    .stdout;
  assert.match(tokyo, /2026-06-16/);
  assert.doesNotMatch(tokyo, /2026-06-15/);
});

// --- 9. show ---------------------------------------------------------------------

Deno.test("9: show reads like a person's view; --json keeps every field", async () => {
  await using j = await inProcessJdo("2026-06-15T12:00:00Z");
  const goal = await j.json(["goal", "add", "Ship v2"]);
  const c = await j.json([
    "commit",
    "Write the report",
    "--to",
    "Alice",
    "--due",
    "2031-03-14",
    "--goal",
    String(goal.id),
    "--notes",
    "two pages\nand a chart",
  ], { env: { JDO_TIMEZONE: "America/New_York" } });
  await j.json(["task", "add", String(c.id), "Draft it", "--estimate", "2"]);
  const r = ok(await j.run(["show", String(c.id)], { env: { JDO_TIMEZONE: "Asia/Tokyo" } }), "");
  const out = r.stdout;
  assert.match(
    out,
    /^Commitment [0-9a-f]{6,}\n {2}Deliverable +Write the report\n {2}Status +pending\n/,
  );
  assert.doesNotMatch(out, /[0-9a-f]{8}-[0-9a-f]{4}-/, "no UUIDs");
  assert.ok(!out.includes(String(c.version)), "no HLC version");
  assert.doesNotMatch(out, /\d{13}-\d{4}-/, "no HLC-shaped string");
  assert.doesNotMatch(out, /T\d\d:\d\d:\d\d/, "no ISO timestamps");
  assert.match(out, /\n {2}To +Alice\n/);
  assert.match(out, /\n {2}Goal +Ship v2 \([0-9a-f]{6,}\)\n/);
  // Due on the viewer's clock (Tokyo), with the commitment's own time and zone.
  assert.match(
    out,
    /\n {2}Due +2031-03-14 22:00 \(2031-03-14 09:00 America\/New_York\), in \d+d\n/,
  );
  // Made at 12:00Z: 21:00 in Tokyo.
  assert.match(out, /\n {2}Created +2026-06-15 21:00\n/);
  assert.match(out, /\n {2}Notes +two pages\n +and a chart\n/);
  assert.match(out, /\nTasks\n {2}[0-9a-f]{6,} +pending +Draft it/);
  // Aligned: every field's value starts in the same column.
  const fieldLines = out.split("\n").filter((l) => /^ {2}[A-Z][a-z ]+ {2,}\S/.test(l));
  assert.ok(fieldLines.length >= 6, out);
  const columns = new Set(fieldLines.map((l) => l.match(/^ {2}\S.*? {2,}/)![0].length));
  assert.equal(columns.size, 1, `aligned:\n${out}`);
  // --json: every field, ids and version included.
  const json = await j.json(["show", String(c.id)]);
  for (
    const key of [
      "id",
      "stakeholder_id",
      "goal_id",
      "version",
      "created_at",
      "timezone",
      "due_time",
    ]
  ) {
    assert.ok(key in json, key);
  }
  assert.equal(json.version, c.version);
  assert.equal(json.goal_id, goal.id);
});
