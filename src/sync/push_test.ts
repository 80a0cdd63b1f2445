/**
 * push.ts: the outbox goes up in chunks; accepted rows leave it, refused ones
 * stay; many queued rows of a kind go SQLite-encoded; the watermark moves
 * past our own pushes only when no other device wrote in between.
 */
import assert from "node:assert/strict";
import type { Row } from "../db/schema.ts";
import {
  capture,
  editInbox,
  inbox,
  openPair,
  outboxKeys,
  watermark,
} from "../../tests/helpers/sync_pair.ts";
import type { MemoryCloudClient } from "../../tests/helpers/memory_cloud.ts";
import type { CloudStore, EncodedChunk } from "./cloud_store.ts";
import { syncOnce } from "./engine.ts";
import { push, PUSH_CHUNK } from "./push.ts";

/**
 * A memory cloud handle that also takes SQLite-encoded chunks (as
 * LibsqlCloud does), counting which way each chunk came.
 */
function encodingCloud(inner: MemoryCloudClient) {
  const calls = { rows: 0, encoded: 0 };
  const cloud: CloudStore = {
    info: () => inner.info(),
    migrate: () => inner.migrate(),
    assertWritable: () => inner.assertWritable(),
    snapshot: () => inner.snapshot(),
    changes: (...args) => inner.changes(...args),
    versions: (...args) => inner.versions(...args),
    close: () => inner.close(),
    push: (rows, wm, device) => {
      calls.rows++;
      return inner.push(rows, wm, device);
    },
    pushEncoded: async (chunk: EncodedChunk, wm, device) => {
      calls.encoded++;
      const values: unknown[][] = JSON.parse(chunk.rowsJson);
      const rows = values.map((v) =>
        Object.fromEntries(chunk.columns.map((c, i) => [c, v[i]])) as Row
      );
      const result = await inner.push(rows.map((row) => ({ table: chunk.table, row })), wm, device);
      return {
        applied: new Set(rows.filter((_, i) => result.applied[i]).map((r) => String(r.id))),
        seq: result.seq,
      };
    },
  };
  return { cloud, calls };
}

Deno.test("push: accepted rows leave the outbox and the watermark follows", async () => {
  await using p = await openPair();
  const ids = [await capture(p.a.store, "one"), await capture(p.a.store, "two")];
  const progress: [number, number][] = [];
  const result = await push(p.a.store, p.ca, {
    onPushProgress: (done, total) => progress.push([done, total]),
  });
  assert.deepEqual(result, { pushed: 2, rejected: 0 });
  assert.deepEqual(await outboxKeys(p.a.store), []);
  assert.deepEqual(p.server.rows("inbox_items").map((r) => r.id), [...ids].sort());
  assert.deepEqual(progress, [[2, 2]]);
  assert.equal(await watermark(p.a.store), p.server.seq, "only our push in between");
});

Deno.test("push: a row changed in the cloud by another device meanwhile stays queued", async () => {
  await using p = await openPair();
  const id = await capture(p.a.store, "shared");
  await syncOnce(p.a.store, p.ca);
  await syncOnce(p.b.store, p.cb);
  p.advance();
  await editInbox(p.b.store, id, { status: "triaged" });
  await syncOnce(p.b.store, p.cb);
  p.advance();
  // A has not pulled B's change: the cloud refuses A's newer row.
  await editInbox(p.a.store, id, { text: "edited on A" });
  const before = await watermark(p.a.store);
  const other = await capture(p.a.store, "new on A");

  const result = await push(p.a.store, p.ca, {});
  assert.deepEqual(result, { pushed: 1, rejected: 1 });
  assert.deepEqual(await outboxKeys(p.a.store), [`inbox:${id}`], "the refused row stays queued");
  const cloudRow = p.server.rows("inbox_items").find((r) => r.id === id)!;
  assert.deepEqual([cloudRow.text, cloudRow.status], ["shared", "triaged"]);
  assert.ok(p.server.rows("inbox_items").some((r) => r.id === other));
  assert.equal(await watermark(p.a.store), before, "a refused row keeps the watermark");
});

