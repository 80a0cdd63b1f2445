import assert from "node:assert/strict";
import type { InValue } from "@libsql/client";
import fc from "fast-check";
import { entity, type Row } from "../db/schema.ts";
import { forEachRecordPage, type JsonRecord, type ListOptions, listRecords } from "./records.ts";
import { openTempStore } from "../../tests/helpers/temp_store.ts";

/**
 * Commitments whose wall-clock order is their due-instant order (all in UTC)
 * are listed as SQL orders them, and list --json's text may come from
 * SQLite's json_quote: the same output, byte for byte, as the general path
 * (every row sorted by instant here, records stringified by JavaScript).
 */

// Few digits, so ids share long prefixes (short ids) and sort close together;
// "A" sorts before "a" by code point, after it for the collator.
const uuid = fc.array(fc.constantFrom("0", "1", "a", "A"), { minLength: 32, maxLength: 32 }).map(
  (d) => {
    const s = d.join("");
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${
      s.slice(20)
    }`;
  },
);

const row = fc.record({
  id: uuid,
  day: fc.constantFrom("2031-03-14", "2031-03-15", "2030-12-31"),
  // "9:00" is read as 09:00 but is not HH:MM (due_time is NOT NULL in the schema).
  time: fc.constantFrom("00:00", "09:00", "09:00", "09:30", "23:59", "9:00"),
  zone: fc.constantFrom(null, null, "UTC", "UTC", "", "Asia/Tokyo", "America/Los_Angeles"),
  // Ties on due time and created_at; "t…z" sorts after "T…Z" by code point, before it for the collator.
  created: fc.constantFrom<string>(
    "2030-01-01T00:00:00.000Z",
    "2030-01-01T00:00:00.000Z",
    "2030-01-02T10:00:00.000Z",
    "2030-01-01t00:00:00.000z",
  ),
  deliverable: fc.oneof(
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 8 }),
    fc.constantFrom('"\\\n\t\u0001\u007f\u2028☃', "a\u0000b"),
  ),
  status: fc.constantFrom("pending", "in_progress", "at_risk", "completed"),
  onTime: fc.constantFrom(null, 0, 1),
  // A blob, which jdo never writes, as a synced row might carry it.
  notes: fc.constantFrom<InValue>(null, "n", null, new Uint8Array([104, 0, 255])),
  hours: fc.array(fc.constantFrom(null, 0.1, 0.2, 1, 2.5), { maxLength: 3 }),
});
type Drawn = typeof row extends fc.Arbitrary<infer T> ? T : never;

/** The rows of a run, every one in the shortcut's case but in what `odd` names. */
function keepOdd(list: Drawn[], odd: string): Drawn[] {
  return list.map((c) => ({
    ...c,
    // Odd ids: all due at once and made at once, so the ids decide.
    ...(odd === "id" ? { day: "2031-03-14" as const, time: "09:00" as const } : {}),
    id: odd === "id" ? c.id : c.id.toLowerCase(),
    zone: odd === "zone" || c.zone === null || c.zone === "UTC" ? c.zone : "UTC",
    time: odd === "time" || c.time !== "9:00" ? c.time : "09:00",
    created: odd === "created"
      ? c.created
      : odd === "id"
      ? "2030-01-01T00:00:00.000Z"
      : c.created.replace("t", "T").replace("z", "Z"),
  }));
}

Deno.test("commitments in wall-clock order list as the general path lists them, byte for byte", async () => {
  await using t = await openTempStore();
  const stakeholder = await t.store.write((w) =>
    w.insert(entity("stakeholder"), { name: "Ann", type: "person" })
  );
  const def = entity("commitment");
  let shortcuts = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(row, { minLength: 1, maxLength: 14, selector: (r) => r.id.toLowerCase() }),
      fc.integer({ min: 1, max: 5 }),
      fc.constantFrom("UTC", "UTC", "Asia/Tokyo"),
      fc.constantFrom("none", "none", "id", "zone", "time", "created"),
      async (drawn, pageSize, viewer, odd) => {
        const list = keepOdd(drawn, odd);
        await t.client.execute("DELETE FROM tasks");
        await t.client.execute("DELETE FROM commitments");
        const rows: Row[] = list.map((c) => ({
          id: c.id,
          created_at: c.created,
          deliverable: c.deliverable,
          stakeholder_id: stakeholder.id,
          due_date: c.day,
          due_time: "09:00",
          timezone: c.zone,
          status: c.status,
        }));
        await t.store.write(async (w) => {
          await w.insertMany(def, rows);
          for (const c of list) {
            for (const [i, hours] of c.hours.entries()) {
              await w.insert(entity("task"), {
                commitment_id: c.id,
                title: `t${i}`,
                order: i,
                estimated_hours: hours,
                status: i === 0 ? "completed" : "pending",
              });
            }
          }
        });
        // Values only a synced or imported row might carry.
        for (const c of list) {
          await t.client.execute({
            sql:
              "UPDATE commitments SET due_time = ?, completed_on_time = ?, notes = ? WHERE id = ?",
            args: [c.time, c.onTime, c.notes, c.id],
          });
        }
        const base: ListOptions = { timeZone: viewer };
        for (
          const options of [
            { ...base, json: true },
            { ...base, json: true, all: true },
            { ...base, json: true, time: false },
            {
              ...base,
              time: false,
              fields: ["deliverable", "due_date", "due_time", "timezone", "status"],
            },
            // Fields that are not all text, with the roll-up: records made by toRecord's rules.
            {
              ...base,
              fields: ["due_date", "due_time", "timezone", "completed_on_time", "notes", "status"],
            },
          ] as ListOptions[]
        ) {
          const read = async (general: boolean) => {
            const records: JsonRecord[] = [];
            const texts: string[] = [];
            const total = await forEachRecordPage(
              t.store,
              def,
              { ...options, general },
              (page) => {
                assert.ok(page.length <= pageSize);
                records.push(...page);
              },
              pageSize,
              (body) => {
                shortcuts++;
                texts.push(body);
              },
            );
            assert.ok(records.length === 0 || texts.length === 0, "records or text, not both");
            const text = texts.length > 0
              ? `[\n${texts.join(",\n")}\n]`
              : JSON.stringify(records, null, 2);
            return { total, records, text };
          };
          const general = await read(true);
          const fast = await read(false);
          assert.equal(fast.total, general.total);
          assert.equal(fast.text, general.text);
          if (options.fields) {
            // The narrow records: the whole records cut to id, those fields, created_at,
            // stakeholder (and the roll-up), which is their order there too.
            const time = options.time !== false;
            const keys = [
              "id",
              ...options.fields,
              "created_at",
              "stakeholder",
              ...(time ? ["time"] : []),
            ];
            const whole = await listRecords(t.store, def, { ...base, time });
            assert.equal(
              fast.text,
              JSON.stringify(
                whole.map((r) =>
                  Object.fromEntries(Object.entries(r).filter(([k]) => keys.includes(k)))
                ),
                null,
                2,
              ),
            );
          }
          if (options.all || options.fields) continue;
          // The dashboard's first few: by wall clock when every row is in order, else re-read.
          for (const limit of [1, pageSize]) {
            const first = await listRecords(t.store, def, { ...base, limit, time: false });
            assert.deepEqual(
              first.map((r) => r.id),
              general.records.slice(0, limit).map((r) => r.id),
            );
          }
        }
      },
    ),
    { numRuns: 60 },
  );
  assert.ok(shortcuts > 0, "SQLite wrote some pages");
});
