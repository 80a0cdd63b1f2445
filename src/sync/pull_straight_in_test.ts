/**
 * A first download from an encrypted cloud takes the rows the replica's sync
 * has brought so far while that sync still runs. The cloud here is a script
 * of what the replica holds at each read (the real replica on sqld is in
 * tests/e2e/sync_encryption_test.ts and scripts/bench_e2e.ts): rows arrive
 * in rounds, one comes again changed at a higher sequence, and only a round
 * begun after the sync ended finishes the download.
 */
import assert from "node:assert/strict";
import { openTempStore } from "../../tests/helpers/temp_store.ts";
import { JdoError } from "../errors.ts";
import type { CloudStore, Cursor, OpenedPage } from "./cloud_store.ts";
import { payloadText } from "./e2e_payload.ts";
import { pull } from "./pull.ts";
import { readSyncState } from "./state.ts";

const V = (ms: number) => `${String(ms).padStart(16, "0")}-0000-devA`;

/** An opened inbox row as openedRows() pages it: [id, version, _fv, payload (e2e_payload.ts)]. */
function item(id: string, version: string, text: string, seq: number) {
  const at = "2026-12-01T09:00:00.000Z";
  const columns = { created_at: at, updated_at: at, deleted_at: null, text, status: "open" };
  return {
    seq,
    id,
    json: [
      id,
      version,
      null,
      JSON.parse(payloadText("inbox_items", columns, Object.keys(columns))),
    ],
  };
}

type Item = ReturnType<typeof item> & { otherKey?: boolean };

/** A row sealed under a key this device does not hold (one a rotation replaced since). */
const underOldKey = (row: Item): Item => ({ ...row, otherKey: true });

/**
 * What the replica holds at each read of the inbox while the sync runs (one
 * stage a read); the sync ends (snapshot() resolves, or fails) once the
 * last stage has been read, or after 100 ms.
 */
function scriptedCloud(
  stages: Item[][],
  end: { upTo: number } | { error: Error },
  /** Rows the cloud's count says it holds beyond those it serves (a broken read). */
  unserved = 0,
  /** What modeKept() answers once the sync has ended (false: encryption switched meanwhile). */
  modeKept = true,
) {
  let stage = -1;
  let finish!: () => void;
  const ended = new Promise<void>((resolve) => finish = resolve);
  const reads: string[] = [];
  const cloud = {
    opensRows: () => true,
    snapshot: async () => {
      // The sync ends once its last stage was read, or on its own a moment later.
      const timer = setTimeout(finish, 100);
      await ended;
      clearTimeout(timer);
      stage = stages.length - 1;
      if ("error" in end) throw end.error;
      return end.upTo;
    },
    async *openedRows(table: string, after: Cursor, upTo?: number): AsyncGenerator<OpenedPage> {
      if (table !== "inbox_items") return;
      if (upTo === undefined) stage = Math.min(stage + 1, stages.length - 1);
      reads.push(upTo === undefined ? `so far (stage ${stage})` : `up to ${upTo}`);
      if (upTo === undefined && stage === stages.length - 1) finish();
      const held = stages[stage]
        .filter((r) => r.seq > after.seq || (r.seq === after.seq && r.id > after.id))
        .filter((r) => upTo === undefined || r.seq <= upTo)
        .sort((a, b) => a.seq - b.seq || (a.id < b.id ? -1 : 1));
      if (held.length === 0) return;
      if (held.some((r) => r.otherKey)) throw new JdoError("SYNC_KEY_WRONG", "another key");
      const last = held[held.length - 1];
      yield {
        rowsJson: JSON.stringify(held.map((r) => r.json)),
        last: { seq: last.seq, id: last.id },
      };
    },
    openedRowCount: (table: string, upTo: number) =>
      Promise.resolve(
        table === "inbox_items"
          ? stages[stages.length - 1].filter((r) => r.seq <= upTo).length + unserved
          : 0,
      ),
    modeKept: () => Promise.resolve(modeKept),
  };
  return { cloud: cloud as unknown as CloudStore, reads };
}

Deno.test("straight-in download: rows come in while the sync runs; a row changed meanwhile ends at its newer version", async () => {
  await using t = await openTempStore();
  const a1 = item("a", V(1000), "first text", 1);
  const b1 = item("b", V(1000), "b text", 1);
  const c2 = item("c", V(2000), "c text", 2);
  const a3 = item("a", V(3000), "changed text", 3);
  const { cloud, reads } = scriptedCloud(
    [[a1, b1], [b1, c2], [b1, c2, a3]], // a moves from sequence 1 to 3
    { upTo: 3 },
  );
  const { pulled } = await pull(t.store, cloud, {});
  assert.ok(reads.includes("so far (stage 1)") && reads.includes("up to 3"), reads.join(", "));
  assert.equal(pulled, 3, "each row counted once, whatever it took to arrive");
  const rows = (await t.client.execute("SELECT id, version, text FROM inbox_items ORDER BY id"))
    .rows.map((r) => [r.id, r.version, r.text]);
  assert.deepEqual(rows, [
    ["a", V(3000), "changed text"],
    ["b", V(1000), "b text"],
    ["c", V(2000), "c text"],
  ]);
  assert.equal((await readSyncState(t.store)).watermark, 3);
});

