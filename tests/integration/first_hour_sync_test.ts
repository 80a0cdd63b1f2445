/**
 * Issue 11, items 7 and 9, across devices (in-memory cloud): same-name
 * stakeholders made offline on three devices merge to one everywhere, and an
 * `import --undelete` on one device brings the rows back on the others.
 */
import assert from "node:assert/strict";
import { addCommitment, remove } from "../../src/domain/actions.ts";
import { entity } from "../../src/db/schema.ts";
import { importStream, writeExport } from "../../src/domain/transfer.ts";
import { oneChunk } from "../../src/domain/json_stream.ts";
import { syncOnce } from "../../src/sync/engine.ts";
import { MemoryCloud, type MemoryCloudClient } from "../helpers/memory_cloud.ts";
import {
  dumpTables,
  FakeTime,
  openSimDevice,
  outboxSize,
  type SimDevice,
  SkewedClock,
} from "../helpers/sim_device.ts";

async function world(n: number) {
  const dir = await Deno.makeTempDir({ prefix: "jdo-first-hour-sync-" });
  const time = new FakeTime(Date.UTC(2026, 5, 15, 9));
  const server = new MemoryCloud({ migrated: true });
  const devices: SimDevice[] = [];
  const clouds: MemoryCloudClient[] = [];
  for (let i = 0; i < n; i++) {
    devices.push(await openSimDevice(dir, `d${i}`, new SkewedClock(time, 0)));
    clouds.push(server.client());
  }
  return {
    time,
    devices,
    sync: (i: number) => syncOnce(devices[i].store, clouds[i]),
    async settle() {
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < n; i++) await syncOnce(devices[i].store, clouds[i]);
      }
    },
    async [Symbol.asyncDispose]() {
      for (const d of devices) d.close();
      for (const c of clouds) c.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

Deno.test("three offline devices each creating Zelda converge on one Zelda with every commitment", async () => {
  await using w = await world(3);
  for (const [i, name] of ["zelda", "Zelda", "ZELDA"].entries()) {
    w.time.advance(1_000);
    await addCommitment(w.devices[i].domain, {
      deliverable: `from d${i}`,
      stakeholder: name,
      dueDate: "2026-07-01",
    });
  }
  await w.settle();
  const dumps = [];
  for (const dev of w.devices) {
    assert.equal(await outboxSize(dev.client), 0, `${dev.name}: nothing left queued`);
    const live = await dev.store.query(
      "SELECT id, name FROM stakeholders WHERE deleted_at IS NULL",
    );
    assert.deepEqual(live.map((r) => r.name), ["zelda"], `${dev.name}: the oldest survives`);
    const refs = await dev.store.query(
      "SELECT DISTINCT stakeholder_id FROM commitments WHERE deleted_at IS NULL",
    );
    assert.deepEqual(refs.map((r) => r.stakeholder_id), [live[0].id]);
    dumps.push(await dumpTables(dev.client, ["stakeholders", "commitments"]));
  }
  assert.deepEqual(dumps[1], dumps[0]);
  assert.deepEqual(dumps[2], dumps[0]);
});

Deno.test("import --undelete on one device brings the rows back on the others", async () => {
  await using w = await world(2);
  const [a, b] = w.devices;
  const c = await addCommitment(a.domain, {
    deliverable: "Report",
    stakeholder: "Alice",
    dueDate: "2026-07-01",
  });
  const lines: string[] = [];
  await writeExport(a.store, new Date(), (text) => void lines.push(text));
  const file = lines.join("\n");
  await w.settle();
  w.time.advance(1_000);
  await remove(a.domain, entity("commitment"), String(c.id));
  await w.settle();
  const gone = await b.store.one("SELECT deleted_at FROM commitments WHERE id = ?", [c.id]);
  assert.notEqual(gone?.deleted_at, null, "deleted on b too");

  w.time.advance(1_000);
  const result = await importStream(a.store, oneChunk(file), a.domain.dates(), undefined, {
    undelete: true,
  });
  assert.deepEqual([result.restored, result.imported], [1, 0]);
  await w.settle();
  const back = await b.store.one("SELECT deleted_at, deliverable FROM commitments WHERE id = ?", [
    c.id,
  ]);
  assert.deepEqual([back?.deleted_at, back?.deliverable], [null, "Report"], "live again on b");
});
