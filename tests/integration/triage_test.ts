/**
 * Issue 19, point 4: `jdo triage` turns inbox items into rows, oldest first
 * on a terminal (scripted answers), or one item from a script with flags.
 * In-process with a fixed clock (tests/helpers/in_process.ts).
 */
import assert from "node:assert/strict";
import { type InProcessJdo, inProcessJdo, showResult as show } from "../helpers/in_process.ts";

type Rec = Record<string, unknown>;

async function capture(j: InProcessJdo, text: string, at: string): Promise<Rec> {
  j.clock.set(new Date(at));
  return await j.json(["capture", text]);
}

async function item(j: InProcessJdo, id: unknown): Promise<Rec> {
  return await j.json(["show", String(id)]);
}

Deno.test("triage ID --to-commitment makes the commitment, prints it as show --json, and triages the item", async () => {
  await using j = await inProcessJdo();
  const it = await capture(j, "Send the budget", "2026-06-15T12:00:00Z");
  const made = await j.json([
    "triage",
    String(it.id),
    "--to-commitment",
    "--to",
    "Sarah",
    "--due",
    "2031-03-14",
    "--time",
    "10:30",
  ]);
  assert.equal(made.deliverable, "Send the budget");
  assert.equal(made.stakeholder, "Sarah");
  assert.equal(made.due_date, "2031-03-14");
  assert.equal(made.due_time, "10:30");
  assert.deepEqual(made, await j.json(["show", String(made.id)]), "printed as show --json");
  assert.equal((await item(j, it.id)).status, "triaged");
  const text = await j.run(["list", "inbox"]);
  assert.match(text.stdout, /No inbox items/, "a triaged item leaves the open inbox");
});

Deno.test("triage ID makes a goal, vision, milestone or task; --title overrides the text", async () => {
  await using j = await inProcessJdo();
  const a = await capture(j, "Get fit", "2026-06-15T12:00:00Z");
  const b = await capture(j, "A calm life", "2026-06-15T12:01:00Z");
  const c = await capture(j, "Run 10k", "2026-06-15T12:02:00Z");
  const d = await capture(j, "Buy shoes", "2026-06-15T12:03:00Z");
  const goal = await j.json(["triage", String(a.id), "--to-goal", "--review", "30"]);
  assert.equal(goal.title, "Get fit");
  assert.equal(goal.next_review_date, "2026-07-15");
  const vision = await j.json([
    "triage",
    String(b.id),
    "--to-vision",
    "--narrative",
    "Slow mornings",
    "--title",
    "Calm",
  ]);
  assert.equal(vision.title, "Calm");
  assert.equal(vision.narrative, "Slow mornings");
  const ms = await j.json([
    "triage",
    String(c.id),
    "--to-milestone",
    String(goal.id),
    "--target",
    "2031-03-14",
  ]);
  assert.equal(ms.goal_id, goal.id);
  assert.equal(ms.target_date, "2031-03-14");
  const commitment = await j.json(["commit", "Train", "--to", "Me", "--due", "2031-03-14"]);
  const r = await j.run([
    "triage",
    String(d.id),
    "--to-task",
    String(commitment.id),
    "--estimate",
    "2",
  ]);
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, /^Triaged into task [0-9a-f]+: Buy shoes\n$/);
  const task = (await j.json(["show", String(commitment.id)])).tasks as Rec[];
  assert.deepEqual(task.map((t) => [t.title, t.estimated_hours]), [["Buy shoes", 2]]);
  for (const x of [a, b, c, d]) assert.equal((await item(j, x.id)).status, "triaged");
});

Deno.test("triage ID --dismiss keeps the item, triaged, and makes nothing", async () => {
  await using j = await inProcessJdo();
  const it = await capture(j, "Old idea", "2026-06-15T12:00:00Z");
  const r = await j.run(["triage", String(it.id), "--dismiss"]);
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, /^Dismissed [0-9a-f]+\n$/);
  assert.equal((await item(j, it.id)).status, "triaged");
  const again = await j.run(["triage", String(it.id), "--to-goal"]);
  assert.equal(again.code, 1, show(again));
  assert.match(again.stderr, /already triaged/);
  assert.equal((await j.json<Rec[]>(["list", "goals"])).length, 0);
  const reopened = await j.json(["edit", String(it.id), "--status", "open"]);
  assert.equal(reopened.status, "open", "edit --status open brings a dismissed item back");
  assert.equal((await j.json(["triage", String(it.id), "--to-goal"])).title, "Old idea");
});

