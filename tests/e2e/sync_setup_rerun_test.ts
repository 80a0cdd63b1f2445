/**
 * Setup never drops local data (issue 18.1): re-running it to replace a token
 * asks nothing about uploading and pushes the changes made meanwhile;
 * --no-upload on a device whose data the cloud lacks is refused; only
 * --discard-local replaces local data, naming the count, after a backup.
 * Real jdo against a real sqld.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSqld } from "../helpers/sqld.ts";
import { device, exists, ids, type Row, setup, status, syncNow } from "../helpers/device.ts";
import { inProcessJdo } from "../helpers/in_process.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

interface Listed {
  id: string;
  deliverable: string;
}

Deno.test({
  ...opts,
  name:
    "sync setup re-run (new token) with --no-upload keeps and pushes a commitment and an edit made while the token was refused",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    await using a = await device("A");
    await using b = await device("B");
    assert.equal((await setup(a, server.url, await server.token("rw"))).code, 0);
    const kept = await a.json<Row>([
      "commit",
      "Synced first",
      "--to",
      "Ann",
      "--due",
      "2031-03-14",
      "--json",
    ]);
    assert.equal((await syncNow(a)).ok, true);

    // The saved token stops working; work goes on locally.
    const rejected = await a.run(["sync", "now"], {
      env: { JDO_TURSO_AUTH_TOKEN: "not-a-valid-token" },
    });
    assert.equal(rejected.code, 3, rejected.stderr);
    await a.ok(["edit", kept.id, "--deliverable", "Edited while expired"]);
    const added = await a.json<Row>([
      "commit",
      "Added while expired",
      "--to",
      "Ann",
      "--due",
      "2031-03-15",
      "--json",
    ]);

    const rerun = await setup(a, server.url, await server.token("rw"), ["--no-upload"]);
    assert.equal(rerun.code, 0, rerun.stderr);
    const mine = await a.json<Listed[]>(["list", "--json"]);
    assert.deepEqual(
      mine.map((r) => r.deliverable).sort(),
      ["Added while expired", "Edited while expired"],
    );
    assert.match(rerun.stderr, /already in this cloud/);
    assert.equal((await status(a)).pending_changes, 0);

    // The cloud got both: a new device sees them.
    assert.equal((await setup(b, server.url, await server.token("rw"))).code, 0);
    const theirs = await b.json<Listed[]>(["list", "--json"]);
    assert.deepEqual(
      theirs.map((r) => [r.id, r.deliverable]).sort(),
      [[added.id, "Added while expired"], [kept.id, "Edited while expired"]].sort(),
    );
  },
});

Deno.test({
  ...opts,
  name:
    "sync setup re-run on a terminal asks only to replace the configuration and for the token, not to back up or upload",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    await using jdo = await inProcessJdo();
    const first = await jdo.run(["sync", "setup", "--url", server.url, "--token-stdin", "--yes"], {
      stdin: `${await server.token("rw")}\n`,
    });
    assert.equal(first.code, 0, first.stderr);
    assert.equal((await jdo.run(["capture", "queued meanwhile"])).code, 0);

    const rerun = await jdo.run(["sync", "setup", "--url", server.url], {
      tty: true,
      answers: [true, await server.token("rw")],
    });
    assert.equal(rerun.code, 0, rerun.stderr + rerun.stdout);
    assert.equal(rerun.asked.length, 2, rerun.asked.join(" | "));
    assert.match(rerun.asked[0], /Replace that configuration/);
    assert.match(rerun.asked[1], /Token/);
    assert.match(rerun.stdout, /↑ 1 uploaded/);
  },
});

Deno.test({
  ...opts,
  name:
    "sync setup --no-upload on a first device with data is refused (exit 2) and keeps the data; --discard-local names the count and backs up",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using a = await device("A");
    await using c = await device("C");
    const own = await a.json<Row>([
      "commit",
      "Only here",
      "--to",
      "Bo",
      "--due",
      "2031-03-14",
      "--json",
    ]);

    const refused = await setup(a, server.url, token, ["--no-upload"]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /--no-upload would leave this device's 2 items out of the cloud/);
    assert.match(refused.stderr, /--discard-local/);
    assert.deepEqual(await ids(a), [own.id]);
    assert.equal((await status(a)).enabled, false);

    // --upload --discard-local contradict each other.
    const both = await setup(a, server.url, token, ["--upload", "--discard-local"]);
    assert.equal(both.code, 2, both.stderr);

    assert.equal((await setup(a, server.url, token)).code, 0);
    await c.ok(["commit", "C's own", "--to", "Cy", "--due", "2031-03-15"]);
    await c.ok(["capture", "C's note"]);
    const discarded = await setup(c, server.url, token, ["--discard-local"]);
    assert.equal(discarded.code, 0, discarded.stderr);
    assert.match(discarded.stderr, /Discarded this device's 3 items/);
    const backupPath = /kept in (\S+\.db)/.exec(discarded.stderr)?.[1];
    assert.ok(backupPath && await exists(backupPath), discarded.stderr);
    assert.ok(backupPath.startsWith(join(c.home, "backups")), backupPath);
    assert.deepEqual(await ids(c), [own.id]);
  },
});
