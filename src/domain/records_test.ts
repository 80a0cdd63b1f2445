import assert from "node:assert/strict";
import fc from "fast-check";
import { entity, type Row } from "../db/schema.ts";
import { addDays } from "./dates.ts";
import { dueInstantMs } from "./due.ts";
import {
  forEachRecordPage,
  type JsonRecord,
  LIST_TABLE_FIELDS,
  listRecords,
  narrowCommitmentsSelect,
  orderOf,
} from "./records.ts";
import { openTempStore } from "../../tests/helpers/temp_store.ts";

const ZONES = [
  null,
  "UTC",
  "America/Los_Angeles",
  "Asia/Tokyo",
  "Pacific/Kiritimati",
  "Pacific/Pago_Pago",
  "Asia/Kolkata",
];

const commitment = fc.record({
  dayOffset: fc.integer({ min: -2, max: 2 }),
  time: fc.constantFrom("00:00", "02:30", "09:00", "13:45", "20:00", "23:59"),
  zone: fc.constantFrom(...ZONES),
});

/** Ascending by due instant (ties in any order the test does not look at). */
function assertByInstant(records: JsonRecord[], viewer: string, what: string) {
  const at = records.map((r) => dueInstantMs(r, viewer));
  for (let i = 1; i < at.length; i++) {
    assert.ok(at[i - 1] <= at[i], `${what}: row ${i} is due before row ${i - 1}`);
  }
}

