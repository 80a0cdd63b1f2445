/**
 * `jdo sync repair` and `jdo sync devices` end to end against a real sqld:
 * each piece sync keeps on the side is broken by hand (the replica deleted
 * or overwritten with garbage, the watermark rewound, outbox rows dropped,
 * a stale lock left behind) and repair converges with nothing lost; three
 * devices (one with a skewed clock) list each other with their clocks.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Client, createClient } from "@libsql/client";
import { openRemote, startSqld } from "../helpers/sqld.ts";
import { type Device, device, type Row, setup, status, syncNow } from "../helpers/device.ts";
import { ENTITIES } from "../../src/db/schema.ts";
import type { DeviceList } from "../../src/sync/devices.ts";

const SYNCED_TABLES = [...ENTITIES.map((e) => e.table), "_sync_conflicts"];

interface RepairJson {
  ok: boolean;
  requeued: number;
  pulled: number;
  pushed: number;
  equal: number;
  rebuilt: string[];
  duration_ms: number;
  error_code?: string;
}

type DevicesJson = DeviceList;

/** Runs `fn` on the device's working database file (jdo is not running). */
async function onLocal<T>(dev: Device, fn: (db: Client) => Promise<T>): Promise<T> {
  const db = createClient({ url: `file:${join(dev.home, "jdo.db")}` });
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}

/** "table id version deleted?" for every row of every synced table, sorted. */
async function contents(db: Client): Promise<string[]> {
  const out: string[] = [];
  for (const table of SYNCED_TABLES) {
    const rs = await db.execute(`SELECT id, version, deleted_at FROM ${table}`);
    for (const r of rs.rows) {
      out.push(`${table} ${r.id} ${r.version} ${r.deleted_at === null ? "live" : "deleted"}`);
    }
  }
  return out.sort();
}

async function repair(dev: Device): Promise<RepairJson> {
  return await dev.json<RepairJson>(["sync", "repair", "--yes", "--json"]);
}

