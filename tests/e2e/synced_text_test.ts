/**
 * Text synced from another device is shown as safely as text typed here:
 * terminal escapes in a deliverable or a name never reach the second
 * device's terminal, and its JSON keeps the data exactly.
 */
import assert from "node:assert/strict";
import { startSqld } from "../helpers/sqld.ts";
import { device, type Row, setup } from "../helpers/device.ts";

// deno-lint-ignore no-control-regex
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

Deno.test("sync: control characters from another device are shown escaped; JSON keeps them", async () => {
  await using server = await startSqld({ auth: true });
  const token = await server.token("rw");
  await using a = await device("A");
  await using b = await device("B");
  const evil = "Title \x1b]0;pwned\x07 \x1b[2J\u009b31m done";
  const made = await a.json<Row>([
    "commit",
    evil,
    "--to",
    "Eve\x1b[1m",
    "--due",
    "2030-01-01",
    "--json",
  ]);
  assert.equal((await setup(a, server.url, token)).code, 0);
  const joined = await setup(b, server.url, token);
  assert.equal(joined.code, 0, joined.stderr);

  for (const args of [["list"], ["show", String(made.id)], [], ["list", "stakeholders"]]) {
    const r = await b.ok(args);
    assert.ok(!RAW_CONTROL.test(r.stdout), `B: jdo ${args.join(" ")}: ${JSON.stringify(r.stdout)}`);
    assert.ok(!RAW_CONTROL.test(r.stderr), `B: jdo ${args.join(" ")}: ${JSON.stringify(r.stderr)}`);
  }
  assert.match((await b.ok(["list"])).stdout, /Title \^\[\]0;pwned\^G \^\[\[2J\\u009b31m done/);
  const shown = await b.json<Row>(["show", String(made.id), "--json"]);
  assert.equal(shown.deliverable, evil);
  assert.equal(shown.stakeholder, "Eve\x1b[1m");
});
