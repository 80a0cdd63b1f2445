/**
 * End-to-end tests: jdo runs as a subprocess against a temporary JDO_HOME,
 * exactly as a user or a script would run it. See tests/helpers/cli.ts.
 */
import assert from "node:assert/strict";
import { basename, dirname, join } from "node:path";
import { type JdoResult, pool, runJdo, runJson, tempHome } from "../helpers/cli.ts";
import { testNow } from "../helpers/test_clock.ts";

type Rec = Record<string, unknown>;

const POSIX = Deno.build.os !== "windows";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const LIST_KEYS = [
  "id",
  "status",
  "created_at",
  "updated_at",
  "deliverable",
  "stakeholder",
  "due_date",
  "due_time",
];
const INTEGRITY_KEYS = [
  "score",
  "grade",
  "on_time_rate",
  "completed",
  "on_time",
  "at_risk",
  "abandoned",
  "streak_weeks",
];

function show(r: JdoResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

function ok(r: JdoResult, what = ""): JdoResult {
  assert.equal(r.code, 0, `${what} failed: ${show(r)}`);
  return r;
}

/** An error: the expected exit code, nothing on stdout, exactly one line on stderr. */
function failsWith(r: JdoResult, code: number, message?: RegExp, what = ""): void {
  assert.equal(r.code, code, `${what}: expected exit ${code}; ${show(r)}`);
  assertOneLineError(r, what);
  if (message) assert.match(r.stderr, message, what);
}

function assertOneLineError(r: JdoResult, what = ""): void {
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `${what}: stderr must be one line; ${show(r)}`);
  assert.match(lines[0], /^jdo: \S/, `${what}: ${show(r)}`);
  assert.ok(!r.stderr.includes("    at "), `${what}: stack trace on stderr; ${show(r)}`);
  assert.ok(!/\bat .*\.ts:\d+/.test(r.stderr), `${what}: stack frame on stderr; ${show(r)}`);
  assert.equal(r.stdout, "", `${what}: an error prints nothing on stdout; ${show(r)}`);
}

function noEsc(r: JdoResult, what: string): void {
  assert.ok(!r.stdout.includes("\x1b"), `${what}: ESC on stdout: ${JSON.stringify(r.stdout)}`);
  assert.ok(!r.stderr.includes("\x1b"), `${what}: ESC on stderr: ${JSON.stringify(r.stderr)}`);
}

function hasKeys(record: Rec, keys: string[], what: string): void {
  for (const key of keys) {
    assert.ok(key in record, `${what}: missing key "${key}" in ${JSON.stringify(record)}`);
  }
}

function mode(info: Deno.FileInfo): number {
  return info.mode! & 0o777;
}

/** Entity lists of an export, without what an import legitimately changes. */
function comparable(doc: Rec): Record<string, Rec[]> {
  const out: Record<string, Rec[]> = {};
  for (
    const kind of [
      "stakeholders",
      "visions",
      "goals",
      "milestones",
      "commitments",
      "tasks",
      "task-history",
      "inbox",
    ]
  ) {
    const list = doc[kind] as Rec[];
    assert.ok(Array.isArray(list), `export has ${kind}`);
    out[kind] = list
      .map(({ version: _v, updated_at: _u, ...rest }) => rest)
      .sort((a, b) => String(a.id).localeCompare(String(b.id)));
  }
  return out;
}

function total(doc: Record<string, Rec[]>): number {
  return Object.values(doc).reduce((n, list) => n + list.length, 0);
}

