/**
 * Issue 20 for synced devices: a command within the fresh window of the last
 * sync does not catch up (src/sync/freshness.ts), so nothing syncs in its
 * process and the fast path opens jdo.db with node:sqlite, without loading
 * libSQL — it knows from cloud/view.json (src/sync/view_stamp.ts) before
 * opening anything. Shown with `deno run --no-npm`: any npm import (libSQL)
 * fails the command. The stamp never claims a fresher view than the
 * database holds: a failed sync, a restore and setup remove it.
 * Real jdo processes against a real sqld.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSqld } from "../helpers/sqld.ts";
import { type Device, device, type Row, setup, syncNow } from "../helpers/device.ts";
import { runJdo } from "../helpers/cli.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const AUTO = { JDO_SYNC_AUTO: "1" };

/** `jdo ARGS` as the device runs it with automatic sync on, but with --no-npm. */
function withoutNpm(dev: Device, args: string[], env: Record<string, string> = {}) {
  return runJdo(dev.home, args, { env: { ...AUTO, ...env }, denoFlags: ["--no-npm"] });
}

const stampOf = (dev: Device) => join(dev.home, "cloud", "view.json");

async function readStamp(dev: Device): Promise<{ database: string; view_at: string } | null> {
  try {
    return JSON.parse(await Deno.readTextFile(stampOf(dev)));
  } catch {
    return null;
  }
}

Deno.test({
  ...opts,
  name: "view stamp: a read right after a sync needs no libSQL; a stale view still catches up",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using a = await device("A", { env: AUTO });
    await using b = await device("B", { env: AUTO });
    assert.equal((await setup(a, server.url, token)).code, 0);
    assert.equal((await setup(b, server.url, token)).code, 0);
    const made = await a.json<Row>([
      "commit",
      "ship it",
      "--to",
      "Dana",
      "--due",
      "2031-03-14",
      "--json",
    ]);
    await syncNow(a);
    await syncNow(b);

    // The sync recorded its time beside the database, as the database holds it.
    const stamp = await readStamp(b);
    assert.ok(stamp, "B's sync wrote cloud/view.json");
    assert.equal(stamp.database, join(b.home, "jdo.db"));
    const st = await b.json<{ last_success_at: string | null }>(["sync", "status", "--json"]);
    assert.equal(stamp.view_at, st.last_success_at);

    // Fresh: list, show and the dashboard run with no npm package at all.
    for (const args of [["list", "--json"], ["show", String(made.id).slice(0, 8)], []]) {
      const r = await withoutNpm(b, args);
      assert.equal(r.code, 0, `jdo ${args.join(" ")} without npm: ${r.stderr}`);
    }
    assert.ok((await withoutNpm(b, ["list", "--json"])).stdout.includes(String(made.id)));

    // Two minutes later the view is stale: the read catches up, which needs libSQL.
    const later = { JDO_TEST_CLOCK_OFFSET_MS: String(2 * 60_000) };
    const stale = await withoutNpm(b, ["list", "--json"], later);
    assert.notEqual(stale.code, 0, "a stale view must load libSQL to catch up");
    assert.equal((await b.run(["list", "--json"], { env: later })).code, 0);

    // A stamp for another database file is not this one's.
    const other = await withoutNpm(b, ["list", "--json"], {
      JDO_DATABASE_PATH: join(b.home, "other.db"),
    });
    assert.notEqual(other.code, 0, "another database's stamp was trusted");
  },
});

Deno.test({
  ...opts,
  name: "view stamp: a failed sync, a restore and setup remove it before anything else changes",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using a = await device("A", { env: AUTO });
    assert.equal((await setup(a, server.url, token)).code, 0);
    await syncNow(a);
    assert.ok(await readStamp(a), "sync now wrote it");

    // A sync that fails: the cloud is down.
    await a.ok(["capture", "note while the cloud is down"]);
    await server.stop();
    const failed = await a.run(["sync", "now"], { timeoutMs: 60_000 });
    assert.notEqual(failed.code, 0);
    assert.equal(await readStamp(a), null, "a failed sync left the stamp");
    await server.restart();
    await syncNow(a);
    assert.ok(await readStamp(a), "the next success wrote it again");

    // A restore: the restored database's view is its own.
    const backup = join(a.home, "b.db");
    await a.ok(["db", "backup", "--out", backup]);
    await a.ok(["db", "restore", backup, "--yes"]);
    assert.equal(await readStamp(a), null, "restore left the stamp");

    // Setup again (the README's fix for an expired token): removed until its sync succeeds.
    await syncNow(a);
    assert.ok(await readStamp(a));
    const again = await setup(a, server.url, token);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(await readStamp(a), "setup's own sync wrote it");
  },
});
