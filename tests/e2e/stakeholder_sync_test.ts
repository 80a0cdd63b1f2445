/**
 * Issue 11, item 7: two devices offline each create "Zelda"; after syncing
 * both ways there is one Zelda everywhere, and every commitment is filed
 * under her (src/sync/stakeholder_merge.ts).
 */
import assert from "node:assert/strict";
import { startSqld } from "../helpers/sqld.ts";
import { device, type Row, setup, syncNow } from "../helpers/device.ts";

Deno.test("sync: the same stakeholder created on two offline devices ends as one on both", async () => {
  await using server = await startSqld({ auth: true });
  const token = await server.token("rw");
  await using a = await device("A");
  await using b = await device("B");
  assert.equal((await setup(a, server.url, token, ["--no-backup"])).code, 0);
  assert.equal((await setup(b, server.url, token, ["--no-backup"])).code, 0);

  // Offline (no sync in between): each device makes its own Zelda.
  const fromA = await a.json<Row>([
    "commit",
    "Map",
    "--to",
    "Zelda",
    "--due",
    "2030-01-01",
    "--json",
  ]);
  const fromB = await b.json<Row>([
    "commit",
    "Sword",
    "--to",
    "zelda",
    "--due",
    "2030-01-02",
    "--json",
  ]);
  await b.ok(["commit", "Shield", "--to", "ZELDA", "--due", "2030-01-03"]);

  await syncNow(a);
  await syncNow(b); // pulls A's Zelda: B merges, keeping the older one (A's)
  await syncNow(a);
  await syncNow(b);

  const views = [];
  for (const dev of [a, b]) {
    const people = await dev.json<Row[]>(["list", "stakeholders", "--json"]);
    assert.deepEqual(people.map((p) => p.name), ["Zelda"], `${dev.name}: one Zelda`);
    const commitments = await dev.json<Row[]>(["list", "--json"]);
    assert.deepEqual(
      commitments.map((c) => [c.deliverable, c.stakeholder, c.stakeholder_id]),
      [
        ["Map", "Zelda", people[0].id],
        ["Sword", "Zelda", people[0].id],
        ["Shield", "Zelda", people[0].id],
      ],
      `${dev.name}: every commitment filed under the one Zelda`,
    );
    views.push(people[0].id);
  }
  assert.equal(views[0], views[1], "the same survivor on both devices");
  assert.equal(views[0], fromA.stakeholder_id, "the older Zelda (A's) survives");
  assert.notEqual(fromB.stakeholder_id, fromA.stakeholder_id);
  // Converged: nothing left to send either way.
  const last = await syncNow(a);
  assert.deepEqual([last.pushed, last.pulled], [0, 0]);
  // A de-duplicated stakeholder is not a conflict (issue 18, point 8).
  for (const dev of [a, b]) {
    const open = await dev.json<Row[]>(["sync", "conflicts", "--all", "--json"]);
    assert.deepEqual(open, [], `${dev.name}: no conflict recorded for the merged Zelda`);
  }
});