Deno.test("flow: create → list → show → edit → complete → delete → export → import → re-import", async () => {
  await using a = await tempHome();
  await using b = await tempHome();
  const A = a.home;

  // --- create
  const c1 = await runJson<Rec>(A, [
    "commit",
    "Write",
    "the",
    "report",
    "--to",
    "Alice",
    "--due",
    "2030-01-15",
    "--time",
    "09:30",
    "--notes",
    "first draft",
    "--json",
  ]);
  assert.match(String(c1.id), UUID);
  assert.equal(c1.deliverable, "Write the report");
  assert.equal(c1.stakeholder, "Alice");
  assert.equal(c1.due_date, "2030-01-15");
  assert.equal(c1.due_time, "09:30");
  assert.equal(c1.notes, "first draft");
  assert.equal(c1.status, "pending");
  assert.match(String(c1.created_at), ISO);
  assert.match(String(c1.updated_at), ISO);
  const [c2, inbox, goal, plain] = await Promise.all([
    runJson<Rec>(A, ["commit", "Second thing", "--to", "Bob", "--due", "tomorrow", "--json"]),
    runJson<Rec>(A, ["capture", "Call", "the", "bank", "--json"]),
    runJson<Rec>(A, ["goal", "add", "Ship v1", "--review", "30", "--json"]),
    runJdo(A, ["commit", "Plain output", "--to", "alice", "--due", "2030-06-01"]),
  ]);
  assert.equal(inbox.text, "Call the bank");
  assert.equal(inbox.status, "open");
  assert.equal(goal.title, "Ship v1");
  assert.equal(goal.review_interval_days, 30);
  // Without --json a write prints one human line with the short id.
  ok(plain, "commit");
  assert.match(
    plain.stdout,
    /^Committed [0-9a-f]{6,}: "Plain output" to Alice, due 2030-06-01 09:00\n$/,
  );
  const plainId = /Committed ([0-9a-f]+)/.exec(plain.stdout)![1];
  // "alice" is the existing stakeholder Alice, not a new one.
  const stakeholders = await runJson<Rec[]>(A, ["list", "stakeholders", "--json"]);
  assert.deepEqual(stakeholders.map((s) => [s.name, s.type]).sort(), [["Alice", "person"], [
    "Bob",
    "person",
  ]]);
  const task = await runJson<Rec>(A, [
    "task",
    "add",
    String(c2.id).slice(0, 8),
    "Draft outline",
    "--estimate",
    "2",
    "--json",
  ]);
  assert.equal(task.commitment_id, c2.id);
  assert.equal(task.estimated_hours, 2);
  ok(await runJdo(A, ["delete", plainId, "--yes"]), "delete plain");

  // --- list
  const [listJson, listText, listGoals, listInbox] = await Promise.all([
    runJson<Rec[]>(A, ["list", "--json"]),
    runJdo(A, ["list"]),
    runJson<Rec[]>(A, ["list", "goals", "--json"]),
    runJson<Rec[]>(A, ["list", "inbox", "--json"]),
  ]);
  assert.deepEqual(listJson.map((r) => r.id), [c2.id, c1.id], "soonest due first");
  for (const r of listJson) hasKeys(r, LIST_KEYS, "list --json");
  assert.equal(listJson[1].stakeholder, "Alice");
  assert.equal(listJson[1].due_time, "09:30");
  ok(listText, "list");
  noEsc(listText, "list");
  assert.match(listText.stdout, /DELIVERABLE/);
  assert.ok(listText.stdout.includes(String(c1.id).slice(0, 6)), listText.stdout);
  assert.ok(!listText.stdout.includes(String(c1.id)), "list shows short ids, not full ids");
  assert.match(listText.stdout, /Write the report/);
  assert.match(listText.stdout, /tomorrow|today/); // "today" only if midnight UTC just passed
  assert.deepEqual(listGoals.map((g) => g.id), [goal.id]);
  hasKeys(listGoals[0], ["id", "status", "created_at", "updated_at", "title"], "list goals");
  assert.deepEqual(listInbox.map((i) => i.text), ["Call the bank"]);

  // --- show (by a 6-character prefix, and by a 4-character one, upper case)
  const [shown1, shown2, shownText] = await Promise.all([
    runJson<Rec>(A, ["show", String(c1.id).slice(0, 6), "--json"]),
    runJson<Rec>(A, ["show", String(c2.id).slice(0, 4).toUpperCase(), "--json"]),
    runJdo(A, ["show", String(c1.id)]),
  ]);
  hasKeys(shown1, [...LIST_KEYS, "tasks"], "show --json");
  assert.equal(shown1.id, c1.id);
  assert.deepEqual(shown1.tasks, []);
  assert.equal(shown2.id, c2.id);
  assert.deepEqual((shown2.tasks as Rec[]).map((t) => t.title), ["Draft outline"]);
  ok(shownText, "show");
  noEsc(shownText, "show");
  assert.match(shownText.stdout, /^ {2}Deliverable\s+Write the report$/m);
  assert.match(shownText.stdout, /^ {2}To\s+Alice$/m);

  // --- edit
  const edited = await runJson<Rec>(A, [
    "edit",
    String(c1.id).slice(0, 6),
    "--deliverable",
    "Write the final report",
    "--due",
    "2030-02-01",
    "--time",
    "10:00",
    "--to",
    "Carol",
    "--notes",
    "",
    "--json",
  ]);
  assert.equal(edited.id, c1.id);
  assert.equal(edited.deliverable, "Write the final report");
  assert.equal(edited.due_date, "2030-02-01");
  assert.equal(edited.due_time, "10:00");
  assert.equal(edited.stakeholder, "Carol");
  assert.equal(edited.notes, null);
  assert.equal(edited.created_at, c1.created_at);
  assert.ok(String(edited.version) > String(c1.version), "an edit bumps the version");
  assert.ok(String(edited.updated_at) >= String(c1.updated_at));

  // --- complete
  const completed = await runJson<Rec>(A, ["complete", String(c1.id).slice(0, 6), "--json"]);
  assert.equal(completed.status, "completed");
  assert.equal(completed.completed_on_time, true);
  assert.match(String(completed.completed_at), ISO);
  const [again, activeAfter, allAfter, onlyCompleted, integrity, integrityText] = await Promise.all(
    [
      runJdo(A, ["complete", String(c1.id).slice(0, 6)]),
      runJson<Rec[]>(A, ["list", "--json"]),
      runJson<Rec[]>(A, ["list", "--all", "--json"]),
      runJson<Rec[]>(A, ["list", "--status", "completed", "--json"]),
      runJson<Rec>(A, ["integrity", "--json"]),
      runJdo(A, ["integrity"]),
    ],
  );
  failsWith(again, 1, /already completed/, "complete twice");
  assert.deepEqual(activeAfter.map((r) => r.id), [c2.id]);
  assert.deepEqual(allAfter.map((r) => r.id).sort(), [c1.id, c2.id].sort());
  assert.deepEqual(onlyCompleted.map((r) => r.id), [c1.id]);
  hasKeys(integrity, INTEGRITY_KEYS, "integrity --json");
  assert.equal(integrity.completed, 1);
  assert.equal(integrity.on_time, 1);
  assert.equal(integrity.on_time_rate, 1);
  assert.equal(integrity.abandoned, 0);
  assert.equal(typeof integrity.score, "number");
  assert.match(String(integrity.grade), /^([A-D][+-]?|F)$/);
  ok(integrityText, "integrity");
  assert.match(
    integrityText.stdout,
    new RegExp(`${String(integrity.grade).replace("+", "\\+")} \\(${integrity.score}/100\\)`),
  );

  // --- delete (the commitment's task goes with it)
  const c2p = String(c2.id).slice(0, 8);
  failsWith(await runJdo(A, ["delete", c2p]), 2, /--yes/, "delete without --yes, no TTY");
  ok(await runJdo(A, ["show", c2p]), "still there after a refused delete");
  const deleted = ok(await runJdo(A, ["delete", c2p, "--yes"]), "delete");
  assert.match(deleted.stdout, /Deleted commitment "Second thing" and 1 related item$/m);
  const [gone, taskGone, tasksLeft] = await Promise.all([
    runJdo(A, ["show", c2p]),
    runJdo(A, ["show", String(task.id)]),
    runJson<Rec[]>(A, ["list", "tasks", "--all", "--json"]),
  ]);
  failsWith(
    gone,
    1,
    /^jdo: Commitment [0-9a-f]{8} was deleted on \d{4}-\d\d-\d\d\n$/,
    "show deleted",
  );
  failsWith(taskGone, 1, undefined, "show cascaded task");
  assert.deepEqual(tasksLeft, []);

  // --- export (to a file and to stdout: the same document)
  const exportPath = join(a.root, "export.json");
  const [exported, exportedStdout] = await Promise.all([
    runJdo(A, ["export", "--out", exportPath]),
    runJson<Rec>(A, ["export"]),
  ]);
  ok(exported, "export --out");
  assert.equal(exported.stdout, "");
  assert.match(
    exported.stderr,
    /^Exported to .*export\.json: 3 stakeholders, 0 visions, 1 goal, 0 milestones, 0 recurring commitments, 1 commitment, 0 tasks, 0 cleanup plans, 1 task history entry, 1 inbox item\n$/,
  );
  if (POSIX) assert.equal(mode(await Deno.stat(exportPath)), 0o600);
  const doc = JSON.parse(await Deno.readTextFile(exportPath)) as Rec;
  assert.equal(doc.format, "jdo-export");
  assert.deepEqual(comparable(doc), comparable(exportedStdout));
  const rowsA = comparable(doc);
  assert.deepEqual(rowsA.commitments.map((c) => c.id), [c1.id], "deleted rows are not exported");
  assert.equal(rowsA.commitments[0].deliverable, "Write the final report");
  assert.equal(rowsA.commitments[0].status, "completed");
  assert.deepEqual(rowsA.stakeholders.map((s) => s.name).sort(), ["Alice", "Bob", "Carol"]);
  const n = total(rowsA);
  // The deleted task's history stays (as in the original): one "created" entry.
  assert.equal(n, 7);

  // --- import into a second, fresh home: the same rows
  const imported = await runJson<Rec>(b.home, ["import", exportPath, "--json"]);
  assert.deepEqual(imported, {
    imported: n,
    skipped: 0,
    deleted_here: 0,
    restored: 0,
    by_kind: { stakeholders: 3, goals: 1, commitments: 1, "task-history": 1, inbox: 1 },
  });
  const docB = await runJson<Rec>(b.home, ["export"]);
  assert.deepEqual(comparable(docB), rowsA);

  // --- re-import: idempotent, nothing added (and the text summary says so)
  const [reimported, reimportText] = await Promise.all([
    runJson<Rec>(b.home, ["import", exportPath, "--json"]),
    runJdo(A, ["import", exportPath]),
  ]);
  assert.deepEqual(reimported, {
    imported: 0,
    skipped: n,
    deleted_here: 0,
    restored: 0,
    by_kind: {},
  });
  ok(reimportText, "re-import into the source");
  assert.equal(reimportText.stdout, `Imported 0 items; ${n} already present\n`);
  const [docB2, statusB] = await Promise.all([
    runJson<Rec>(b.home, ["export"]),
    runJson<Rec>(b.home, ["db", "status", "--json"]),
  ]);
  assert.deepEqual(comparable(docB2), rowsA);
  assert.deepEqual(statusB.counts, {
    stakeholders: 3,
    visions: 0,
    goals: 1,
    milestones: 0,
    recurring: 0,
    commitments: 1,
    tasks: 0,
    "cleanup-plans": 0,
    "task-history": 1,
    inbox: 1,
  });
});

