/**
 * The libSQL cloud store and the sync engine against a real sqld: the
 * conditional upsert that guards pushes, the change feed's cursor, and
 * working databases converging through it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSqld } from "../helpers/sqld.ts";
import { startFaultProxy } from "../helpers/fault_proxy.ts";
import { openTempStore, type TempStore } from "../helpers/temp_store.ts";
import { LibsqlCloud } from "../../src/sync/libsql_cloud.ts";
import { syncOnce } from "../../src/sync/engine.ts";
import { resetForCloud } from "../../src/sync/outbox.ts";
import { pull } from "../../src/sync/pull.ts";
import { push } from "../../src/sync/push.ts";
import { ENTITIES, type Row } from "../../src/db/schema.ts";
import { formatVersion } from "../../src/db/hlc.ts";
import { readSyncState } from "../../src/sync/state.ts";

// The embedded replica's native sync() keeps no JS resources open, but the
// remote client's fetch pool does between requests.
const opts = { sanitizeResources: false, sanitizeOps: false };

const inbox = ENTITIES.find((e) => e.name === "inbox")!;

function inboxRow(id: string, text: string, ms: number, device: string): Row {
  const at = new Date(ms).toISOString();
  return {
    id,
    text,
    status: "open",
    created_at: at,
    updated_at: at,
    version: formatVersion({ ms, counter: 0 }, device),
    deleted_at: null,
  };
}

async function cloudFor(url: string, token: string, replicaDir?: string) {
  const cloud = new LibsqlCloud({ url, token, replicaDir, requestTimeoutMs: 10_000 });
  await cloud.migrate();
  return cloud;
}

Deno.test({
  ...opts,
  name: "libsql cloud: push applies newer versions only, and guards rows others changed",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    const dir = await Deno.makeTempDir({ prefix: "jdo-replica-" });
    const cloud = await cloudFor(server.url, token, join(dir, "cloud"));
    try {
      const t0 = Date.UTC(2026, 10, 1);
      const first = await cloud.push(
        [{ table: "inbox_items", row: inboxRow("i1", "v1 by aaaa", t0, "aaaaaaaaaaaa") }],
        0,
        "aaaaaaaaaaaa",
      );
      assert.deepEqual(first.applied, [true]);
      const seq1 = first.seq;
      assert.ok(seq1 >= 1);

      // An older version never replaces a newer one.
      const older = await cloud.push(
        [{ table: "inbox_items", row: inboxRow("i1", "older", t0 - 1, "bbbbbbbbbbbb") }],
        seq1,
        "bbbbbbbbbbbb",
      );
      assert.deepEqual(older.applied, [false]);

      // A newer version from a device that has not seen the current row
      // (its watermark is below the row's _seq) is refused: it must pull first.
      const blind = await cloud.push(
        [{ table: "inbox_items", row: inboxRow("i1", "blind", t0 + 10, "bbbbbbbbbbbb") }],
        seq1 - 1,
        "bbbbbbbbbbbb",
      );
      assert.deepEqual(blind.applied, [false]);
      // ...unless the current row is its own earlier write.
      const own = await cloud.push(
        [{ table: "inbox_items", row: inboxRow("i1", "v2 by aaaa", t0 + 20, "aaaaaaaaaaaa") }],
        0,
        "aaaaaaaaaaaa",
      );
      assert.deepEqual(own.applied, [true]);
      // A device that has seen it may replace it with a newer version.
      const informed = await cloud.push(
        [{ table: "inbox_items", row: inboxRow("i1", "v3 by bbbb", t0 + 30, "bbbbbbbbbbbb") }],
        own.seq,
        "bbbbbbbbbbbb",
      );
      assert.deepEqual(informed.applied, [true]);
      // Each push took the next sequence number (rejected pushes included).
      assert.deepEqual([older.seq, blind.seq, own.seq, informed.seq], [
        seq1 + 1,
        seq1 + 2,
        seq1 + 3,
        seq1 + 4,
      ]);

      const upTo = await cloud.snapshot();
      assert.equal(upTo, informed.seq);
      const rows = await cloud.changes("inbox_items", { seq: 0, id: "" }, upTo, 10);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].text, "v3 by bbbb");
      assert.equal(Number(rows[0]._seq), informed.seq);
    } finally {
      await cloud.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  ...opts,
  name: "libsql cloud: the change feed pages through many rows of one push",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    const dir = await Deno.makeTempDir({ prefix: "jdo-replica-" });
    const cloud = await cloudFor(server.url, token, join(dir, "cloud"));
    try {
      const t0 = Date.UTC(2026, 10, 2);
      const ids = Array.from({ length: 25 }, (_, i) => `row-${String(i).padStart(2, "0")}`);
      const pushed = await cloud.push(
        ids.map((id, i) => ({
          table: "inbox_items",
          row: inboxRow(id, `text ${i}`, t0 + i, "cccccccccccc"),
        })),
        0,
        "cccccccccccc",
      );
      assert.ok(pushed.applied.every(Boolean));
      const later = await cloud.push(
        [{ table: "inbox_items", row: inboxRow("row-00", "changed", t0 + 100, "cccccccccccc") }],
        pushed.seq,
        "cccccccccccc",
      );
      const upTo = await cloud.snapshot();
      assert.equal(upTo, later.seq);
      const seen: string[] = [];
      let cursor = { seq: 0, id: "" };
      for (let pages = 0; pages < 20; pages++) {
        const page = await cloud.changes("inbox_items", cursor, upTo, 7);
        if (page.length === 0) break;
        seen.push(...page.map((r) => String(r.id)));
        const last = page[page.length - 1];
        cursor = { seq: Number(last._seq), id: String(last.id) };
      }
      // Every row exactly once; row-00 comes last, with its newer _seq.
      assert.equal(seen.length, 25);
      assert.deepEqual([...seen].sort(), ids);
      assert.equal(seen[seen.length - 1], "row-00");
      // A cursor at (seq, "~") skips everything at that seq.
      const after = await cloud.changes("inbox_items", { seq: pushed.seq, id: "~" }, upTo, 100);
      assert.deepEqual(after.map((r) => r.id), ["row-00"]);
    } finally {
      await cloud.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

interface Node {
  db: TempStore;
  cloud: LibsqlCloud;
}

async function node(url: string, token: string): Promise<Node> {
  const db = await openTempStore();
  const cloud = await cloudFor(url, token, join(db.dir, "cloud"));
  const info = await cloud.info();
  await resetForCloud(db.store, info.cloudId!);
  return { db, cloud };
}

async function liveTexts(n: Node): Promise<string[]> {
  const rows = await n.db.store.query(
    "SELECT id, text FROM inbox_items WHERE deleted_at IS NULL ORDER BY id",
  );
  return rows.map((r) => `${r.id}=${r.text}`);
}

async function convergeRun(url: string, token: string, seed: number): Promise<number> {
  const nodes = [await node(url, token), await node(url, token), await node(url, token)];
  let conflicts = 0;
  try {
    // Deterministic pseudo-random schedule (LCG) of writes and partial syncs.
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * n); // high bits: the low ones cycle
    };
    const ids: string[] = [];
    for (let step = 0; step < 60; step++) {
      const n = nodes[rand(3)];
      const action = rand(6);
      if (action === 0 || ids.length === 0) {
        const row = await n.db.store.write((w) =>
          w.insert(inbox, { text: `new ${step}`, status: "open" })
        );
        ids.push(String(row.id));
      } else if (action <= 2) {
        const id = ids[rand(ids.length)];
        await n.db.store.write(async (w) => {
          const live = await w.one(
            "SELECT id FROM inbox_items WHERE id = ? AND deleted_at IS NULL",
            [id],
          );
          if (live) await w.update(inbox, id, { text: `edit ${step}` });
        });
      } else if (action === 3) {
        const id = ids[rand(ids.length)];
        await n.db.store.write((w) => w.tombstone(inbox, id));
      } else if (action === 4) {
        conflicts += (await pull(n.db.store, n.cloud, {})).conflicts.length;
      } else {
        await push(n.db.store, n.cloud, {});
      }
    }
    // Two full rounds bring everyone to the same state.
    for (let round = 0; round < 2; round++) {
      for (const n of nodes) conflicts += (await syncOnce(n.db.store, n.cloud)).conflicts.length;
    }
    const states = await Promise.all(nodes.map(liveTexts));
    assert.deepEqual(states[1], states[0], `seed ${seed}`);
    assert.deepEqual(states[2], states[0], `seed ${seed}`);
    for (const n of nodes) {
      assert.equal((await readSyncState(n.db.store)).pendingChanges, 0, `seed ${seed}`);
    }
    // Same versions and tombstones everywhere, not just the same text; and
    // the conflict log is the same on every node.
    const snapshot = (n: Node) =>
      Promise.all([
        n.db.store.query("SELECT id, version, deleted_at FROM inbox_items ORDER BY id"),
        n.db.store.query("SELECT id FROM _sync_conflicts ORDER BY id"),
      ]);
    const all = await Promise.all(nodes.map(snapshot));
    assert.deepEqual(all[1], all[0], `seed ${seed}`);
    assert.deepEqual(all[2], all[0], `seed ${seed}`);
    return conflicts;
  } finally {
    for (const n of nodes) {
      await n.cloud.close();
      await n.db.close();
    }
  }
}

Deno.test({
  ...opts,
  name: "sync engine: three databases converge through sqld, interleaved pulls and pushes",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    let conflicts = 0;
    // Each seed on a fresh schema-less cloud would need a new server; one
    // server is fine since every node resets to the cloud's id and rows differ.
    for (const seed of [1, 7, 42, 12345, 99991]) {
      conflicts += await convergeRun(server.url, token, seed);
    }
    assert.ok(conflicts > 0, "the schedules never produced a concurrent edit");
  },
});

Deno.test({
  ...opts,
  name:
    "libsql cloud: versions() pages ids and versions in id order, from the replica once it exists",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    const dir = await Deno.makeTempDir({ prefix: "jdo-replica-" });
    const cloud = await cloudFor(server.url, token, join(dir, "cloud"));
    try {
      const t0 = Date.UTC(2026, 10, 1);
      const rows = ["i5", "i1", "i4", "i2", "i3"].map((id, i) =>
        inboxRow(id, id, t0 + i, "aaaaaaaaaaaa")
      );
      await cloud.push(rows.map((row) => ({ table: "inbox_items", row })), 0, "aaaaaaaaaaaa");
      const expected = rows.map((r) => ({
        id: String(r.id),
        version: String(r.version),
        fields: null,
      }))
        .sort((a, b) => a.id < b.id ? -1 : 1);
      // Before any snapshot: straight from the server.
      assert.deepEqual(await cloud.versions("inbox_items", "", 2), expected.slice(0, 2));
      await cloud.snapshot();
      const pages = [];
      for (let after = "";;) {
        const page = await cloud.versions("inbox_items", after, 2);
        pages.push(page.map((r) => r.id));
        if (page.length < 2) break;
        after = page[page.length - 1].id;
      }
      assert.deepEqual(pages, [["i1", "i2"], ["i3", "i4"], ["i5"]]);
      assert.deepEqual(await cloud.versions("inbox_items", "i2", 10), expected.slice(2));
      // The replica answers as of its snapshot: a later push shows after the next one.
      await cloud.push(
        [{ table: "inbox_items", row: inboxRow("i0", "late", t0 + 9, "aaaaaaaaaaaa") }],
        0,
        "aaaaaaaaaaaa",
      );
      assert.equal((await cloud.versions("inbox_items", "", 10)).length, 5);
      await cloud.snapshot();
      assert.equal((await cloud.versions("inbox_items", "", 10))[0].id, "i0");
    } finally {
      await cloud.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  ...opts,
  name:
    "libsql cloud: the first request after the network dropped the idle connections reconnects instead of failing",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    await using proxy = await startFaultProxy(server.port);
    const cloud = await cloudFor(`http://127.0.0.1:${proxy.port}`, await server.token("rw"));
    for (let round = 0; round < 5; round++) {
      const before = await cloud.info(); // leaves a kept-alive connection in the pool
      // The network drops every open connection (a laptop's sleep, a new
      // Wi-Fi): the pooled one is dead but looks idle.
      proxy.cutAll();
      assert.deepEqual(await cloud.info(), before, `round ${round}`);
    }
  },
});