Deno.test("push: the watermark stays when another device pushed in between", async () => {
  await using p = await openPair();
  await capture(p.a.store, "first");
  await syncOnce(p.a.store, p.ca);
  const mark = await watermark(p.a.store);
  await capture(p.b.store, "from B, not pulled by A");
  await syncOnce(p.b.store, p.cb);
  await capture(p.a.store, "second");

  const result = await push(p.a.store, p.ca, {});
  assert.deepEqual(result, { pushed: 1, rejected: 0 });
  assert.deepEqual(await outboxKeys(p.a.store), []);
  assert.equal(await watermark(p.a.store), mark, "B's row lies between: it must still be pulled");
  // The next sync pulls B's row.
  await syncOnce(p.a.store, p.ca);
  const texts = (await p.a.store.query("SELECT text FROM inbox_items ORDER BY text"))
    .map((r) => r.text);
  assert.deepEqual(texts, ["first", "from B, not pulled by A", "second"]);
  assert.equal(await watermark(p.a.store), p.server.seq);
});

Deno.test("push: chunks of contiguous sequences move the watermark past them all", async () => {
  await using p = await openPair();
  await p.a.store.write((w) =>
    w.insertMany(
      inbox,
      Array.from({ length: PUSH_CHUNK + 1 }, (_, i) => ({ text: `item ${i}`, status: "open" })),
    )
  );
  const calls = p.server.pushCalls;
  const result = await push(p.a.store, p.ca, {});
  assert.deepEqual(result, { pushed: PUSH_CHUNK + 1, rejected: 0 });
  assert.equal(p.server.pushCalls - calls, 2, "two chunks");
  assert.equal(await watermark(p.a.store), p.server.seq);
  assert.deepEqual(await outboxKeys(p.a.store), []);
});

Deno.test("push: from 100 queued rows of a kind, chunks go SQLite-encoded", async () => {
  for (const [count, way] of [[99, "rows"], [100, "encoded"]] as const) {
    await using p = await openPair();
    const { cloud, calls } = encodingCloud(p.ca);
    await p.a.store.write((w) =>
      w.insertMany(
        inbox,
        Array.from({ length: count }, (_, i) => ({ text: `item ${i}`, status: "open" })),
      )
    );
    const result = await push(p.a.store, cloud, {});
    assert.deepEqual(result, { pushed: count, rejected: 0 });
    assert.deepEqual(calls, way === "rows" ? { rows: 1, encoded: 0 } : { rows: 0, encoded: 1 });
    assert.deepEqual(await outboxKeys(p.a.store), []);
    const local = await p.a.store.query("SELECT * FROM inbox_items ORDER BY id");
    assert.deepEqual(p.server.rows("inbox_items"), local, `${way}: the cloud holds the same rows`);
  }
});

Deno.test("push: an encoded chunk's refused rows stay queued", async () => {
  await using p = await openPair();
  const rows = await p.a.store.write((w) =>
    w.insertMany(
      inbox,
      Array.from({ length: 120 }, (_, i) => ({ text: `item ${i}`, status: "open" })),
    )
  );
  await syncOnce(p.a.store, p.ca);
  await syncOnce(p.b.store, p.cb);
  p.advance();
  const taken = String(rows[7].id);
  await editInbox(p.b.store, taken, { status: "triaged" });
  await syncOnce(p.b.store, p.cb);
  p.advance();
  await p.a.store.write(async (w) => {
    for (const r of rows) await w.update(inbox, String(r.id), { text: `${r.text} edited` });
  });
  const { cloud, calls } = encodingCloud(p.ca);
  const result = await push(p.a.store, cloud, {});
  assert.equal(calls.encoded, 1);
  assert.deepEqual(result, { pushed: 119, rejected: 1 });
  assert.deepEqual(await outboxKeys(p.a.store), [`inbox:${taken}`]);
});
