/** Issue 19, point 4: `jdo triage ID --to-…` from a script, as a subprocess. */
import assert from "node:assert/strict";
import { runJdo, runJson, tempHome } from "../helpers/cli.ts";

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