Deno.test("straight-in download: a sync that fails midway leaves nothing and no watermark", async () => {
  await using t = await openTempStore();
  const { cloud } = scriptedCloud(
    [[item("a", V(1000), "a", 1)], [item("a", V(1000), "a", 1), item("b", V(1000), "b", 2)]],
    { error: new Error("replication broke") },
  );
  await assert.rejects(pull(t.store, cloud, {}), /replication broke/);
  const held = await t.client.execute("SELECT count(*) AS n FROM inbox_items");
  assert.equal(Number(held.rows[0].n), 0, "the rows inserted before the failure were rolled back");
  assert.equal((await readSyncState(t.store)).watermark, 0);
});

Deno.test("straight-in download: what the sync showed on the way but the cloud no longer holds is not kept", async (t) => {
  const a1 = item("a", V(1000), "a text", 1);
  const b2 = item("b", V(2000), "b text", 2);
  const cases: [string, Item[][], string[]][] = [
    // Rotated: rows under the old key, then the same rows sealed under the new one.
    ["a key rotated", [[underOldKey(a1)], [underOldKey(a1)], [{ ...a1, seq: 3 }, {
      ...b2,
      seq: 4,
    }]], [
      "a",
      "b",
    ]],
    // A row the cloud held at sequence 1 and no longer does.
    ["a row deleted", [[a1], [a1, b2], [b2]], ["b"]],
  ];
  for (const [name, stages, ids] of cases) {
    await t.step(name, async () => {
      await using store = await openTempStore();
      const { cloud, reads } = scriptedCloud(stages, { upTo: 4 });
      const { pulled } = await pull(store.store, cloud, {});
      assert.ok(reads.at(-1) === "up to 4", reads.join(", "));
      const held = (await store.client.execute("SELECT id FROM inbox_items ORDER BY id")).rows
        .map((r) => r.id);
      assert.deepEqual(held, ids);
      assert.equal(pulled, ids.length);
    });
  }
});

Deno.test("straight-in download: fewer rows read than the synced replica holds is an error, not a loss", async () => {
  await using t = await openTempStore();
  const a1 = item("a", V(1000), "a", 1);
  const { cloud, reads } = scriptedCloud([[a1], [a1]], { upTo: 1 }, 1);
  await assert.rejects(
    pull(t.store, cloud, {}),
    (error) =>
      error instanceof JdoError && error.code === "SYNC_FAILED" &&
      /read 1 inbox_items rows where the cloud's copy holds 2/.test(error.message),
  );
  // The last round while syncing, then the start-over from the synced replica.
  assert.equal(reads.filter((r) => r === "up to 1").length, 2, reads.join(", "));
  const held = await t.client.execute("SELECT count(*) AS n FROM inbox_items");
  assert.equal(Number(held.rows[0].n), 0);
  assert.equal((await readSyncState(t.store)).watermark, 0);
});

Deno.test("straight-in download: a sync that fails at once fails the pull, with nothing saved", async () => {
  await using t = await openTempStore();
  const cloud = {
    opensRows: () => true,
    snapshot: () => Promise.reject(new Error("replica refused")),
    openedRows: async function* () {},
    openedRowCount: () => Promise.resolve(0),
  } as unknown as CloudStore;
  await assert.rejects(pull(t.store, cloud, {}), /replica refused/);
  assert.equal((await readSyncState(t.store)).watermark, 0);
});

Deno.test("straight-in download: encryption switched off by another device meanwhile fails the pull, with nothing saved", async () => {
  await using t = await openTempStore();
  // The sealed rows read on the way were all the sealed form held; the
  // final snapshot is plain (its rows are in the plain tables, unread here).
  const a1 = item("a", V(1000), "a", 1);
  const { cloud } = scriptedCloud([[a1], []], { upTo: 5 }, 0, false);
  await assert.rejects(
    pull(t.store, cloud, {}),
    (error) =>
      error instanceof JdoError && error.code === "SYNC_FAILED" &&
      /encryption was switched/.test(error.message),
  );
  const held = await t.client.execute("SELECT count(*) AS n FROM inbox_items");
  assert.equal(Number(held.rows[0].n), 0);
  assert.equal((await readSyncState(t.store)).watermark, 0, "the watermark passed unread rows");
});
