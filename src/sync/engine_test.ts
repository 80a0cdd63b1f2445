/**
 * engine.ts: one sync is pull then push; while the cloud refuses rows that
 * another device changed meanwhile, it goes round again, at most three times.
 */
import assert from "node:assert/strict";
import {
  capture,
  editInbox,
  inboxRow,
  openPair,
  outboxKeys,
  type Pair,
  watermark,
} from "../../tests/helpers/sync_pair.ts";
import { MemoryCloudClient } from "../../tests/helpers/memory_cloud.ts";
import type { PushResult, PushRow } from "./cloud_store.ts";
import { syncOnce } from "./engine.ts";

/** A's handle: before each of its pushes, B changes the row and syncs (a race A loses). */
class RacedClient extends MemoryCloudClient {
  pushes = 0;
  races: number;
  constructor(private p: Pair, private id: string, races: number) {
    super(p.server);
    this.races = races;
  }
  override async push(rows: PushRow[], watermark: number, deviceId: string): Promise<PushResult> {
    this.pushes++;
    if (this.races > 0) {
      this.races--;
      this.p.advance();
      const row = await inboxRow(this.p.b.store, this.id);
      await editInbox(this.p.b.store, this.id, {
        status: row?.status === "open" ? "triaged" : "open",
      });
      await syncOnce(this.p.b.store, this.p.cb);
    }
    return await super.push(rows, watermark, deviceId);
  }
}

async function racedPair(races: number) {
  const p = await openPair();
  const id = await capture(p.a.store, "shared");
  await syncOnce(p.a.store, p.ca);
  await syncOnce(p.b.store, p.cb);
  p.advance();
  await editInbox(p.a.store, id, { text: "edited on A" });
  return { p, id, ca: new RacedClient(p, id, races) };
}

Deno.test("engine: a clean sync is one pull and one push", async () => {
  await using p = await openPair();
  await capture(p.a.store, "one");
  const calls = p.server.pushCalls;
  const stats = await syncOnce(p.a.store, p.ca);
  assert.deepEqual([stats.pushed, stats.pulled, stats.conflicts.length], [1, 0, 0]);
  assert.equal(p.server.pushCalls - calls, 1);
  await capture(p.b.store, "two");
  const b = await syncOnce(p.b.store, p.cb);
  assert.deepEqual([b.pushed, b.pulled], [1, 1]);
});

Deno.test("engine: a refused row goes round again and lands", async () => {
  const { p, id, ca } = await racedPair(1);
  await using _ = p;
  const stats = await syncOnce(p.a.store, ca);
  assert.equal(ca.pushes, 2, "refused once, pushed again after pulling B's change");
  assert.equal(stats.pushed, 1);
  assert.equal(stats.pulled, 1, "B's change, pulled in the second round");
  assert.deepEqual(await outboxKeys(p.a.store), []);
  const cloudRow = p.server.rows("inbox_items").find((r) => r.id === id)!;
  assert.deepEqual([cloudRow.text, cloudRow.status], ["edited on A", "triaged"]);
  assert.equal(await watermark(p.a.store), p.server.seq);
});

Deno.test("engine: rounds stop at the limit while the cloud keeps refusing", async () => {
  const { p, id, ca } = await racedPair(10);
  await using _ = p;
  const stats = await syncOnce(p.a.store, ca);
  assert.equal(ca.pushes, 3, "three rounds, then the sync ends");
  assert.equal(stats.pushed, 0);
  assert.deepEqual(await outboxKeys(p.a.store), [`inbox:${id}`], "still queued for the next sync");
  ca.races = 0;
  const next = await syncOnce(p.a.store, ca);
  assert.equal(next.pushed, 1);
  assert.deepEqual(await outboxKeys(p.a.store), []);
});
