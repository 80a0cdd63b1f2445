/**
 * Issue 11 ("a new user's first hour"), local items 5–9 and 22: each test
 * runs real jdo commands in this process (tests/helpers/in_process.ts)
 * against a private JDO_HOME, with a fixed clock (Monday 2026-06-15 12:00 UTC).
 */
import assert from "node:assert/strict";
import {
  assertFails as fails,
  assertOk as ok,
  type InProcessJdo,
  inProcessJdo,
  showResult as show,
} from "../helpers/in_process.ts";
import { join } from "node:path";

type Rec = Record<string, unknown>;

/** An error: the exit code, nothing on stdout, one line on stderr matching `message`. */

async function commitment(j: InProcessJdo, due = "2026-07-01", to = "Alice"): Promise<Rec> {
  return await j.json(["commit", "Report", "--to", to, "--due", due]);
}

// --- 5. estimates --------------------------------------------------------------

Deno.test("5: --estimate takes plain hours only, the same way in task add and edit", async () => {
  await using j = await inProcessJdo();
  const c = await commitment(j);
  const task = await j.json(["task", "add", String(c.id), "Draft", "--estimate", "1.5"]);
  assert.equal(task.estimated_hours, 1.5);
  for (const bad of ["-3", "0x10", "1e3", "Infinity", "", " ", "2h", "10001", "NaN"]) {
    fails(
      await j.run(["edit", String(task.id), "--estimate", bad]),
      2,
      /--estimate must be a number of hours/,
      `edit --estimate ${JSON.stringify(bad)}`,
    );
    fails(
      await j.run(["task", "add", String(c.id), "More", "--estimate", bad]),
      2,
      /--estimate must be a number of hours/,
      `task add --estimate ${JSON.stringify(bad)}`,
    );
  }
  const edited = await j.json(["edit", String(task.id), "--estimate", ".5"]);
  assert.equal(edited.estimated_hours, 0.5);
  fails(await j.run(["goal", "add", "G", "--review", "0x1e"]), 2, /whole number/, "--review hex");
});

// --- 6. dates -------------------------------------------------------------------

Deno.test("6: impossible and absurd dates are refused with one line naming the input (exit 2)", async () => {
  await using j = await inProcessJdo();
  for (const due of ["dec 32", "2026-02-30", "0001-01-01", "9999-12-31", "march"]) {
    const r = await j.run(["commit", "X", "--to", "Bo", "--due", due]);
    fails(r, 2, new RegExp(`--due: .*"${due}"`), `--due ${due}`);
  }
  const c = await commitment(j);
  fails(await j.run(["edit", String(c.id), "--due", "dec 32"]), 2, /"dec 32"/, "edit --due");
  assert.equal((await j.json(["list"]) as unknown as Rec[]).length, 1, "nothing was added");
});

Deno.test("6: a time in the --due phrase sets the due time unless --time is given", async () => {
  await using j = await inProcessJdo();
  const a = await commitment(j, "tomorrow 3pm");
  assert.equal(a.due_date, "2026-06-16");
  assert.equal(a.due_time, "15:00");
  const b = await j.json(["commit", "B", "--to", "Al", "--due", "tomorrow 3pm", "--time", "09:00"]);
  assert.equal(b.due_time, "09:00", "--time wins");
  const c = await commitment(j, "tomorrow");
  assert.equal(c.due_time, "09:00", "no time in the phrase: the default (09:00, as the original)");
  const edited = await j.json(["edit", String(c.id), "--due", "friday at 10:30"]);
  assert.equal(edited.due_date, "2026-06-19");
  assert.equal(edited.due_time, "10:30");
  const kept = await j.json(["edit", String(c.id), "--due", "saturday 8am", "--time", "11:00"]);
  assert.equal(kept.due_time, "11:00");
  // A milestone target is a date: a time there is refused, not dropped.
  const goal = await j.json(["goal", "add", "G"]);
  fails(
    await j.run(["milestone", "add", String(goal.id), "M", "--target", "friday 3pm"]),
    2,
    /--target: "friday 3pm" names a time of day/,
    "milestone --target with a time",
  );
});

