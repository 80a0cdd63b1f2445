import assert from "node:assert/strict";
import { join } from "node:path";
import { entity, type Row } from "../db/schema.ts";
import type { Store } from "../db/store.ts";
import { openTempStore, type TempStore } from "../../tests/helpers/temp_store.ts";
import { syncOnce } from "./engine.ts";
import { MemoryCloud, type MemoryCloudClient } from "../../tests/helpers/memory_cloud.ts";
import { compareWithCloud } from "./cloud_compare.ts";
import { repairStore } from "./repair.ts";
import {
  describeDuration,
  describeOffset,
  DEVICE_ROW_REFRESH_MS,
  measureClockOffset,
  rowIsStale,
  skewedDevices,
} from "./devices.ts";

const inbox = entity("inbox");

async function capture(store: Store, text: string): Promise<Row> {
  return await store.write((w) => w.insert(inbox, { text, status: "open" }));
}

async function edit(store: Store, id: string, text: string): Promise<void> {
  await store.write((w) => w.update(inbox, id, { text }));
}

async function rows(store: Store): Promise<string[]> {
  return (await store.query("SELECT id, version, text, deleted_at FROM inbox_items ORDER BY id"))
    .map((r) => `${r.id} ${r.version} ${r.text} ${r.deleted_at ?? "live"}`);
}

function cloudRows(server: MemoryCloud): string[] {
  return server.rows("inbox_items").map((r) =>
    `${r.id} ${r.version} ${r.text} ${r.deleted_at ?? "live"}`
  );
}

async function outbox(store: Store): Promise<string[]> {
  return (await store.query("SELECT id FROM _sync_outbox ORDER BY id")).map((r) => String(r.id));
}

interface Pair extends AsyncDisposable {
  server: MemoryCloud;
  a: TempStore;
  b: TempStore;
  ca: MemoryCloudClient;
  cb: MemoryCloudClient;
}

/** Two devices on one memory cloud; A's handle has a replica file when asked. */
async function pair(replica: boolean): Promise<Pair> {
  const server = new MemoryCloud({ migrated: true });
  const a = await openTempStore();
  const b = await openTempStore();
  const ca = server.client(replica ? { replicaPath: join(a.dir, "replica.db") } : {});
  const cb = server.client();
  return {
    server,
    a,
    b,
    ca,
    cb,
    [Symbol.asyncDispose]: async () => {
      await a.close();
      await b.close();
    },
  };
}

for (const replica of [false, true]) {
  const how = replica ? "replica file" : "change feed";

  Deno.test(`compareWithCloud walks both sides in keyset pages (${how})`, async () => {
    await using p = await pair(replica);
    const made: Row[] = [];
    for (let i = 0; i < 10; i++) made.push(await capture(p.a.store, `item ${i}`));
    await syncOnce(p.a.store, p.ca);
    await syncOnce(p.b.store, p.cb);
    // A: two edits and two new rows whose outbox entries are lost.
    await edit(p.a.store, String(made[2].id), "edited on A");
    await edit(p.a.store, String(made[9].id), "edited on A");
    const fresh = [await capture(p.a.store, "new 1"), await capture(p.a.store, "new 2")];
    await p.a.store.write((w) => w.tx.execute("DELETE FROM _sync_outbox"));
    // B: one edit and one new row the cloud has and A lacks.
    await edit(p.b.store, String(made[5].id), "edited on B");
    await capture(p.b.store, "from B");
    await syncOnce(p.b.store, p.cb);

    await p.ca.snapshot();
    // Page size 3: every page boundary falls somewhere different on each side.
    const found = await compareWithCloud(p.a.store, p.ca, 3);
    assert.deepEqual(found, { requeued: 4, ahead: 2, equal: 7 });
    // Run again: every row is queued already, so nothing is requeued twice.
    assert.equal((await compareWithCloud(p.a.store, p.ca, 3)).requeued, 0);
    assert.deepEqual(
      await outbox(p.a.store),
      [made[2].id, made[9].id, ...fresh.map((r) => r.id)].map(String).sort(),
    );
  });

  Deno.test(`repairStore converges after outbox entries are lost (${how})`, async () => {
    await using p = await pair(replica);
    const x = await capture(p.b.store, "by B");
    await syncOnce(p.b.store, p.cb);
    await syncOnce(p.a.store, p.ca);
    // A edits B's row (a pending change on a row another device wrote, not
    // concurrent: A had merged it) and adds one; the outbox is lost.
    await edit(p.a.store, String(x.id), "edited on A");
    const y = await capture(p.a.store, "lost in the outbox");
    const z = await capture(p.a.store, "still queued");
    await p.a.store.write((w) =>
      w.tx.execute({ sql: "DELETE FROM _sync_outbox WHERE id <> ?", args: [z.id] })
    );
    const stats = await repairStore(p.a.store, p.ca);
    assert.equal(stats.conflicts, 0, "an edit made on top of a merged row is no conflict");
    assert.equal(stats.requeued, 2);
    assert.equal(stats.pushed, 3);
    assert.deepEqual(await outbox(p.a.store), []);
    assert.deepEqual(await rows(p.a.store), cloudRows(p.server));
    await syncOnce(p.b.store, p.cb);
    assert.deepEqual(await rows(p.b.store), cloudRows(p.server));
    const texts = cloudRows(p.server).map((r) => r.split(" ").slice(2, -1).join(" ")).sort();
    assert.deepEqual(texts, ["edited on A", "lost in the outbox", "still queued"]);
    assert.ok(y.id);
    // Run again: nothing left to do.
    const again = await repairStore(p.a.store, p.ca);
    assert.deepEqual([again.requeued, again.pulled, again.pushed, again.equal], [0, 0, 0, 3]);
  });
}