Deno.test("exit codes: 0 ok, 1 failure, 2 usage; every error is one line without a stack trace", async () => {
  await using t = await tempHome();
  const H = t.home;
  // Two commitments whose ids share the prefix "abcd", imported with chosen ids.
  const seed = join(t.root, "seed.json");
  await Deno.writeTextFile(
    seed,
    JSON.stringify([
      {
        id: "abcd1111-0000-4000-8000-000000000001",
        deliverable: "First",
        stakeholder: "Bob",
        due_date: "2030-01-01",
      },
      {
        id: "abcd2222-0000-4000-8000-000000000002",
        deliverable: "Second",
        stakeholder: "Bob",
        due_date: "2030-01-02",
      },
    ]),
  );
  ok(await runJdo(H, ["import", seed]), "seed import");
  const id = "abcd1111";
  const cases: [string[], number, RegExp][] = [
    [["show", "ffff0000"], 1, /No item has an ID starting with "ffff0000"/],
    [["show", "zzzz"], 1, /"zzzz"/],
    [["complete", "ffff0000"], 1, /ffff0000/],
    [["show", "abc"], 2, /at least 4 characters: "abc"/],
    [
      ["show", "abcd"],
      1,
      /"abcd" matches 2 items: abcd1111-0000-4000-8000-000000000001 \(commitment "First"\); abcd2222-0000-4000-8000-000000000002 \(commitment "Second"\)/,
    ],
    [["delete", "abcd", "--yes"], 1, /matches 2 items/],
    [["list", "--bogus"], 2, /unknown option '--bogus'/],
    [["frobnicate"], 2, /frobnicate|too many arguments/],
    [["list", "widgets"], 2, /Unknown kind "widgets"/],
    [["list", "--status", "nope"], 2, /Unknown commitment status "nope"/],
    [["list", "stakeholders", "--status", "active"], 2, /A stakeholder has no status/],
    [["commit", "x", "--to", "Bob"], 2, /required option '--due <when>'/],
    [
      ["commit", "x", "--to", "Bob", "--due", "the day after never"],
      2,
      /--due: Cannot understand the date "the day after never"/,
    ],
    [["commit", "x", "--to", "Bob", "--due", "2025-02-30"], 2, /"2025-02-30"/],
    [
      ["commit", "x", "--to", "Bob", "--due", "tomorrow", "--time", "25:00"],
      2,
      /--time: .*"25:00"/,
    ],
    [["edit", id, "--due", "blah"], 2, /--due: Cannot understand the date "blah"/],
    [["edit", id], 2, /Nothing to change/],
    [["edit", id, "--title", "x"], 2, /--title does not apply to a commitment/],
    [["edit", id, "--status", "sleeping"], 2, /Unknown commitment status "sleeping"/],
    [
      ["milestone", "add", "ffff0000", "M", "--target", "someday-ish"],
      2,
      /--target: .*"someday-ish"/,
    ],
    [["commit", "", "--to", "Bob", "--due", "tomorrow"], 1, /The deliverable cannot be empty/],
    [["commit", "   ", "--to", "Bob", "--due", "tomorrow"], 1, /The deliverable cannot be empty/],
    [["commit", "x", "--to", "  ", "--due", "tomorrow"], 1, /stakeholder name cannot be empty/],
    [["edit", id, "--deliverable", " "], 1, /deliverable cannot be empty/],
    [["capture", ""], 1, /inbox text cannot be empty/],
    [["delete", id], 2, /--yes/],
    [["import", join(t.root, "missing.json")], 1, /Cannot read .*missing\.json/],
    [
      ["export", "--out", join(t.root, "nope", "x.json")],
      1,
      /Cannot write .*x\.json: its directory does not exist/,
    ],
    [["db", "restore", join(t.root, "missing.db"), "--yes"], 1, /missing\.db/],
    [["stakeholder", "add", "Zed", "--type", "robot"], 2, /Unknown stakeholder type "robot"/],
    [["task", "add", id, "T", "--estimate", "lots"], 2, /--estimate must be a number/],
    [["goal", "add", "G", "--review", "14"], 2, /--review must be 7, 30 or 90/],
  ];
  const results = await pool(cases.map(([args]) => () => runJdo(H, args)));
  cases.forEach(([args, code, message], i) =>
    failsWith(results[i], code, message, `jdo ${args.join(" ")}`)
  );
  // Nothing above changed any data.
  const after = await runJson<Rec>(H, ["db", "status", "--json"]);
  assert.deepEqual(after.counts, {
    stakeholders: 1,
    visions: 0,
    goals: 0,
    milestones: 0,
    recurring: 0,
    commitments: 2,
    tasks: 0,
    "cleanup-plans": 0,
    "task-history": 0,
    inbox: 0,
  });
  // Success paths exit 0.
  const [help, version, subHelp] = await Promise.all([
    runJdo(H, ["--help"]),
    runJdo(H, ["--version"]),
    runJdo(H, ["commit", "--help"]),
  ]);
  ok(help, "--help");
  assert.match(help.stdout, /Usage: jdo/);
  ok(version, "--version");
  assert.match(version.stdout, /^jdo \d+\.\d+\.\d+/);
  ok(subHelp, "commit --help");
  assert.match(subHelp.stdout, /--due <when>/);
});