Deno.test("6: a due date in the past warns off a terminal and asks on one", async () => {
  await using j = await inProcessJdo();
  // Off a terminal: saved, one warning line on stderr.
  const past = await j.run(["commit", "Late", "--to", "Al", "--due", "2026-06-01"]);
  ok(past, "commit in the past");
  assert.match(past.stdout, /^Committed /);
  assert.equal(
    past.stderr,
    "jdo: warning: the due date 2026-06-01 09:00 is in the past (14 days ago); saved anyway\n",
  );
  // The default due time, 09:00, has passed at 12:00.
  const today = await j.run(["commit", "Earlier", "--to", "Al", "--due", "today"]);
  assert.match(today.stderr, /2026-06-15 09:00 is in the past \(earlier today\)/);
  const future = await j.run(["commit", "Fine", "--to", "Al", "--due", "today", "--time", "17:00"]);
  // (The overcommitting note is about something else: three made, none kept this week.)
  assert.doesNotMatch(future.stderr, /warning/, "17:00 today is still ahead at 12:00");
  // edit: the same rule.
  const c = await commitment(j);
  const edit = ok(await j.run(["edit", String(c.id), "--due", "yesterday"]), "edit into the past");
  assert.match(edit.stderr, /^jdo: warning: the due date 2026-06-14 09:00 is in the past/);
  assert.equal(
    (await j.run(["edit", String(c.id), "--notes", "n"])).stderr,
    "",
    "no warning when the due date is not being changed",
  );
  // A completed commitment's date is history: no warning when correcting it.
  const done = await commitment(j);
  await j.json(["complete", String(done.id)]);
  assert.equal((await j.run(["edit", String(done.id), "--due", "2026-06-01"])).stderr, "");
  // On a terminal: asked; "no" saves nothing.
  const no = await j.run(["commit", "Asked", "--to", "Al", "--due", "2026-06-01"], {
    tty: true,
    answers: [false],
  });
  assert.equal(no.code, 1, show(no));
  assert.match(no.stderr, /Nothing saved/);
  assert.deepEqual(no.asked, [
    "The due date 2026-06-01 09:00 is in the past (14 days ago). Save it anyway?",
  ]);
  const yes = await j.run(["commit", "Asked", "--to", "Al", "--due", "2026-06-01"], {
    tty: true,
    answers: [true],
  });
  ok(yes, "yes on a terminal");
  const all = await j.json<Rec[]>(["list", "--all"]);
  assert.equal(all.filter((r) => r.deliverable === "Asked").length, 1);
});

// --- 7. stakeholder names ----------------------------------------------------------

Deno.test("7: stakeholder names are unique regardless of case; commit --to prints the stored name", async () => {
  await using j = await inProcessJdo();
  ok(await j.run(["stakeholder", "add", "Alice"]), "first add");
  fails(
    await j.run(["stakeholder", "add", "alice"]),
    1,
    /A stakeholder named "Alice" already exists/,
    "second add, other case",
  );
  fails(await j.run(["stakeholder", "add", "Alice"]), 1, /"Alice" already exists/, "same name");
  ok(await j.run(["stakeholder", "add", "Élodie"]), "non-ASCII");
  fails(await j.run(["stakeholder", "add", "éLODIE"]), 1, /"Élodie" already exists/, "é/É");
  const commit = ok(await j.run(["commit", "Deck", "--to", "ALICE", "--due", "2026-07-01"]), "");
  assert.match(commit.stdout, /to Alice, due 2026-07-01 09:00/);
  const people = await j.json<Rec[]>(["list", "stakeholders"]);
  assert.deepEqual(people.map((p) => p.name).sort(), ["Alice", "Élodie"]);
  // Renaming onto another's name is refused; a change of case of one's own name is not.
  const bob = await j.json(["stakeholder", "add", "Bob"]);
  fails(
    await j.run(["edit", String(bob.id), "--name", "ALICE"]),
    1,
    /"Alice" already exists/,
    "rename onto Alice",
  );
  assert.equal((await j.json(["edit", String(bob.id), "--name", "BOB"])).name, "BOB");
});

// --- 8. transitions -----------------------------------------------------------------

Deno.test("8: every verb refuses an abandoned commitment, naming its state; edit --status reopens", async () => {
  await using j = await inProcessJdo();
  const c = await commitment(j);
  const id = String(c.id);
  ok(await j.run(["abandon", id]), "abandon");
  for (const verb of ["complete", "start", "at-risk"]) {
    fails(
      await j.run([verb, id]),
      1,
      new RegExp(`Cannot ${verb} this commitment: it is abandoned; use jdo edit --status`),
      `${verb} on abandoned`,
    );
  }
  const t = await j.json(["task", "add", id, "T"]);
  ok(await j.run(["abandon", String(t.id)]), "skip a task");
  fails(await j.run(["complete", String(t.id)]), 1, /it is skipped/, "complete a skipped task");
  const reopened = await j.json(["edit", id, "--status", "pending"]);
  assert.equal(reopened.status, "pending");
  assert.equal((await j.json(["complete", id])).status, "completed");
});

// --- 9. import after delete ------------------------------------------------------------

