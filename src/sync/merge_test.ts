/**
 * merge.ts: a page of the cloud's rows meets the working database. Per field
 * group the greater version wins; a group edited here and changed there is a
 * conflict whose losing value goes to the conflict log; a delete beats a
 * concurrent edit in both directions; the outbox learns what the cloud has.
 */
import assert from "node:assert/strict";
import type { Row } from "../db/schema.ts";
import type { Store } from "../db/store.ts";
import {
  capture,
  conflictRows,
  deleteInbox,
  editInbox,
  inboxRow,
  openPair,
  outboxKeys,
  type Pair,
} from "../../tests/helpers/sync_pair.ts";
import type { ConflictRecord } from "./conflict_log.ts";
import { syncOnce } from "./engine.ts";
import { mergePage } from "./merge.ts";
import { push } from "./push.ts";
import { SYNCED } from "./synced.ts";

const INBOX = SYNCED.find((t) => t.table === "inbox_items")!;

/** Merges the cloud's current inbox rows into `store` as one page. */
async function mergeCloudPage(
  store: Store,
  p: Pair,
): Promise<{ conflicts: ConflictRecord[]; applied: number }> {
  const conflicts: ConflictRecord[] = [];
  const page = p.server.rowsWithSeq("inbox_items");
  const applied = await store.write(
    (w) => mergePage(w, INBOX, page, conflicts, [], { see: () => {} }),
    { foreignKeys: false },
  );
  return { conflicts, applied };
}

/** One row both devices have synced; the clock then moves on. */
async function shared(p: Pair, text = "shared"): Promise<string> {
  const id = await capture(p.a.store, text);
  await syncOnce(p.a.store, p.ca);
  await syncOnce(p.b.store, p.cb);
  p.advance();
  return id;
}

function parsed(row: Row, column: string): unknown {
  return JSON.parse(String(row[column]));
}

Deno.test("merge: the same field edited on both sides, the later edit there wins", async () => {
  await using p = await openPair();
  const id = await shared(p);
  await editInbox(p.a.store, id, { text: "from A" });
  p.advance();
  await editInbox(p.b.store, id, { text: "from B" });
  await syncOnce(p.b.store, p.cb);

  const { conflicts, applied } = await mergeCloudPage(p.a.store, p);
  assert.equal(applied, 1);
  assert.equal((await inboxRow(p.a.store, id))?.text, "from B");
  assert.deepEqual(conflicts.map((c) => [c.rowId, c.field, c.kind, c.winner]), [
    [id, "text", "field", "remote"],
  ]);
  const [logged] = await conflictRows(p.a.store);
  assert.deepEqual(parsed(logged, "kept_value"), { text: "from B" });
  assert.deepEqual(parsed(logged, "lost_value"), { text: "from A" });
  assert.ok(String(logged.kept_version) > String(logged.lost_version));
  // The cloud has everything the row holds now: the row leaves the outbox
  // (the conflict record itself is queued, to reach the other devices).
  assert.deepEqual(await outboxKeys(p.a.store), [`conflict:${logged.id}`]);
});

Deno.test("merge: the same field edited on both sides, the later edit here wins", async () => {
  await using p = await openPair();
  const id = await shared(p);
  await editInbox(p.b.store, id, { text: "from B" });
  await syncOnce(p.b.store, p.cb);
  p.advance();
  await editInbox(p.a.store, id, { text: "from A" });

  const { conflicts } = await mergeCloudPage(p.a.store, p);
  assert.equal((await inboxRow(p.a.store, id))?.text, "from A");
  assert.deepEqual(conflicts.map((c) => [c.field, c.kind, c.winner]), [["text", "field", "local"]]);
  const [logged] = await conflictRows(p.a.store);
  assert.deepEqual(parsed(logged, "lost_value"), { text: "from B" });
  // Our value is newer than the cloud's: still queued, now based on the remote version.
  assert.ok((await outboxKeys(p.a.store)).includes(`inbox:${id}`));
  const entry = await p.a.store.one("SELECT base FROM _sync_outbox WHERE id = ?", [id]);
  const cloudRow = p.server.rows("inbox_items")[0];
  assert.deepEqual(JSON.parse(String(entry?.base)), {
    text: JSON.parse(String(cloudRow._fv)).text,
  });
});

Deno.test("merge: the same value written on both sides is no conflict", async () => {
  await using p = await openPair();
  const id = await shared(p);
  await editInbox(p.a.store, id, { text: "agreed" });
  p.advance();
  await editInbox(p.b.store, id, { text: "agreed" });
  await syncOnce(p.b.store, p.cb);

  const { conflicts } = await mergeCloudPage(p.a.store, p);
  assert.deepEqual(conflicts, []);
  assert.deepEqual(await conflictRows(p.a.store), []);
  assert.deepEqual(
    await outboxKeys(p.a.store),
    [],
    "the cloud's version is newer: nothing to push",
  );
});

