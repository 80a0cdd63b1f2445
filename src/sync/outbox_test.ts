/**
 * outbox.ts: an entry leaves only when the cloud has its queued version;
 * every row can be queued at once (a first upload, a new cloud), and a new
 * cloud forgets the old watermark.
 */
import assert from "node:assert/strict";
import { entity, groupsOf } from "../db/schema.ts";
import {
  capture,
  deleteInbox,
  editInbox,
  openPair,
  outboxKeys,
  watermark,
} from "../../tests/helpers/sync_pair.ts";
import { syncOnce } from "./engine.ts";
import { dropOutbox, dropOutboxMany, enqueueEverything, resetForCloud } from "./outbox.ts";
import { RESTORE_MARK } from "./restore.ts";
import { readSyncState } from "./state.ts";
import { recordConflict } from "./conflict_log.ts";

const textGroup = groupsOf(entity("inbox")).find((g) => g.name === "text")!;

Deno.test("outbox: an entry is dropped only for the version the cloud accepted", async () => {
  await using p = await openPair();
  const id = await capture(p.a.store, "one");
  const other = await capture(p.a.store, "two");
  const queued = async (rowId: string) =>
    String(
      (await p.a.store.one("SELECT version FROM _sync_outbox WHERE id = ?", [rowId]))?.version,
    );
  const old = await queued(id);
  await editInbox(p.a.store, id, { text: "edited since" });
  await p.a.store.write((w) => dropOutbox(w, "inbox", id, old));
  assert.deepEqual(await outboxKeys(p.a.store), [`inbox:${id}`, `inbox:${other}`].sort());
  await p.a.store.write((w) => dropOutbox(w, "inbox", id, "not-the-version"));
  assert.equal((await outboxKeys(p.a.store)).length, 2);

  const versions = [{ id, version: old }, { id: other, version: await queued(other) }];
  await p.a.store.write((w) => dropOutboxMany(w, "inbox", versions));
  assert.deepEqual(await outboxKeys(p.a.store), [`inbox:${id}`], "the edited row stays");
  const current = [{ id, version: await queued(id) }];
  await p.a.store.write((w) => dropOutboxMany(w, "task", current));
  assert.deepEqual(await outboxKeys(p.a.store), [`inbox:${id}`], "another kind: untouched");
  await p.a.store.write((w) => dropOutboxMany(w, "inbox", current));
  assert.deepEqual(await outboxKeys(p.a.store), []);
});

Deno.test("outbox: resetForCloud queues every row and forgets the watermark", async () => {
  await using p = await openPair();
  const live = await capture(p.a.store, "live");
  const gone = await capture(p.a.store, "deleted");
  await deleteInbox(p.a.store, gone);
  const ann = await p.a.store.write((w) =>
    w.insert(entity("stakeholder"), { name: "Ann", type: "person" })
  );
  await p.a.store.write((w) => {
    const record = {
      entity: "inbox",
      rowId: live,
      field: "text",
      kind: "field",
      winner: "remote",
      localVersion: "v1",
      remoteVersion: "v2",
    } as const;
    const lost = { ...record, group: textGroup, kept: { text: "b" }, lost: { text: "a" } };
    return recordConflict(w, record, lost, {}, {});
  });
  const conflictId = String((await p.a.store.one("SELECT id FROM _sync_conflicts"))?.id);
  await syncOnce(p.a.store, p.ca);
  assert.ok(await watermark(p.a.store) > 0);
  assert.deepEqual(await outboxKeys(p.a.store), []);
  await p.a.store.write((w) =>
    w.tx.execute({
      sql: "INSERT INTO _sync_state (key, value) VALUES (?, 'x')",
      args: [RESTORE_MARK],
    })
  );

  await resetForCloud(p.a.store, "new-cloud-id");
  const state = await readSyncState(p.a.store);
  assert.equal(state.watermark, 0);
  assert.equal(state.cloudId, "new-cloud-id");
  const mark = await p.a.store.one("SELECT value FROM _sync_state WHERE key = ?", [RESTORE_MARK]);
  assert.equal(mark?.value ?? null, null, "a restore mark belongs to the old cloud");
  assert.deepEqual(
    await outboxKeys(p.a.store),
    [`conflict:${conflictId}`, `inbox:${gone}`, `inbox:${live}`, `stakeholder:${ann.id}`].sort(),
    "tombstones and the conflict log too",
  );
  // Queued at the rows' current versions.
  const stale = await p.a.store.query(
    `SELECT o.id FROM _sync_outbox o JOIN inbox_items t ON t.id = o.id WHERE o.version <> t.version`,
  );
  assert.deepEqual(stale, []);
});

Deno.test("outbox: enqueueEverything keeps one entry per row at its latest version", async () => {
  await using p = await openPair();
  const id = await capture(p.a.store, "one");
  await editInbox(p.a.store, id, { text: "edited" });
  const base = await p.a.store.one("SELECT base FROM _sync_outbox WHERE id = ?", [id]);
  await enqueueEverything(p.a.store);
  await enqueueEverything(p.a.store);
  const rows = await p.a.store.query(
    "SELECT o.version, o.base, t.version AS current FROM _sync_outbox o JOIN inbox_items t USING (id)",
  );
  assert.equal(rows.length, 1);
  assert.equal(rows[0].version, rows[0].current);
  assert.equal(rows[0].base, base?.base, "the queued edit keeps its base (conflict detection)");
});
