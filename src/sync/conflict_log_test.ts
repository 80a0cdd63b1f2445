/**
 * conflict_log.ts: a lost value becomes a _sync_conflicts row (queued, so it
 * syncs like any row), and the same lost value is never logged twice.
 */
import assert from "node:assert/strict";
import { FIELD_VERSIONS, groupsOf } from "../db/schema.ts";
import {
  capture,
  conflictRows,
  editInbox,
  inbox,
  openPair,
  outboxKeys,
} from "../../tests/helpers/sync_pair.ts";
import {
  conflictKnown,
  type ConflictRecord,
  type LostValue,
  recordConflict,
} from "./conflict_log.ts";
import { syncOnce } from "./engine.ts";
import { mergePage } from "./merge.ts";
import { SYNCED } from "./synced.ts";

const textGroup = groupsOf(inbox).find((g) => g.name === "text")!;

Deno.test("conflict_log: a recorded conflict is a queued row with both sides", async () => {
  await using p = await openPair();
  const deviceA = await p.a.store.deviceId();
  const deviceB = await p.b.store.deviceId();
  const localVersion = `0001900000000-0000-${deviceA}`;
  const remoteVersion = `0001900000001-0000-${deviceB}`;
  const record: ConflictRecord = {
    entity: "inbox",
    rowId: "row-1",
    field: "text",
    kind: "field",
    winner: "remote",
    localVersion,
    remoteVersion,
  };
  const lost: LostValue = {
    group: textGroup,
    kind: "field",
    winner: "remote",
    localVersion,
    remoteVersion,
    kept: { text: "theirs" },
    lost: { text: "mine" },
  };
  const known = await p.a.store.write(async (w) => {
    const before = await conflictKnown(w, record);
    await recordConflict(w, record, lost, { id: "row-1", text: "mine" }, {
      id: "row-1",
      text: "theirs",
    });
    return [
      before,
      await conflictKnown(w, record),
      await conflictKnown(w, { ...record, remoteVersion: `0001900000002-0000-${deviceB}` }),
      await conflictKnown(w, { ...record, field: "status" }),
    ];
  });
  assert.deepEqual(known, [false, true, false, false]);
  const [row] = await conflictRows(p.a.store);
  assert.equal(row.row_id, "row-1");
  assert.equal(row.kept_version, remoteVersion);
  assert.equal(row.lost_version, localVersion);
  assert.equal(row.kept_device, deviceB);
  assert.equal(row.lost_device, deviceA);
  assert.equal(row.detected_by, deviceA);
  assert.equal(row.resolved_at, null);
  assert.deepEqual(JSON.parse(String(row.lost_value)), { text: "mine" });
  assert.deepEqual(Object.keys(JSON.parse(String(row[FIELD_VERSIONS]))).sort(), [
    "deleted_at",
    "resolved_at",
  ]);
  assert.deepEqual(await outboxKeys(p.a.store), [`conflict:${row.id}`]);
});

Deno.test("conflict_log: the same page merged twice logs a lost value once", async () => {
  await using p = await openPair();
  const id = await capture(p.a.store, "shared");
  await syncOnce(p.a.store, p.ca);
  await syncOnce(p.b.store, p.cb);
  p.advance();
  await editInbox(p.a.store, id, { text: "from A" });
  p.advance();
  await editInbox(p.b.store, id, { text: "from B" });
  await syncOnce(p.b.store, p.cb);
  // Our edit is re-queued as if the first merge's outbox drop had not happened
  // (a pull cut off before its watermark merges the same page again).
  const t = SYNCED.find((s) => s.table === "inbox_items")!;
  const page = p.server.rowsWithSeq("inbox_items");
  const entry = await p.a.store.one("SELECT * FROM _sync_outbox WHERE id = ?", [id]);
  const mergeAgain = async () => {
    const conflicts: ConflictRecord[] = [];
    await p.a.store.write(async (w) => {
      await w.tx.execute({
        sql: `INSERT INTO _sync_outbox (entity, id, version, base) VALUES (?, ?, ?, ?)
              ON CONFLICT(entity, id) DO NOTHING`,
        args: [entry!.entity, entry!.id, entry!.version, entry!.base],
      });
      await mergePage(w, t, page, conflicts, [], { see: () => {} });
    }, { foreignKeys: false });
    return conflicts.length;
  };
  assert.equal(await mergeAgain(), 1);
  assert.equal(await mergeAgain(), 0, "already logged: not reported again");
  assert.equal((await conflictRows(p.a.store)).length, 1);
});

Deno.test("conflict_log: the log syncs to the other device like any row", async () => {
  await using p = await openPair();
  const id = await capture(p.a.store, "shared");
  await syncOnce(p.a.store, p.ca);
  await syncOnce(p.b.store, p.cb);
  p.advance();
  await editInbox(p.a.store, id, { text: "from A" });
  p.advance();
  await editInbox(p.b.store, id, { text: "from B" });
  await syncOnce(p.b.store, p.cb);
  const stats = await syncOnce(p.a.store, p.ca);
  assert.equal(stats.conflicts.length, 1);
  await syncOnce(p.b.store, p.cb);
  const onA = (await conflictRows(p.a.store)).map((r) => r.id);
  const onB = (await conflictRows(p.b.store)).map((r) => r.id);
  assert.equal(onA.length, 1);
  assert.deepEqual(onB, onA);
  assert.deepEqual(await outboxKeys(p.a.store), []);
});