Deno.test("a watermark past rows never merged: only the full pull finds them", async () => {
  await using p = await pair(true);
  await capture(p.a.store, "seen");
  await syncOnce(p.a.store, p.ca);
  const missed = await capture(p.b.store, "never merged on A");
  await syncOnce(p.b.store, p.cb);
  await p.a.store.write((w) =>
    w.tx.execute({
      sql: "UPDATE _sync_state SET value = ? WHERE key = 'watermark'",
      args: [String(p.server.seq)],
    })
  );
  // An ordinary sync trusts the watermark and misses the row.
  assert.equal((await syncOnce(p.a.store, p.ca)).pulled, 0);
  const stats = await repairStore(p.a.store, p.ca);
  assert.deepEqual([stats.requeued, stats.pulled, stats.equal], [0, 1, 1]);
  const row = await p.a.store.one("SELECT text FROM inbox_items WHERE id = ?", [missed.id]);
  assert.equal(row?.text, "never merged on A");
  assert.deepEqual(await rows(p.a.store), cloudRows(p.server));
});

Deno.test("a tombstone wins by version in repair; nothing is deleted outright", async () => {
  await using p = await pair(true);
  const x = await capture(p.a.store, "to delete");
  await syncOnce(p.a.store, p.ca);
  await syncOnce(p.b.store, p.cb);
  await p.b.store.write((w) => w.tombstone(inbox, String(x.id)));
  await syncOnce(p.b.store, p.cb);
  const stats = await repairStore(p.a.store, p.ca);
  assert.equal(stats.pulled, 1);
  const row = await p.a.store.one("SELECT deleted_at FROM inbox_items WHERE id = ?", [x.id]);
  assert.ok(row?.deleted_at, "tombstoned, and the row is still there");
});

Deno.test("clock offset: the server's time against the request's midpoint", async () => {
  const clock = { now: () => new Date(1_000_000 + 7_200_000) };
  const { offsetMs: offset } = await measureClockOffset({
    readDevices: () => {
      const midpoint = performance.now() + 10; // the server read its clock halfway
      return new Promise((r) =>
        setTimeout(() => r({ serverTimeMs: 1_000_000, devices: [], midpoint }), 20)
      );
    },
  }, clock);
  // 2 h ahead; this (frozen) clock is read after the answer, which the midpoint corrects.
  assert.ok(Math.abs(offset - 7_200_000 + 10) < 200, String(offset));
  assert.equal(describeOffset(offset), "2 h ahead");
  assert.equal(describeOffset(-90_500), "2 min behind");
  assert.equal(describeOffset(400), "in step");
  assert.equal(describeDuration(30 * 3_600_000), "1 d 6 h");
  const device = (ms: number) => ({
    id: "d",
    name: "n",
    jdo_version: "0",
    first_sync_at: "",
    last_sync_at: "",
    clock_offset_ms: ms,
  });
  assert.deepEqual(
    skewedDevices([device(86_400_001), device(-86_400_001), device(86_400_000)]).map((d) =>
      d.clock_offset_ms
    ),
    [86_400_001, -86_400_001],
  );
});

Deno.test("a device rewrites its directory row only when it changed or is 15 min old", () => {
  const at = Date.parse("2026-12-01T10:00:00Z");
  const row = {
    id: "d",
    name: "laptop",
    jdo_version: "0.1.0",
    first_sync_at: "2026-11-01T00:00:00.000Z",
    last_sync_at: "2026-12-01T10:00:00.000Z",
    clock_offset_ms: 200,
  };
  const entry = { id: "d", name: "laptop", jdoVersion: "0.1.0", clockOffsetMs: 900 };
  assert.equal(rowIsStale(row, entry, at + 60_000), false, "jitter, a minute later");
  assert.equal(rowIsStale(undefined, entry, at), true, "first sync");
  assert.equal(rowIsStale(row, { ...entry, name: "work" }, at), true, "renamed");
  assert.equal(rowIsStale(row, { ...entry, jdoVersion: "0.2.0" }, at), true, "upgraded");
  assert.equal(rowIsStale(row, { ...entry, clockOffsetMs: 5_000 }, at), true, "clock moved");
  assert.equal(rowIsStale(row, entry, at + DEVICE_ROW_REFRESH_MS), true, "15 min old");
});