Deno.test("9: importing an export after a delete says so, and --undelete brings the rows back", async () => {
  await using j = await inProcessJdo();
  const c = await commitment(j);
  await j.json(["task", "add", String(c.id), "T1"]);
  await j.json(["task", "add", String(c.id), "T2"]);
  const file = join(j.root, "export.json");
  ok(await j.run(["export", "--out", file]), "export");
  ok(await j.run(["delete", String(c.id), "--yes"]), "delete the commitment and its 2 tasks");

  const again = ok(await j.run(["import", file]), "import after delete");
  assert.equal(
    again.stdout,
    // The stakeholder and the tasks' history (which outlives them) are still here.
    "Imported 0 items; 3 already present; 3 deleted here (use --undelete to bring them back)\n",
  );
  assert.deepEqual(await j.json(["import", file]), {
    imported: 0,
    skipped: 3,
    deleted_here: 3,
    restored: 0,
    by_kind: {},
  });
  assert.equal((await j.json<Rec[]>(["list"])).length, 0, "nothing came back without --undelete");

  const back = ok(await j.run(["import", file, "--undelete"]), "import --undelete");
  assert.equal(back.stdout, "Imported 0 items; 3 brought back; 3 already present\n");
  const shown = await j.json(["show", String(c.id)]);
  assert.equal(shown.deliverable, "Report");
  assert.equal((shown.tasks as Rec[]).length, 2);
  assert.ok(Number(shown.version !== c.version), "a new version, so the undelete syncs");
  const outbox = await j.json(["sync", "status"]);
  assert.ok(Number(outbox.pending_changes) >= 3, JSON.stringify(outbox));
  // Idempotent: a second --undelete finds everything present.
  assert.equal(
    ok(await j.run(["import", file, "--undelete"]), "again").stdout,
    "Imported 0 items; 6 already present\n",
  );
});

Deno.test("9: --undelete refuses a row whose parent stays deleted (nothing imported)", async () => {
  await using j = await inProcessJdo();
  const c = await commitment(j);
  const t = await j.json(["task", "add", String(c.id), "T1"]);
  const file = join(j.root, "tasks-only.json");
  const doc = JSON.parse(ok(await j.run(["export"]), "export").stdout);
  doc.commitments = [];
  doc.stakeholders = [];
  await Deno.writeTextFile(file, JSON.stringify(doc));
  ok(await j.run(["delete", String(c.id), "--yes"]), "delete");
  fails(
    await j.run(["import", file, "--undelete"]),
    1,
    /its commitment .* is deleted here and not in the file/,
    "orphan undelete",
  );
  assert.equal((await j.run(["show", String(t.id)])).code, 1, "the task stays deleted");
});

// --- 22. odds and ends -------------------------------------------------------------------

Deno.test("22: counts use the singular for one", async () => {
  await using j = await inProcessJdo();
  const c = await commitment(j);
  await j.json(["task", "add", String(c.id), "T1"]);
  const file = join(j.root, "one.json");
  const exported = ok(await j.run(["export", "--out", file]), "export");
  assert.match(
    exported.stderr,
    /1 stakeholder, 0 visions, .*1 commitment, 1 task, 0 cleanup plans, 1 task history entry, 0 inbox items/,
  );
  await using k = await inProcessJdo();
  const imported = ok(await k.run(["import", file]), "import");
  assert.equal(
    imported.stdout,
    "Imported 4 items (1 stakeholder, 1 commitment, 1 task, 1 task history entry); 0 already present\n",
  );
  const status = ok(await k.run(["db", "status"]), "db status");
  assert.match(
    status.stdout,
    /Rows: +1 stakeholder, 0 visions, 0 goals, 0 milestones, 0 recurring commitments, 1 commitment, 1 task, 0 cleanup plans, 1 task history entry, 0 inbox items/,
  );
  const t2 = await k.json(["task", "add", String(c.id), "T2"]);
  assert.ok(t2.id);
  const deleted = ok(await k.run(["delete", String(c.id), "--yes"]), "delete");
  assert.match(deleted.stdout, /and 2 related items$/m);
  const c2 = await commitment(k, "2026-07-02");
  await k.json(["task", "add", String(c2.id), "only"]);
  assert.match(
    ok(await k.run(["delete", String(c2.id), "--yes"]), "").stdout,
    /and 1 related item$/m,
  );
});