Deno.test("bad input: 5,000-character, non-ASCII and SQL-looking text is stored verbatim", async () => {
  await using t = await tempHome();
  const H = t.home;
  const long = Array.from(
    { length: 5000 },
    (_, i) => "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36],
  ).join("");
  const unicodeUnit = "Ünïcödé ☕ 日本語 emoji 🎉 — naïve façade · ";
  const longUnicode = ("x" + unicodeUnit.repeat(200)).slice(0, 4999) + "z";
  const nonAscii = "Café ☕ — 日本語のテキスト 🎉🚀 Ωμέγα ñandú";
  const sql = `Robert'); DROP TABLE commitments; --`;
  const sqlName = `O'Brien "Bobby"; DELETE FROM stakeholders WHERE 1=1; --`;
  const sqlInbox = `%_' OR '1'='1`;
  ok(await runJdo(H, ["capture", "first run creates the database"]), "capture");
  const [cLong, cLongU, cUni, cSql, iSql] = await Promise.all([
    runJson<Rec>(H, ["commit", long, "--to", "Long", "--due", "2030-01-01", "--json"]),
    runJson<Rec>(H, [
      "commit",
      longUnicode,
      "--to",
      "Zoë Ünïcödé",
      "--due",
      "2030-01-02",
      "--json",
    ]),
    runJson<Rec>(H, [
      "commit",
      nonAscii,
      "--to",
      "Jürgen 日本",
      "--due",
      "2030-01-03",
      "--notes",
      nonAscii,
      "--json",
    ]),
    runJson<Rec>(H, [
      "commit",
      sql,
      "--to",
      sqlName,
      "--due",
      "2030-01-04",
      "--notes",
      sql,
      "--json",
    ]),
    runJson<Rec>(H, ["capture", sqlInbox, "--json"]),
  ]);
  assert.equal(long.length, 5000);
  assert.equal(longUnicode.length, 5000);
  assert.equal(cLong.deliverable, long);
  assert.equal(cLongU.deliverable, longUnicode);
  assert.equal(cLongU.stakeholder, "Zoë Ünïcödé");
  assert.equal(cUni.deliverable, nonAscii);
  assert.equal(cUni.notes, nonAscii);
  assert.equal(cUni.stakeholder, "Jürgen 日本");
  assert.equal(cSql.deliverable, sql);
  assert.equal(cSql.notes, sql);
  assert.equal(cSql.stakeholder, sqlName);
  assert.equal(iSql.text, sqlInbox);

  const [list, listText, showLong, showSql, exported, tooLong, byPrefix, status] = await Promise
    .all([
      runJson<Rec[]>(H, ["list", "--json"]),
      runJdo(H, ["list"]),
      runJson<Rec>(H, ["show", String(cLongU.id).slice(0, 8), "--json"]),
      runJson<Rec>(H, ["show", String(cSql.id), "--json"]),
      runJson<Rec>(H, ["export"]),
      runJdo(H, ["commit", "y".repeat(20_001), "--to", "X", "--due", "2030-01-01"]),
      runJdo(H, ["show", sql]),
      runJson<Rec>(H, ["db", "status", "--json"]),
    ]);
  assert.deepEqual(list.map((c) => c.deliverable), [long, longUnicode, nonAscii, sql]);
  ok(listText, "list");
  noEsc(listText, "list");
  assert.ok(listText.stdout.includes("Café ☕"), listText.stdout);
  assert.ok(listText.stdout.includes("Robert'); DROP TABLE"), listText.stdout);
  for (const line of listText.stdout.trimEnd().split("\n")) {
    assert.ok([...line].length < 200, `list lines are truncated: ${line.length}`);
  }
  assert.equal(showLong.deliverable, longUnicode);
  assert.equal(showSql.deliverable, sql);
  assert.equal(showSql.stakeholder, sqlName);
  const inbox = (exported.inbox as Rec[]).map((i) => i.text).sort();
  assert.deepEqual(inbox, [sqlInbox, "first run creates the database"].sort());
  assert.deepEqual(
    (exported.stakeholders as Rec[]).map((s) => s.name).sort(),
    ["Jürgen 日本", "Long", sqlName, "Zoë Ünïcödé"].sort(),
  );
  failsWith(tooLong, 1, /too long \(20001 characters; at most 20000\)/, "20,001 characters");
  failsWith(byPrefix, 1, /No item has the ID/, "SQL as an ID");
  assert.equal((status.counts as Rec).commitments, 4, "the tables are intact");

  // Case-insensitive stakeholder names, also beyond ASCII.
  const [sameAscii, sameUnicode] = await Promise.all([
    runJson<Rec>(H, ["commit", "a", "--to", "LONG", "--due", "2030-02-01", "--json"]),
    runJson<Rec>(H, ["commit", "b", "--to", "ZOË ÜNÏCÖDÉ", "--due", "2030-02-01", "--json"]),
  ]);
  assert.equal(sameAscii.stakeholder_id, cLong.stakeholder_id);
  assert.equal(sameUnicode.stakeholder_id, cLongU.stakeholder_id);
});

