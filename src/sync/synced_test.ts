/**
 * synced.ts: the synced tables come parent-first (a page of children never
 * precedes its parents' table) with the conflict log last; the shared row
 * helpers read in chunks and count only live domain rows.
 */
import assert from "node:assert/strict";
import { ENTITIES } from "../db/schema.ts";
import { capture, deleteInbox, inbox, PAIR_T0 } from "../../tests/helpers/sync_pair.ts";
import { manualClock, openTempStore } from "../../tests/helpers/temp_store.ts";
import { liveRowCount, lookup, SYNCED, withoutCloudColumns } from "./synced.ts";

Deno.test("synced: every table comes after the tables its rows refer to", () => {
  assert.equal(SYNCED.length, ENTITIES.length + 1);
  assert.equal(SYNCED[SYNCED.length - 1].table, "_sync_conflicts");
  const position = new Map(SYNCED.map((t, i) => [t.entity, i]));
  for (const def of ENTITIES) {
    for (const link of def.parents) {
      if (link.entity === def.name) continue; // a goal under a goal
      assert.ok(
        position.get(link.entity)! < position.get(def.name)!,
        `${link.entity} < ${def.name}`,
      );
    }
  }
  for (const t of SYNCED) {
    assert.equal(t.groups[t.groups.length - 1].name, "deleted_at", `${t.table}: deletion last`);
  }
});

Deno.test("synced: liveRowCount counts live domain rows only", async () => {
  await using s = await openTempStore(manualClock(PAIR_T0));
  assert.equal(await liveRowCount(s.store), 0);
  await capture(s.store, "one");
  const gone = await capture(s.store, "two");
  await deleteInbox(s.store, gone);
  assert.equal(await liveRowCount(s.store), 1);
});

Deno.test("synced: lookup finds rows by id across chunks of 500", async () => {
  await using s = await openTempStore(manualClock(PAIR_T0));
  const rows = await s.store.write((w) =>
    w.insertMany(
      inbox,
      Array.from({ length: 1_201 }, (_, i) => ({ text: `t${i}`, status: "open" })),
    )
  );
  const ids = [...rows.map((r) => String(r.id)), "missing"];
  const found = await s.store.write((w) =>
    lookup(w, "SELECT id, text FROM inbox_items WHERE status = ? AND id IN (?)", ids, ["open"])
  );
  assert.equal(found.size, 1_201);
  assert.equal(found.get(String(rows[1_200].id))?.text, "t1200");
  assert.equal(found.has("missing"), false);
  assert.deepEqual(withoutCloudColumns({ id: "a", _seq: 3, _by: "d" }), { id: "a" });
});
