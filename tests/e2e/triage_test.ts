/** Issue 19, point 4: `jdo triage ID --to-…` from a script, as a subprocess. */
import assert from "node:assert/strict";
import { runJdo, runJson, tempHome } from "../helpers/cli.ts";
import { clockAtEnv } from "../helpers/test_clock.ts";

type Rec = Record<string, unknown>;

Deno.test("e2e: a script triages an inbox item into a commitment and the inbox empties", async () => {
  await using t = await tempHome();
  const item = await runJson<Rec>(t.home, ["capture", "Send", "the", "deck", "--json"]);
  const made = await runJson<Rec>(t.home, [
    "triage",
    String(item.id),
    "--to-commitment",
    "--to",
    "Dana",
    "--due",
    "2031-03-14",
    "--json",
  ]);
  assert.equal(made.deliverable, "Send the deck");
  assert.equal(made.stakeholder, "Dana");
  assert.equal(made.due_date, "2031-03-14");
  const shown = await runJson<Rec>(t.home, ["show", String(item.id), "--json"]);
  assert.equal(shown.status, "triaged");
  const r = await runJdo(t.home, ["triage"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "No items to triage. Your inbox is empty.\n");
  const refused = await runJdo(t.home, ["triage", String(item.id), "--dismiss"]);
  assert.equal(refused.code, 1);
  assert.equal(refused.stdout, "");
  assert.match(refused.stderr, /^jdo: .*already triaged.*\n$/);
});

Deno.test("e2e: jdo review records a review of a goal and moves its next date by its interval", async () => {
  await using t = await tempHome();
  // Each process starts at noon on one day, so the test holds at any hour.
  const at = (iso: string) => ({ env: clockAtEnv(iso) });
  const day = at("2031-03-10T12:00:00Z");
  const goal = await runJson<Rec>(t.home, ["goal", "add", "Ship", "--review", "7", "--json"], day);
  assert.equal(typeof goal.next_review_date, "string");
  await runJson<Rec>(t.home, ["edit", String(goal.id), "--review", "30", "--json"], day);
  const reviewed = await runJson<Rec>(
    t.home,
    ["review", String(goal.id), "--json"],
    at("2031-03-17T12:00:00Z"),
  );
  assert.equal(goal.next_review_date, "2031-03-17");
  // Reviewed on its day, now with a 30-day interval.
  assert.equal(reviewed.next_review_date, "2031-04-16");
  assert.deepEqual(
    await runJson<Rec[]>(t.home, ["review", "--json"], at("2031-03-17T12:00:00Z")),
    [],
  );
});