Deno.test("triage refuses bad combinations with one usage line and changes nothing", async () => {
  await using j = await inProcessJdo();
  const it = await capture(j, "Thing", "2026-06-15T12:00:00Z");
  const id = String(it.id);
  const cases: [string[], RegExp][] = [
    [["triage", id, "--to-goal", "--dismiss"], /Choose one of --to-goal, --dismiss/],
    [["triage", id, "--to-commitment", "--due", "2031-03-14"], /needs --to NAME/],
    [["triage", id, "--to-commitment", "--to", "Al"], /needs --due/],
    [["triage", id, "--to-goal", "--due", "2031-03-14"], /--due goes with --to-commitment/],
    [["triage", id, "--to-vision"], /needs --narrative/],
    [["triage", "--to-goal"], /--to-goal needs the inbox item's ID/],
    [["triage", id], /asks on a terminal/],
    [["triage", id, "--to-commitment", "--to", "Al", "--due", "dec 32"], /--due: .*dec 32/],
  ];
  for (const [args, message] of cases) {
    const r = await j.run(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${show(r)}`);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, show(r));
    assert.match(r.stderr, message, args.join(" "));
  }
  assert.equal((await item(j, id)).status, "open");
  assert.equal((await j.json<Rec[]>(["list"])).length, 0, "no commitment made");
});

Deno.test("an empty --title is refused and the item stays open", async () => {
  await using j = await inProcessJdo();
  const real = await capture(j, "Plan", "2026-06-15T12:00:00Z");
  const r = await j.run(["triage", String(real.id), "--to-goal", "--title", " "]);
  assert.equal(r.code, 1, show(r));
  assert.match(r.stderr, /goal title cannot be empty/);
  assert.equal((await item(j, real.id)).status, "open");
});

Deno.test("jdo triage on a terminal walks the inbox oldest first: make, dismiss, skip", async () => {
  await using j = await inProcessJdo();
  // Captured out of order: the walk follows capture time.
  const second = await capture(j, "Write the report", "2026-06-15T12:05:00Z");
  const first = await capture(j, "Learn Spanish", "2026-06-15T12:00:00Z");
  const third = await capture(j, "Maybe later", "2026-06-15T12:10:00Z");
  const fourth = await capture(j, "Junk", "2026-06-15T12:20:00Z");
  const r = await j.run(["triage"], {
    tty: true,
    answers: [
      "g", // Learn Spanish → goal
      "", // title: Enter keeps the text
      "commitment", // Write the report → commitment
      "", // deliverable
      "Boss",
      "dec 32", // refused: asked again
      "c",
      "Quarterly report",
      "Boss",
      "2031-03-14",
      "x", // not a choice: asked again
      "s", // Maybe later: skipped
      "d", // Junk: dismissed
    ],
  });
  assert.equal(r.code, 0, show(r));
  const order = [...r.stdout.matchAll(/Inbox item (\d) of 4 \([0-9a-f]+, captured [\d-]+\): (.*)/g)]
    .map((m) => m[2]);
  assert.deepEqual(order, ["Learn Spanish", "Write the report", "Maybe later", "Junk"]);
  assert.match(r.stdout, /Triaged into goal [0-9a-f]+: Learn Spanish/);
  assert.match(
    r.stdout,
    /Triaged into commitment [0-9a-f]+: Quarterly report \(to Boss, due 2031-03-14/,
  );
  assert.match(r.stdout, /Triaged 3 items; 1 inbox item still open\.$/m);
  assert.match(r.stderr, /--due: .*dec 32/);
  assert.match(r.stderr, /answer c, g, v, m, t, d, s or q/);
  assert.equal((await item(j, first.id)).status, "triaged");
  assert.equal((await item(j, second.id)).status, "triaged");
  assert.equal((await item(j, third.id)).status, "open", "skipped stays in the queue");
  assert.equal((await item(j, fourth.id)).status, "triaged");
  const goals = await j.json<Rec[]>(["list", "goals"]);
  assert.deepEqual(goals.map((g) => g.title), ["Learn Spanish"]);
  const list = await j.json<Rec[]>(["list"]);
  assert.deepEqual(list.map((c) => [c.deliverable, c.stakeholder]), [["Quarterly report", "Boss"]]);

  const rest = await j.run(["triage"], { tty: true, answers: ["q"] });
  assert.equal(rest.code, 0, show(rest));
  assert.match(rest.stdout, /Inbox item 1 of 1 .*Maybe later/);
  assert.match(rest.stdout, /Triaged 0 items; 1 inbox item still open\./);
  const done = await j.run(["triage"], { tty: true, answers: ["d"] });
  assert.match(done.stdout, /Triage complete! All items processed\./);
  const empty = await j.run(["triage"]);
  assert.equal(empty.code, 0, show(empty));
  assert.equal(empty.stdout, "No items to triage. Your inbox is empty.\n");
});
