import assert from "node:assert/strict";
import { entity, type Row } from "./schema.ts";
import { queryRows } from "./database.ts";
import {
  ODD_COMMITMENTS,
  ODD_STAKEHOLDERS,
  oddCommitmentValues,
  oddStakeholderName,
  UNORDERED_COMMITMENTS,
  unorderedCommitment,
} from "./row_shapes.ts";
import { openTempStore } from "../../tests/helpers/temp_store.ts";
import { forEachRecordPage, listRecords } from "../domain/records.ts";

/**
 * The partial indexes of irregular rows hold exactly the rows their
 * conditions name, and SQLite answers `list`'s probe from them (INDEXED BY
 * fails, "no query solution", when a query's WHERE does not hold the
 * index's condition).
 */
Deno.test("row shapes: the irregular-row indexes hold the irregular rows and answer the probe's form", async () => {
  await using t = await openTempStore();
  const ann = await t.store.write((w) =>
    w.insert(entity("stakeholder"), { name: "Ann", type: "person" })
  );
  await t.store.write((w) => w.insert(entity("stakeholder"), { name: "B\u0000b", type: "person" }));
  const base = (id: string, extra: Row = {}): Row => ({
    id,
    created_at: "2030-01-01T00:00:00.000Z",
    deliverable: "Report",
    stakeholder_id: ann.id,
    due_date: "2031-03-14",
    due_time: "09:00",
    status: "pending",
    ...extra,
  });
  const id = (n: number) => `0000000${n}-0000-4000-8000-000000000000`;
  await t.store.write((w) =>
    w.insertMany(entity("commitment"), [
      base(id(1)),
      base(id(2), { timezone: "UTC" }),
      base(id(3), { timezone: "" }),
      base(id(4), { timezone: "Asia/Tokyo" }),
      base(id(5), { due_time: "9:00" }),
      base(id(6), { due_date: "2031-02-30" }),
      base(id(7), { created_at: "2030-01-01t00:00:00.000z" }),
      base("0000000A-0000-4000-8000-000000000000"),
      base(id(9), { deliverable: "a\u0000b" }),
    ])
  );
  await t.client.execute({
    sql: "UPDATE commitments SET notes = ? WHERE id = ?",
    args: [new Uint8Array([104, 0]), id(1)],
  });
  const filter = "c.deleted_at IS NULL AND +c.status IN ('pending', 'at_risk')";
  const ids = async (table: string, index: string, where: string) =>
    (await queryRows(
      t.client,
      `SELECT id FROM ${table} INDEXED BY ${index} WHERE ${where} ORDER BY id`,
    )).map((r) => String(r.id));
  assert.deepEqual(
    await ids("commitments c", UNORDERED_COMMITMENTS, `${filter} AND ${unorderedCommitment("c.")}`),
    [id(4), id(5), id(6), id(7), "0000000A-0000-4000-8000-000000000000"],
  );
  assert.deepEqual(
    await ids("commitments c", ODD_COMMITMENTS, `${filter} AND ${oddCommitmentValues("c.")}`),
    [id(1), id(9)],
  );
  assert.equal((await ids("stakeholders s", ODD_STAKEHOLDERS, oddStakeholderName("s."))).length, 1);
});

Deno.test("row shapes: without the indexes (a database jdo could not write), list and the dashboard still answer, in the same order", async () => {
  await using t = await openTempStore();
  const ann = await t.store.write((w) =>
    w.insert(entity("stakeholder"), { name: "Ann", type: "person" })
  );
  const def = entity("commitment");
  await t.store.write((w) =>
    w.insertMany(
      def,
      ["09:00", "08:00", "17:30"].map((time, i) => ({
        deliverable: `c${i}`,
        stakeholder_id: ann.id,
        due_date: "2031-03-14",
        due_time: time,
        status: "pending",
      })),
    )
  );
  const read = async () => {
    const listed: string[] = [];
    let text = "";
    await forEachRecordPage(
      t.store,
      def,
      { json: true },
      (page) => {
        listed.push(...page.map((r) => String(r.deliverable)));
      },
      100,
      (body) => {
        text += body;
      },
    );
    const first = await listRecords(t.store, def, { limit: 2, time: false });
    return { listed, text, first: first.map((r) => String(r.deliverable)) };
  };
  const indexed = await read();
  assert.deepEqual(indexed.first, ["c1", "c0"]);
  assert.match(indexed.text, /"deliverable": "c1"[\s\S]*"c0"[\s\S]*"c2"/);
  for (const index of [UNORDERED_COMMITMENTS, ODD_COMMITMENTS, ODD_STAKEHOLDERS]) {
    await t.client.execute(`DROP INDEX ${index}`);
  }
  assert.deepEqual(await read(), indexed);
});