Deno.test("sync repair: every broken piece is rebuilt and the data converges", async (t) => {
  await using server = await startSqld({ auth: true });
  const token = await server.token("rw");
  using cloud = openRemote(server.url, token);
  await using a = await device("A");
  await using b = await device("B");
  const first = await a.json<Row>([
    "commit",
    "First",
    "--to",
    "Ann",
    "--due",
    "2026-12-01",
    "--json",
  ]);
  await a.json<Row>(["capture", "an idea", "--json"]);
  assert.equal((await setup(a, server.url, token, ["--no-backup"])).code, 0);
  assert.equal((await setup(b, server.url, token)).code, 0);

  /** A, B and the cloud hold the same rows at the same versions; nothing queued. */
  async function assertConverged(label: string) {
    await syncNow(b);
    const inCloud = await contents(cloud);
    assert.deepEqual(await onLocal(a, contents), inCloud, `${label}: A == cloud`);
    assert.deepEqual(await onLocal(b, contents), inCloud, `${label}: B == cloud`);
    const [sa, sb] = await Promise.all([status(a), status(b)]);
    assert.deepEqual([sa.pending_changes, sb.pending_changes], [0, 0], label);
    return inCloud;
  }

  await t.step("nothing broken: repair finds every row equal and changes nothing", async () => {
    const before = await assertConverged("before");
    const r = await repair(a);
    assert.equal(r.ok, true);
    assert.deepEqual([r.requeued, r.pulled], [0, 0]);
    assert.equal(r.equal, before.length);
    assert.deepEqual(r.rebuilt, ["replica", "watermark"]);
    assert.deepEqual(await assertConverged("after"), before);
  });

  await t.step(
    "cloud/ deleted: the replica is re-created, a pending edit still goes up",
    async () => {
      await a.ok(["edit", first.id, "--deliverable", "First, edited"]);
      await Deno.remove(join(a.home, "cloud"), { recursive: true });
      const r = await repair(a);
      assert.deepEqual([r.requeued, r.pushed], [0, 1]);
      assert.ok((await Deno.stat(join(a.home, "cloud"))).isDirectory);
      await assertConverged("cloud/ deleted");
      const onB = await b.json<Row>(["show", first.id, "--json"]);
      assert.equal(onB.deliverable, "First, edited");
    },
  );

  await t.step("the replica file overwritten with garbage", async () => {
    const files = [...Deno.readDirSync(join(a.home, "cloud"))].map((e) => e.name);
    assert.ok(files.includes("replica.db"), `cloud/ holds ${files}`);
    for (const name of files) {
      await Deno.writeTextFile(join(a.home, "cloud", name), "garbage ".repeat(1000));
    }
    const byB = await b.json<Row>(["capture", "from B", "--json"]);
    await syncNow(b);
    const r = await repair(a);
    assert.equal(r.pulled, 1);
    const header = (await Deno.readFile(join(a.home, "cloud", "replica.db"))).slice(0, 15);
    assert.equal(new TextDecoder().decode(header), "SQLite format 3", "a real replica again");
    assert.equal((await a.json<Row>(["show", byB.id, "--json"])).text, "from B");
    await assertConverged("garbage replica");
  });

  await t.step("the watermark rewound to 0", async () => {
    await onLocal(
      a,
      (db) => db.execute("UPDATE _sync_state SET value = '0' WHERE key = 'watermark'"),
    );
    const r = await repair(a);
    assert.deepEqual([r.requeued, r.pulled], [0, 0]);
    const watermark = await onLocal(
      a,
      (db) => db.execute("SELECT value FROM _sync_state WHERE key = 'watermark'"),
    );
    const seq = await cloud.execute("SELECT value FROM _jdo_meta WHERE key = 'seq'");
    assert.equal(Number(watermark.rows[0].value), Number(seq.rows[0].value));
    await assertConverged("watermark rewound");
  });

  await t.step("outbox rows dropped: the cloud is behind, repair sends them", async () => {
    const added = await a.json<Row>(["capture", "never queued", "--json"]);
    await a.ok(["edit", first.id, "--deliverable", "First, edited again"]);
    await a.ok(["delete", added.id, "--yes"]);
    const kept = await a.json<Row>(["capture", "also never queued", "--json"]);
    await onLocal(a, (db) => db.execute("DELETE FROM _sync_outbox"));
    // An ordinary sync cannot see it: nothing is queued.
    assert.equal((await syncNow(a)).pushed, 0);
    const missing = await cloud.execute({
      sql: "SELECT count(*) AS n FROM inbox_items WHERE id IN (?, ?)",
      args: [added.id, kept.id],
    });
    assert.equal(Number(missing.rows[0].n), 0, "the cloud is behind");

    const r = await repair(a);
    // The edited commitment, two inbox items (one tombstoned).
    assert.deepEqual([r.requeued, r.pushed], [3, 3]);
    await assertConverged("outbox dropped");
    assert.equal(
      (await b.json<Row>(["show", first.id, "--json"])).deliverable,
      "First, edited again",
    );
    assert.equal((await b.json<Row>(["show", kept.id, "--json"])).text, "also never queued");
    const gone = await b.run(["show", added.id, "--json"]);
    assert.notEqual(gone.code, 0, "the tombstone reached B");
  });

  await t.step("a stale lock (dead process) is removed; a live one is refused", async () => {
    const lock = join(a.home, "sync.lock");
    // A pid that is not running: a short-lived child that has exited.
    const child = new Deno.Command("true").spawn();
    await child.status;
    await Deno.writeTextFile(lock, `${child.pid} ${Date.now()}\n`);
    const r = await repair(a);
    assert.deepEqual(r.rebuilt, ["lock", "replica", "watermark"]);
    assert.equal(await Deno.stat(lock).then(() => true, () => false), false);

    await Deno.writeTextFile(lock, `${Deno.pid} ${Date.now()}\n`);
    const busy = await a.run(["sync", "repair", "--yes"]);
    assert.equal(busy.code, 1, busy.stderr);
    assert.match(busy.stderr, new RegExp(`A sync is running \\(process ${Deno.pid}\\)`));
    assert.equal(busy.stderr.trim().split("\n").length <= 2, true, busy.stderr);
    assert.match(await Deno.readTextFile(lock), new RegExp(`^${Deno.pid} `), "a live lock stays");
    await Deno.remove(lock);
    await assertConverged("lock");
  });

  await t.step("B deleted everything in its cloud/ and rewound: text output", async () => {
    await Deno.remove(join(b.home, "cloud"), { recursive: true });
    await onLocal(
      b,
      (db) => db.execute("UPDATE _sync_state SET value = '0' WHERE key = 'watermark'"),
    );
    const r = await b.ok(["sync", "repair", "--yes"]);
    assert.match(r.stdout, /^✓ Repaired: ↑ 0 requeued {2}↓ 0 pulled, \d+ already equal/m);
    await assertConverged("text");
  });

  await t.step("off a terminal, repair needs --yes", async () => {
    const r = await a.run(["sync", "repair"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--yes/);
  });
});

Deno.test("sync devices: three devices list each other with their clocks", async () => {
  await using server = await startSqld({ auth: true });
  const token = await server.token("rw");
  const hour = 3_600_000;
  await using a = await device("A", { env: { JDO_TEST_CLOCK_OFFSET_MS: String(hour) } });
  await using b = await device("B");
  await using c = await device("C");
  assert.equal((await setup(a, server.url, token, ["--name", "laptop"])).code, 0);
  assert.equal((await setup(b, server.url, token, ["--name", "desktop"])).code, 0);
  assert.equal((await setup(c, server.url, token)).code, 0);
  await syncNow(a);
  await syncNow(b);

  const list = await a.json<DevicesJson>(["sync", "devices", "--json"]);
  assert.equal(list.devices.length, 3, JSON.stringify(list));
  const byName = new Map(list.devices.map((d) => [d.name, d]));
  assert.deepEqual([...byName.keys()].sort(), [Deno.hostname(), "desktop", "laptop"].sort());
  const laptop = byName.get("laptop")!;
  assert.equal(laptop.this_device, true);
  assert.equal(list.this_device, laptop.id);
  // A's clock runs an hour fast; the others are in step (give the network 5 s).
  assert.ok(Math.abs(laptop.clock_offset_ms - hour) < 5_000, String(laptop.clock_offset_ms));
  for (const name of ["desktop", Deno.hostname()]) {
    assert.ok(Math.abs(byName.get(name)!.clock_offset_ms) < 5_000, name);
  }
  for (const d of list.devices) {
    assert.match(d.jdo_version, /^\d+\.\d+\.\d+/);
    assert.ok(d.first_sync_at <= d.last_sync_at, JSON.stringify(d));
  }
  const st = await status(a) as unknown as { devices: number; clock_skewed_devices: unknown[] };
  assert.deepEqual([st.devices, st.clock_skewed_devices.length], [3, 0]);

  // The text list: the local copy and its age.
  const text = await b.ok(["sync", "devices"]);
  assert.match(text.stdout, /laptop .*1 h ahead/);
  assert.match(text.stdout, /^\*\s+\S+\s+desktop/m);
  assert.match(text.stdout, /3 devices; \* is this one\. List copied from the cloud/);

  // Renaming reaches the others at their next sync.
  const renamed = await c.ok(["sync", "devices", "rename", "kitchen tablet"]);
  assert.match(renamed.stdout, /kitchen tablet/);
  await syncNow(b);
  const onB = await b.json<DevicesJson>(["sync", "devices", "--json"]);
  assert.ok(onB.devices.some((d) => d.name === "kitchen tablet"), JSON.stringify(onB));
  assert.equal(onB.devices.length, 3);

  // A device whose clock is more than 24 h off is warned about in status.
  await using d = await device("D", { env: { JDO_TEST_CLOCK_OFFSET_MS: String(30 * hour) } });
  assert.equal((await setup(d, server.url, token, ["--name", "old phone"])).code, 0);
  await syncNow(b);
  const warned = await b.ok(["sync", "status"]);
  assert.match(warned.stdout, /Devices: +4 synced with this cloud/);
  assert.match(warned.stdout, /⚠ The clock of device old phone \(\S+\) was 1 d 6 h ahead/);
  const bad = await b.run(["sync", "devices", "rename", " "]);
  assert.equal(bad.code, 2);
});

Deno.test("sync devices works offline from the local copy; repair offline fails cleanly", async () => {
  await using server = await startSqld({ auth: true });
  const token = await server.token("rw");
  await using a = await device("A");
  const none = await a.ok(["sync", "devices"]);
  assert.match(none.stdout, /Sync is off/);
  assert.equal((await setup(a, server.url, token, ["--name", "solo"])).code, 0);
  await server.stop();
  const list = await a.json<DevicesJson>(["sync", "devices", "--json"]);
  assert.deepEqual(list.devices.map((d) => d.name), ["solo"]);
  assert.ok(list.refreshed_at);

  // Repair needs the cloud: exit 3, one line, {ok: false}; the failure shows in status.
  const down = await a.run(["sync", "repair", "--yes", "--json"]);
  assert.equal(down.code, 3, down.stderr);
  assert.equal(down.stderr.trim().split("\n").length, 1, down.stderr);
  const report = JSON.parse(down.stdout) as RepairJson;
  assert.deepEqual([report.ok, report.error_code], [false, "SYNC_UNREACHABLE"]);
  const st = await a.run(["sync", "status", "--json"]);
  assert.equal(st.code, 3, "status: the cloud cannot be reached");
  assert.equal(JSON.parse(st.stdout).last_result, "SYNC_UNREACHABLE");
});
