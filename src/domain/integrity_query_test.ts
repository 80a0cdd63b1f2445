import assert from "node:assert/strict";
import fc from "fast-check";
import { entity, type Row } from "../db/schema.ts";
import { ensureLocalIndexes } from "../db/database.ts";
import { addDays } from "./dates.ts";
import { dueInstantMs } from "./due.ts";
import { computeIntegrity } from "./integrity.ts";
import { integrityOf } from "./integrity_query.ts";
import { openTempStore } from "../../tests/helpers/temp_store.ts";

const ZONES = [
  null,
  "UTC",
  "America/Los_Angeles",
  "America/New_York",
  "Asia/Tokyo",
  "Pacific/Kiritimati",
  "Pacific/Pago_Pago",
  "Australia/Lord_Howe",
];
const STATUSES = ["pending", "in_progress", "at_risk", "completed", "abandoned"];
// Just after the US daylight-saving change, so due dates straddle it.
const NOW = new Date("2026-11-02T06:30:00Z");
const iso = (offsetHours: number) =>
  new Date(NOW.getTime() + offsetHours * 3_600_000).toISOString();

const commitment = fc.record({
  status: fc.constantFrom(...STATUSES),
  dayOffset: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer({ min: -400, max: 400 })),
  time: fc.constantFrom("00:00", "01:30", "02:30", "09:00", "17:00", "23:59"),
  zone: fc.constantFrom(...ZONES),
  onTime: fc.constantFrom(null, 0, 1),
  completedHours: fc.option(fc.integer({ min: -24 * 60, max: 0 }), { nil: null }),
  markedHours: fc.option(fc.integer({ min: -24 * 10, max: 24 * 3 }), { nil: null }),
});

Deno.test("integrityOf (aggregate SQL) agrees with computeIntegrity over every row", async () => {
  await using t = await openTempStore();
  await ensureLocalIndexes(t.client);
  const stakeholder = await t.store.write((w) =>
    w.insert(entity("stakeholder"), { name: "Alex", type: "person" })
  );
  await fc.assert(
    fc.asyncProperty(fc.array(commitment, { maxLength: 60 }), async (list) => {
      await t.client.execute("DELETE FROM commitments");
      const rows: Row[] = list.map((c, i) => ({
        deliverable: `c${i}`,
        stakeholder_id: stakeholder.id,
        due_date: addDays(NOW.toISOString().slice(0, 10), c.dayOffset),
        due_time: c.time,
        timezone: c.zone,
        status: c.status,
        completed_on_time: c.status === "completed" ? c.onTime : null,
        completed_at: c.status === "completed" && c.completedHours !== null
          ? iso(c.completedHours)
          : null,
        marked_at_risk_at: c.markedHours === null ? null : iso(c.markedHours),
      }));
      await t.store.write((w) => w.insertMany(entity("commitment"), rows));
      for (const viewer of ["UTC", "America/Los_Angeles", "Asia/Tokyo"]) {
        const facts = rows.map((r) => ({
          status: String(r.status),
          dueAt: dueInstantMs(r, viewer),
          completedOnTime: r.completed_on_time === null ? null : Boolean(r.completed_on_time),
          completedAt: r.completed_at ? Date.parse(String(r.completed_at)) : null,
          markedAtRiskAt: r.marked_at_risk_at ? Date.parse(String(r.marked_at_risk_at)) : null,
        }));
        assert.deepEqual(
          await integrityOf(t.store, NOW, viewer),
          computeIntegrity(facts, NOW.getTime()),
          viewer,
        );
      }
    }),
    { numRuns: 100 },
  );
});

Deno.test("integrityOf: lateness is read in each commitment's zone, whatever the viewer's", async () => {
  await using t = await openTempStore();
  await ensureLocalIndexes(t.client);
  await t.store.write(async (w) => {
    const s = await w.insert(entity("stakeholder"), { name: "Alex", type: "person" });
    const base = { stakeholder_id: s.id, status: "pending" };
    await w.insertMany(entity("commitment"), [
      // 2026-11-01 23:59 in Pago Pago (UTC−11) is 10:59Z on the 2nd: not late at 06:30Z.
      {
        ...base,
        deliverable: "a",
        due_date: "2026-11-01",
        due_time: "23:59",
        timezone: "Pacific/Pago_Pago",
      },
      // 2026-11-01 17:00 in Los Angeles is 01:00Z on the 2nd: late.
      {
        ...base,
        deliverable: "b",
        due_date: "2026-11-01",
        due_time: "17:00",
        timezone: "America/Los_Angeles",
      },
      // 2026-11-02 09:00 in Tokyo is 00:00Z on the 2nd: late.
      {
        ...base,
        deliverable: "c",
        due_date: "2026-11-02",
        due_time: "09:00",
        timezone: "Asia/Tokyo",
      },
    ]);
  });
  for (const viewer of ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"]) {
    assert.equal((await integrityOf(t.store, NOW, viewer)).late, 2, viewer);
  }
});