Deno.test("import: a JSON array of commitments twice imports once; a bad item imports nothing", async () => {
  await using t = await tempHome();
  const H = t.home;
  const items = [
    { deliverable: "Alpha", stakeholder: "Dana", due_date: "2030-03-01" },
    {
      deliverable: "Beta",
      stakeholder: "dana",
      due_date: "2030-03-02",
      due_time: "08:15",
      notes: "n",
    },
    { deliverable: "Gamma", to: "Eli", due: "2030-03-03", status: "in_progress" },
  ];
  const file = join(t.root, "commitments.json");
  await Deno.writeTextFile(file, JSON.stringify(items));
  const first = await runJson<Rec>(H, ["import", file, "--json"]);
  assert.deepEqual(first, {
    imported: 3,
    skipped: 0,
    deleted_here: 0,
    restored: 0,
    by_kind: { commitments: 3 },
  });
  const second = await runJson<Rec>(H, ["import", file, "--json"]);
  assert.deepEqual(second, { imported: 0, skipped: 3, deleted_here: 0, restored: 0, by_kind: {} });
  const viaStdin = await runJson<Rec>(H, ["import", "-", "--json"], {
    stdin: JSON.stringify(items),
  });
  assert.deepEqual(viaStdin, {
    imported: 0,
    skipped: 3,
    deleted_here: 0,
    restored: 0,
    by_kind: {},
  });
  const list = await runJson<Rec[]>(H, ["list", "--json"]);
  assert.deepEqual(
    list.map((c) => [c.deliverable, c.stakeholder, c.due_date, c.due_time, c.status]),
    [
      ["Alpha", "Dana", "2030-03-01", "09:00", "pending"],
      ["Beta", "Dana", "2030-03-02", "08:15", "pending"],
      ["Gamma", "Eli", "2030-03-03", "09:00", "in_progress"],
    ],
  );
  const stakeholders = await runJson<Rec[]>(H, ["list", "stakeholders", "--json"]);
  assert.deepEqual(stakeholders.map((s) => s.name), ["Dana", "Eli"]);

  // All-or-nothing: one bad item anywhere → nothing at all is imported.
  const bad: [string, unknown, RegExp][] = [
    ["bad date", [
      { deliverable: "Delta", stakeholder: "Frank", due_date: "2030-04-01" },
      { deliverable: "Epsilon", stakeholder: "Gina", due_date: "someday maybe" },
    ], /item 2.*"someday maybe"/],
    ["empty deliverable", [
      { deliverable: "Delta", stakeholder: "Frank", due_date: "2030-04-01" },
      { deliverable: "  ", stakeholder: "Gina", due_date: "2030-04-02" },
    ], /item 2: The deliverable cannot be empty/],
    ["missing stakeholder", [
      { deliverable: "Delta", stakeholder: "Frank", due_date: "2030-04-01" },
      { deliverable: "Zeta", due_date: "2030-04-02" },
    ], /item 2/],
    ["unknown status", [
      { deliverable: "Delta", stakeholder: "Frank", due_date: "2030-04-01" },
      { deliverable: "Zeta", stakeholder: "Gina", due_date: "2030-04-02", status: "done-ish" },
    ], /unknown status "done-ish"/],
    [
      "not an object",
      [{ deliverable: "Delta", stakeholder: "Frank", due_date: "2030-04-01" }, 42],
      /item 2/,
    ],
    ["dangling reference", {
      format: "jdo-export",
      format_version: 1,
      inbox: [{ id: "11111111-2222-4333-8444-555555555555", text: "New inbox", status: "open" }],
      tasks: [{
        id: "66666666-2222-4333-8444-555555555555",
        commitment_id: "00000000-0000-4000-8000-000000000000",
        title: "Orphan",
        status: "pending",
      }],
    }, /refers to a missing/],
    ["bad row in an export", {
      format: "jdo-export",
      inbox: [
        { id: "11111111-2222-4333-8444-555555555555", text: "New inbox", status: "open" },
        { id: "not-a-uuid", text: "x", status: "open" },
      ],
    }, /inbox\[1\]: id must be a lowercase UUID/],
    ["not JSON", "[{ nope", /not valid JSON/],
    ["wrong shape", { hello: "world" }, /expected a jdo export/],
  ];
  const results = await pool(bad.map(([name, content]) => async () => {
    const path = join(t.root, `bad-${name.replaceAll(" ", "-")}.json`);
    await Deno.writeTextFile(path, typeof content === "string" ? content : JSON.stringify(content));
    return await runJdo(H, ["import", path]);
  }));
  bad.forEach(([name, , message], i) => failsWith(results[i], 1, message, `import ${name}`));
  const status = await runJson<Rec>(H, ["db", "status", "--json"]);
  assert.deepEqual(status.counts, {
    stakeholders: 2,
    visions: 0,
    goals: 0,
    milestones: 0,
    recurring: 0,
    commitments: 3,
    tasks: 0,
    "cleanup-plans": 0,
    "task-history": 0,
    inbox: 0,
  }, "nothing from a failed import was kept (no Frank, no Gina, no Delta, no inbox item)");
});