Deno.test("merge: different fields edited on both sides both survive, no conflict", async () => {
  await using p = await openPair();
  const id = await shared(p);
  await editInbox(p.a.store, id, { text: "text by A" });
  p.advance();
  await editInbox(p.b.store, id, { status: "triaged" });
  await syncOnce(p.b.store, p.cb);

  const { conflicts } = await mergeCloudPage(p.a.store, p);
  assert.deepEqual(conflicts, []);
  const row = await inboxRow(p.a.store, id);
  assert.deepEqual([row?.text, row?.status], ["text by A", "triaged"]);
  assert.deepEqual(await outboxKeys(p.a.store), [`inbox:${id}`], "our text is still to push");
});

Deno.test("merge: deleted there while edited here, the delete wins over a later edit", async () => {
  await using p = await openPair();
  const id = await shared(p);
  await deleteInbox(p.b.store, id);
  await syncOnce(p.b.store, p.cb);
  p.advance();
  await editInbox(p.a.store, id, { text: "edited after the delete" });

  const { conflicts } = await mergeCloudPage(p.a.store, p);
  const row = await inboxRow(p.a.store, id);
  assert.ok(row?.deleted_at, "the row is a tombstone here too");
  assert.deepEqual(conflicts.map((c) => [c.field, c.kind, c.winner]), [[
    "text",
    "delete",
    "remote",
  ]]);
  const [logged] = await conflictRows(p.a.store);
  assert.deepEqual(parsed(logged, "lost_value"), { text: "edited after the delete" });
});

Deno.test("merge: deleted here while edited there, the delete wins over a later edit", async () => {
  await using p = await openPair();
  const id = await shared(p);
  await deleteInbox(p.a.store, id);
  p.advance();
  await editInbox(p.b.store, id, { text: "edited after the delete" });
  await syncOnce(p.b.store, p.cb);

  const { conflicts } = await mergeCloudPage(p.a.store, p);
  const row = await inboxRow(p.a.store, id);
  assert.ok(row?.deleted_at, "still deleted here");
  assert.deepEqual(conflicts.map((c) => [c.field, c.kind, c.winner]), [[
    "text",
    "delete",
    "local",
  ]]);
  const [logged] = await conflictRows(p.a.store);
  assert.deepEqual(parsed(logged, "lost_value"), { text: "edited after the delete" });
  assert.ok((parsed(logged, "kept_value") as Row).deleted_at, "what was kept: the delete");
});

Deno.test("merge: our own earlier write coming back is not a conflict", async () => {
  await using p = await openPair();
  const id = await shared(p);
  // A's first edit reaches the cloud but the answer is lost: still queued.
  await editInbox(p.a.store, id, { text: "first" });
  p.ca.failAfterCommit();
  await assert.rejects(push(p.a.store, p.ca, {}));
  p.advance();
  await editInbox(p.a.store, id, { text: "second" });

  const { conflicts } = await mergeCloudPage(p.a.store, p);
  assert.deepEqual(conflicts, [], "the cloud's value is A's own, not a concurrent edit");
  assert.deepEqual(await conflictRows(p.a.store), []);
  assert.equal((await inboxRow(p.a.store, id))?.text, "second");
  assert.deepEqual(
    await outboxKeys(p.a.store),
    [`inbox:${id}`],
    "the second edit is still to push",
  );
});

Deno.test("merge: an outbox entry leaves once the cloud has the whole row", async () => {
  await using p = await openPair();
  const id = await shared(p);
  await editInbox(p.a.store, id, { text: "pushed, answer lost" });
  p.ca.failAfterCommit();
  await assert.rejects(push(p.a.store, p.ca, {}));
  assert.deepEqual(await outboxKeys(p.a.store), [`inbox:${id}`]);

  const { conflicts, applied } = await mergeCloudPage(p.a.store, p);
  assert.deepEqual(conflicts, []);
  assert.equal(applied, 0, "nothing new to write locally");
  assert.deepEqual(await outboxKeys(p.a.store), []);
});

Deno.test("merge: a newer local row with nothing queued is queued for the cloud", async () => {
  await using p = await openPair();
  const id = await shared(p);
  await editInbox(p.a.store, id, { text: "newer here" });
  await p.a.store.write((w) => w.tx.execute("DELETE FROM _sync_outbox"));

  await mergeCloudPage(p.a.store, p);
  assert.deepEqual(await outboxKeys(p.a.store), [`inbox:${id}`]);
  assert.equal((await inboxRow(p.a.store, id))?.text, "newer here");
});