Deno.test("22: show GOAL prints progress in words; integrity with nothing completed says so", async () => {
  await using j = await inProcessJdo();
  const goal = await j.json(["goal", "add", "Ship"]);
  const empty = ok(await j.run(["show", String(goal.id)]), "show empty goal");
  assert.match(empty.stdout, /^ {2}Progress +nothing to do yet/m);
  await j.json(["milestone", "add", String(goal.id), "M1", "--target", "2026-07-01"]);
  await j.json(["commit", "C", "--to", "Al", "--due", "2026-07-01", "--goal", String(goal.id)]);
  const shown = ok(await j.run(["show", String(goal.id)]), "show goal");
  assert.match(shown.stdout, /^ {2}Progress +0 of 2 done \(milestones and commitments\)$/m);
  assert.ok(!shown.stdout.includes('{"done"'), shown.stdout);
  assert.deepEqual((await j.json(["show", String(goal.id)])).progress, { done: 0, total: 2 });

  const integrity = ok(await j.run(["integrity"]), "integrity");
  assert.match(integrity.stdout, /on time +no completed commitments yet/);
  assert.ok(!integrity.stdout.includes("0 of 0"), integrity.stdout);
  assert.match(integrity.stdout, /streak +0 weeks/);
});

Deno.test("22: edit sets a goal's vision, parent and motivation, and a vision's metrics and why", async () => {
  await using j = await inProcessJdo();
  const vision = await j.json(["vision", "add", "V", "--narrative", "N", "--metric", "old"]);
  const parent = await j.json(["goal", "add", "Parent"]);
  const goal = await j.json(["goal", "add", "Child"]);
  const edited = await j.json([
    "edit",
    String(goal.id),
    "--vision",
    String(vision.id),
    "--parent",
    String(parent.id),
    "--motivation",
    "because",
    "--problem",
    "p",
    "--solution",
    "s",
  ]);
  assert.equal(edited.vision_id, vision.id);
  assert.equal(edited.parent_goal_id, parent.id);
  assert.equal(edited.motivation, "because");
  assert.equal(edited.problem_statement, "p");
  assert.equal(edited.solution_vision, "s");
  fails(
    await j.run(["edit", String(parent.id), "--parent", String(goal.id)]),
    1,
    /cannot be its own parent/,
    "a cycle",
  );
  fails(await j.run(["edit", String(goal.id), "--parent", String(goal.id)]), 1, /own parent/, "");
  const cleared = await j.json(["edit", String(goal.id), "--vision", "none", "--parent", "none"]);
  assert.equal(cleared.vision_id, null);
  assert.equal(cleared.parent_goal_id, null);

  const v = await j.json([
    "edit",
    String(vision.id),
    "--metric",
    "revenue",
    "--metric",
    "users",
    "--why",
    "it matters",
    "--timeframe",
    "3 years",
    "--narrative",
    "New",
  ]);
  assert.deepEqual(v.metrics, ["revenue", "users"]);
  assert.equal(v.why_it_matters, "it matters");
  assert.equal(v.timeframe, "3 years");
  assert.equal(v.narrative, "New");
  assert.deepEqual((await j.json(["edit", String(vision.id), "--metric", ""])).metrics, []);
  fails(
    await j.run(["edit", String(goal.id), "--metric", "x"]),
    2,
    /--metric does not apply to a goal/,
    "metric on a goal",
  );
});

Deno.test("7: an import never adds a second stakeholder of the same name; its commitments join the one here", async () => {
  await using here = await inProcessJdo();
  await using there = await inProcessJdo();
  const alice = await here.json(["stakeholder", "add", "Alice"]);
  await there.json(["commit", "Slides", "--to", "alice", "--due", "2026-07-01"]);
  const file = join(there.root, "there.json");
  ok(await there.run(["export", "--out", file]), "export");
  const imported = ok(await here.run(["import", file]), "import");
  assert.equal(imported.stdout, "Imported 1 item (1 commitment); 1 already present\n");
  const people = await here.json<Rec[]>(["list", "stakeholders"]);
  assert.deepEqual(people.map((p) => p.name), ["Alice"]);
  const [c] = await here.json<Rec[]>(["list"]);
  assert.equal(c.stakeholder_id, alice.id);
  assert.equal(c.stakeholder, "Alice");
  // Again: nothing new.
  assert.equal(
    ok(await here.run(["import", file]), "again").stdout,
    "Imported 0 items; 2 already present\n",
  );
});

Deno.test("6: a JSON list whose due phrase names a time keeps it", async () => {
  await using j = await inProcessJdo();
  const list = JSON.stringify([{ deliverable: "A", stakeholder: "Al", due: "tomorrow 3pm" }]);
  ok(await j.run(["import", "-"], { stdin: list }), "import");
  const [c] = await j.json<Rec[]>(["list"]);
  assert.deepEqual([c.due_date, c.due_time], ["2026-06-16", "15:00"]);
});
