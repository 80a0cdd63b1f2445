import assert from "node:assert/strict";
import { entity, type Row } from "../db/schema.ts";
import type { Store } from "../db/store.ts";
import { openTempStore } from "../../tests/helpers/temp_store.ts";
import { mergeDuplicateStakeholders } from "./stakeholder_merge.ts";

const S = entity("stakeholder");
const C = entity("commitment");

const ZELDA_A = {
  id: "aaaaaaaa-0000-4000-8000-000000000001",
  created_at: "2026-06-01T10:00:00.000Z",
};
const ZELDA_B = {
  id: "bbbbbbbb-0000-4000-8000-000000000002",
  created_at: "2026-06-01T09:00:00.000Z",
};
const ZELDA_C = {
  id: "0ccccccc-0000-4000-8000-000000000003",
  created_at: "2026-06-01T09:00:00.000Z",
};

async function seed(store: Store, order: "forward" | "backward"): Promise<void> {
  const people: Row[] = [
    { ...ZELDA_A, name: "Zelda", type: "person", notes: "from A", contact_info: "a@x" },
    { ...ZELDA_B, name: "zelda", type: "person", contact_info: "b@x" },
    { ...ZELDA_C, name: "ZELDA ", type: "team" },
    { id: "dddddddd-0000-4000-8000-000000000004", name: "Link", type: "person" },
  ];
  if (order === "backward") people.reverse();
  await store.write(async (w) => {
    for (const p of people) await w.insert(S, p);
    for (const [i, s] of [ZELDA_A, ZELDA_B, ZELDA_A].entries()) {
      await w.insert(C, {
        id: `eeeeeeee-0000-4000-8000-00000000000${i}`,
        deliverable: `d${i}`,
        stakeholder_id: s.id,
        due_date: "2026-07-01",
        due_time: "17:00",
        status: "pending",
      });
    }
  });
}

async function state(store: Store) {
  const stakeholders = await store.query(
    "SELECT id, name, deleted_at IS NOT NULL AS gone FROM stakeholders ORDER BY id",
  );
  const refs = await store.query("SELECT id, stakeholder_id FROM commitments ORDER BY id");
  return {
    stakeholders: stakeholders.map((r) => [r.id, r.name, Number(r.gone)]),
    refs: refs.map((r) => [r.id, r.stakeholder_id]),
  };
}

Deno.test("mergeDuplicateStakeholders keeps the oldest (then smallest id), moves references, tombstones the rest", async () => {
  await using t = await openTempStore();
  await seed(t.store, "forward");
  const merged = await t.store.write((w) => mergeDuplicateStakeholders(w));
  assert.equal(merged, 2);
  const after = await state(t.store);
  // B and C share the oldest created_at; C's id is smaller, so C survives.
  assert.deepEqual(after.stakeholders, [
    [ZELDA_C.id, "ZELDA ", 0],
    [ZELDA_A.id, "Zelda", 1],
    [ZELDA_B.id, "zelda", 1],
    ["dddddddd-0000-4000-8000-000000000004", "Link", 0],
  ]);
  assert.ok(after.refs.every(([, s]) => s === ZELDA_C.id), JSON.stringify(after.refs));
  // The survivor keeps what only a duplicate knew; the oldest duplicate first.
  const kept = await t.store.one("SELECT notes, contact_info FROM stakeholders WHERE id = ?", [
    ZELDA_C.id,
  ]);
  assert.deepEqual([kept?.notes, kept?.contact_info], ["from A", "b@x"]);
  // Ordinary versioned writes: 3 commitments and 2 stakeholders queued for sync.
  const outbox = await t.store.query(
    "SELECT entity, id FROM _sync_outbox WHERE id IN (?, ?) OR entity = 'commitment'",
    [ZELDA_A.id, ZELDA_B.id],
  );
  assert.equal(outbox.length, 5, JSON.stringify(outbox));
  // Nothing left to merge: a second run changes nothing.
  assert.equal(await t.store.write((w) => mergeDuplicateStakeholders(w)), 0);
});

Deno.test("mergeDuplicateStakeholders picks the same survivor whatever the order rows arrived in", async () => {
  await using a = await openTempStore();
  await using b = await openTempStore();
  await seed(a.store, "forward");
  await seed(b.store, "backward");
  await a.store.write((w) => mergeDuplicateStakeholders(w));
  await b.store.write((w) => mergeDuplicateStakeholders(w));
  assert.deepEqual(await state(a.store), await state(b.store));
});

Deno.test("mergeDuplicateStakeholders leaves distinct names and deleted rows alone", async () => {
  await using t = await openTempStore();
  await t.store.write(async (w) => {
    await w.insert(S, { name: "Ann", type: "person" });
    await w.insert(S, { name: "Anne", type: "person" });
    const gone = await w.insert(S, { name: "ann", type: "person" });
    await w.tombstone(S, String(gone.id));
  });
  assert.equal(await t.store.write((w) => mergeDuplicateStakeholders(w)), 0);
  const live = await t.store.query("SELECT name FROM stakeholders WHERE deleted_at IS NULL");
  assert.equal(live.length, 2);
});