Deno.test("db: status --json, backup (0600, backups/jdo-YYYYMMDD-HHMMSS.db), restore --yes backs up first", async () => {
  await using t = await tempHome();
  const H = t.home;
  const first = await runJson<Rec>(H, [
    "commit",
    "Kept",
    "--to",
    "Ann",
    "--due",
    "2030-01-01",
    "--json",
  ]);
  const status = await runJson<Rec>(H, ["db", "status", "--json"]);
  hasKeys(status, [
    "path",
    "size_bytes",
    "schema_version",
    "latest_schema_version",
    "pending_migrations",
    "counts",
  ], "db status");
  assert.equal(status.path, join(H, "jdo.db"));
  assert.equal(status.schema_version, status.latest_schema_version);
  assert.ok(Number(status.schema_version) >= 1);
  assert.deepEqual(status.pending_migrations, []);
  assert.equal((status.counts as Rec).commitments, 1);
  const [statusText, upgrade] = await Promise.all([
    runJdo(H, ["db", "status"]),
    runJdo(H, ["db", "upgrade"]),
  ]);
  ok(statusText, "db status");
  assert.match(statusText.stdout, /Schema:\s+version \d+ of \d+/);
  ok(upgrade, "db upgrade");
  assert.match(upgrade.stdout, /Already up to date/);

  // backup
  const backup = ok(await runJdo(H, ["db", "backup"]), "db backup");
  const m = /^Backed up to (.+)\n$/.exec(backup.stdout);
  assert.ok(m, backup.stdout);
  const backupPath = m[1];
  assert.equal(dirname(backupPath), join(H, "backups"));
  assert.match(basename(backupPath), /^jdo-\d{8}-\d{6}\.db$/);
  // The stamp is the current UTC time (of the test world).
  const [, y, mo, d, h, mi, se] = /^jdo-(\d{4})(\d\d)(\d\d)-(\d\d)(\d\d)(\d\d)\.db$/
    .exec(basename(backupPath))!.map(Number);
  const stampMs = Date.UTC(y, mo - 1, d, h, mi, se);
  assert.ok(
    Math.abs(testNow().getTime() - stampMs) < 120_000,
    `stamp of ${basename(backupPath)} is now (UTC)`,
  );
  if (POSIX) {
    assert.equal(mode(await Deno.stat(backupPath)), 0o600);
    assert.equal(mode(await Deno.stat(join(H, "backups"))), 0o700);
  }
  // --out to an existing file is refused.
  failsWith(
    await runJdo(H, ["db", "backup", "--out", backupPath]),
    1,
    /already exists/,
    "backup over a file",
  );

  // restore: the later commitment disappears; the replaced database is backed up first.
  await runJson(H, ["commit", "Added later", "--to", "Ann", "--due", "2030-01-02", "--json"]);
  failsWith(
    await runJdo(H, ["db", "restore", backupPath]),
    2,
    /--yes/,
    "restore without --yes, no TTY",
  );
  const notADb = join(t.root, "not-a-db.db");
  await Deno.writeTextFile(notADb, "just text, not SQLite\n".repeat(100));
  failsWith(
    await runJdo(H, ["db", "restore", notADb, "--yes"]),
    1,
    /not a jdo database/,
    "restore junk",
  );
  assert.equal(
    (await runJson<Rec[]>(H, ["list", "--json"])).length,
    2,
    "failed restores changed nothing",
  );

  const restored = ok(await runJdo(H, ["db", "restore", backupPath, "--yes"]), "db restore");
  assert.match(restored.stdout, /^Restored .*jdo\.db from /);
  const pre = /Backed up the current database to (.+)\n/.exec(restored.stderr);
  assert.ok(pre, `restore says where the safety backup went: ${show(restored)}`);
  const safety = pre[1];
  assert.notEqual(safety, backupPath);
  assert.equal(dirname(safety), join(H, "backups"));
  if (POSIX) assert.equal(mode(await Deno.stat(safety)), 0o600);
  const [after, safetyStatus, write] = await Promise.all([
    runJson<Rec[]>(H, ["list", "--json"]),
    runJson<Rec>(H, ["db", "status", "--json"], { env: { JDO_DATABASE_PATH: safety } }),
    runJdo(H, ["capture", "writable after restore"]),
  ]);
  assert.deepEqual(after.map((c) => c.id), [first.id]);
  assert.equal(
    (safetyStatus.counts as Rec).commitments,
    2,
    "the safety backup holds the replaced data",
  );
  ok(write, "write after restore");
  if (POSIX) assert.equal(mode(await Deno.stat(join(H, "jdo.db"))), 0o600);
});