Deno.test("list and the dashboard order commitments by due instant, whatever zone each was made in", async () => {
  await using t = await openTempStore();
  const stakeholder = await t.store.write((w) =>
    w.insert(entity("stakeholder"), { name: "Alex", type: "person" })
  );
  const def = entity("commitment");
  await fc.assert(
    fc.asyncProperty(
      fc.array(commitment, { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 1, max: 7 }),
      fc.constantFrom("UTC", "America/Los_Angeles", "Asia/Tokyo"),
      async (list, pageSize, viewer) => {
        await t.client.execute("DELETE FROM commitments");
        const rows: Row[] = list.map((c, i) => ({
          deliverable: `c${i}`,
          stakeholder_id: stakeholder.id,
          due_date: addDays("2031-03-14", c.dayOffset),
          due_time: c.time,
          timezone: c.zone,
          status: "pending",
        }));
        await t.store.write((w) => w.insertMany(def, rows));
        const streamed: JsonRecord[] = [];
        const total = await forEachRecordPage(t.store, def, { timeZone: viewer }, (page, all) => {
          assert.ok(page.length <= pageSize);
          // Told only by a read that took every row at once (node:sqlite).
          if (all !== undefined) assert.equal(all, list.length);
          streamed.push(...page);
        }, pageSize);
        assert.equal(total, list.length);
        assert.equal(new Set(streamed.map((r) => r.id)).size, list.length, "each row once");
        assertByInstant(streamed, viewer, "list");
        const all = await listRecords(t.store, def, { timeZone: viewer });
        assert.deepEqual(all.map((r) => r.id), streamed.map((r) => r.id), "same order both ways");
        const limit = Math.min(pageSize, list.length);
        const first = await listRecords(t.store, def, { limit, timeZone: viewer });
        assert.deepEqual(first.map((r) => r.id), all.slice(0, limit).map((r) => r.id), "dashboard");
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("the list table's rows come from commitments_listed alone, already in order", async () => {
  await using t = await openTempStore();
  const def = entity("commitment");
  const fields = def.fields.filter((f) => LIST_TABLE_FIELDS.includes(f.name));
  assert.equal(fields.length, LIST_TABLE_FIELDS.length);
  const filter = "c.deleted_at IS NULL AND +c.status IN ('pending', 'in_progress', 'at_risk')";
  const sql = `${narrowCommitmentsSelect(fields, false, filter)} ORDER BY ${orderOf(def)}`;
  const plan = (await t.store.query(`EXPLAIN QUERY PLAN ${sql}`)).map((r) => r.detail).join("\n");
  assert.match(plan, /SCAN c USING COVERING INDEX commitments_listed/, plan);
  assert.doesNotMatch(plan, /TEMP B-TREE/, plan);
});

Deno.test("time: false leaves the roll-up out (the list table and the dashboard), true by default", async () => {
  await using t = await openTempStore();
  const stakeholder = await t.store.write((w) =>
    w.insert(entity("stakeholder"), { name: "Alex", type: "person" })
  );
  const def = entity("commitment");
  await t.store.write((w) =>
    w.insertMany(
      def,
      [1, 2, 3].map((i) => ({
        deliverable: `c${i}`,
        stakeholder_id: stakeholder.id,
        due_date: "2031-03-14",
        due_time: "09:00",
        status: "pending",
      })),
    )
  );
  const streamed = async (time?: boolean) => {
    const out: JsonRecord[] = [];
    await forEachRecordPage(t.store, def, { time }, (page) => void out.push(...page));
    return out;
  };
  for (
    const records of [
      await streamed(),
      await listRecords(t.store, def),
      await listRecords(t.store, def, { limit: 2 }),
    ]
  ) {
    assert.ok(records.length > 0 && records.every((r) => "time" in r));
  }
  for (
    const records of [
      await streamed(false),
      await listRecords(t.store, def, { time: false }),
      await listRecords(t.store, def, { limit: 2, time: false }),
    ]
  ) {
    assert.ok(records.length > 0 && records.every((r) => !("time" in r)));
  }
});

Deno.test("list --json's records built by SQLite are toRecord's, byte for byte, whatever the text", async () => {
  await using t = await openTempStore();
  const stakeholder = await t.store.write((w) =>
    w.insert(entity("stakeholder"), { name: 'Ann "A" \u0001\n☃', type: "person" })
  );
  const def = entity("commitment");
  const text = fc.string({ unit: "grapheme", maxLength: 12 });
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          deliverable: text.filter((s) => s.length > 0),
          notes: fc.option(
            fc.oneof(
              text,
              fc.string({ unit: "binary", maxLength: 8 }),
              fc.constantFrom("a\u0000b", "\u0000", '"\\\n\t\u007f\u2028☃'),
            ),
          ),
          onTime: fc.constantFrom(null, 0, 1, 2, "", "0", "yes", 0.5),
          blob: fc.option(fc.uint8Array({ maxLength: 6 })),
          status: fc.constantFrom("pending", "in_progress", "at_risk", "completed"),
        }),
        { minLength: 1, maxLength: 12 },
      ),
      async (list) => {
        await t.client.execute("DELETE FROM commitments");
        const rows: Row[] = list.map((c, i) => ({
          deliverable: c.deliverable,
          notes: c.notes,
          stakeholder_id: stakeholder.id,
          due_date: "2031-03-14",
          due_time: `0${i % 10}:00`,
          status: c.status,
        }));
        await t.store.write((w) => w.insertMany(def, rows));
        // Values jdo never writes, as a synced row might carry them.
        const ids = (await t.client.execute("SELECT id FROM commitments ORDER BY id")).rows;
        for (const [i, row] of ids.entries()) {
          await t.client.execute({
            sql: "UPDATE commitments SET completed_on_time = ? WHERE id = ?",
            args: [list[i].onTime, String(row.id)],
          });
          if (list[i].blob) {
            await t.client.execute({
              sql: "UPDATE commitments SET notes = ? WHERE id = ?",
              args: [list[i].blob, String(row.id)],
            });
          }
        }
        for (const options of [{}, { all: true }, { time: false }]) {
          const read = async (json: boolean) => {
            const out: JsonRecord[] = [];
            await forEachRecordPage(t.store, def, { ...options, json }, (page) => {
              out.push(...page);
            }, 5);
            return JSON.stringify(out, null, 2);
          };
          assert.equal(await read(true), await read(false));
        }
      },
    ),
    { numRuns: 40 },
  );
});