Deno.test(
  "files: the data dir is created 0700 (with parents) and jdo.db 0600",
  { ignore: !POSIX },
  async () => {
    await using t = await tempHome();
    const home = join(t.root, "deep", "er", "jdo");
    ok(await runJdo(home, ["capture", "hello"]), "capture");
    assert.equal(mode(await Deno.stat(home)), 0o700);
    assert.equal(mode(await Deno.stat(join(home, "jdo.db"))), 0o600);
    for await (const entry of Deno.readDir(home)) {
      if (!entry.isFile) continue;
      const m = mode(await Deno.stat(join(home, entry.name)));
      assert.equal(m & 0o077, 0, `${entry.name} is private (mode ${m.toString(8)})`);
    }
    // JDO_DATABASE_PATH into an existing shared directory: the file is private, the directory
    // keeps its mode (jdo must not chmod e.g. /tmp or the current directory).
    const shared = join(t.root, "shared");
    await Deno.mkdir(shared);
    await Deno.chmod(shared, 0o755);
    const inShared = join(shared, "jdo.db");
    ok(
      await runJdo(home, ["capture", "shared"], { env: { JDO_DATABASE_PATH: inShared } }),
      "shared",
    );
    assert.equal(mode(await Deno.stat(shared)), 0o755);
    assert.equal(mode(await Deno.stat(inShared)), 0o600);
    // JDO_DATABASE_PATH moves the database; a missing directory is created private.
    const custom = join(t.root, "elsewhere", "my.db");
    ok(
      await runJdo(home, ["capture", "elsewhere"], { env: { JDO_DATABASE_PATH: custom } }),
      "custom db",
    );
    assert.equal(mode(await Deno.stat(custom)), 0o600);
    assert.equal(mode(await Deno.stat(dirname(custom))), 0o700);
    const inbox = await runJson<Rec[]>(home, ["list", "inbox", "--json"], {
      env: { JDO_DATABASE_PATH: custom },
    });
    assert.deepEqual(inbox.map((i) => i.text), ["elsewhere"]);
  },
);

Deno.test("colour: NO_COLOR, --no-color and non-TTY output contain no escape characters", async () => {
  await using t = await tempHome();
  const H = t.home;
  const c = await runJson<Rec>(H, [
    "commit",
    "Overdue thing",
    "--to",
    "Ann",
    "--due",
    "2020-01-01",
    "--json",
  ]);
  await runJson(H, ["commit", "Due today", "--to", "Ann", "--due", "today", "--json"]);
  await runJson(H, ["goal", "add", "A goal", "--json"]);
  const commands = [
    [],
    ["list"],
    ["list", "--all"],
    ["show", String(c.id)],
    ["integrity"],
    ["list", "goals"],
    ["--help"],
    ["show", "ffff0000"],
  ];
  const envs: [string, Record<string, string | undefined>, string[]][] = [
    ["NO_COLOR=1", { NO_COLOR: "1" }, []],
    [
      "no NO_COLOR, not a TTY",
      { NO_COLOR: undefined, TERM: "xterm-256color", FORCE_COLOR: "1" },
      [],
    ],
    ["--no-color", { NO_COLOR: undefined, TERM: "xterm-256color" }, ["--no-color"]],
  ];
  const jobs = envs.flatMap(([name, env, extra]) =>
    commands.map((args) => async () =>
      [name, args, await runJdo(H, [...args, ...extra], { env })] as const
    )
  );
  for (const [name, args, r] of await pool(jobs)) {
    assert.ok(
      r.code === 0 || args[0] === "show" && args[1] === "ffff0000",
      `${name} jdo ${args.join(" ")}: ${show(r)}`,
    );
    noEsc(r, `${name} jdo ${args.join(" ")}`);
  }
  // The dashboard (jdo without a TTY) shows the overdue commitment.
  const dash = ok(await runJdo(H, []), "dashboard");
  assert.match(dash.stdout, /Overdue thing/);
  assert.match(dash.stdout, /overdue/);
});

Deno.test("a corrupt auth.json is reported naming its path, never discarded; local commands still work", async () => {
  await using t = await tempHome();
  const H = t.home;
  ok(await runJdo(H, ["capture", "before"]), "capture");
  // Sync is on (pointing at a closed loopback port), so the token would be needed.
  await Deno.writeTextFile(
    join(H, "settings.json"),
    JSON.stringify({
      turso_enabled: true,
      turso_db_url: "http://127.0.0.1:9",
      device_id: "0123456789ab",
    }),
  );
  const auth = join(H, "auth.json");
  const garbage = '{"turso": {"token": "not closed';
  await Deno.writeTextFile(auth, garbage, { mode: 0o600 });
  const before = await Deno.stat(auth);
  const [capture, list, commit, status] = await Promise.all([
    runJdo(H, ["capture", "after"]),
    runJdo(H, ["list", "inbox", "--json"]),
    runJdo(H, ["commit", "x", "--to", "Y", "--due", "2030-01-01"]),
    runJdo(H, ["sync", "status"]),
  ]);
  for (const [name, r] of [["capture", capture], ["list", list], ["commit", commit]] as const) {
    ok(r, name);
    assert.equal(r.stderr, "", `${name}: no complaint from a local command`);
  }
  assert.ok((JSON.parse(list.stdout) as Rec[]).some((i) => i.text === "before"), list.stdout);
  assert.notEqual(status.code, 0, show(status));
  assertOneLineError(status, "sync status with a corrupt auth.json");
  assert.ok(status.stderr.includes(auth), `names ${auth}: ${show(status)}`);
  assert.match(status.stderr, /not valid JSON/);
  assert.equal(await Deno.readTextFile(auth), garbage, "auth.json left as it was");
  const after = await Deno.stat(auth);
  assert.equal(after.ino, before.ino);
  assert.equal(after.mtime?.getTime(), before.mtime?.getTime());
});
