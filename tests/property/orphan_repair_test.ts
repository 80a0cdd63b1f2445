/**
 * Regression (found by convergence_test): a stakeholder deleted on one device
 * while another device gave it two new commitments is restored by the orphan
 * repair — once, with nothing left queued that can never be pushed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { addCommitment, addStakeholder, remove } from "../../src/domain/actions.ts";
import { entity } from "../../src/db/schema.ts";
import { syncOnce } from "../../src/sync/engine.ts";
import { MemoryCloud } from "../helpers/memory_cloud.ts";
import { FakeTime, openSimDevice, outboxSize, SkewedClock } from "../helpers/sim_device.ts";

for (const replica of [false, true]) {
  Deno.test(`a parent restored for two orphans is queued once (${replica ? "replica" : "pages"})`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "jdo-repair-" });
    const time = new FakeTime(Date.UTC(2025, 0, 15, 9));
    const a = await openSimDevice(dir, "a", new SkewedClock(time, 0));
    const b = await openSimDevice(dir, "b", new SkewedClock(time, 0));
    const server = new MemoryCloud({ migrated: true });
    const cloudA = server.client(replica ? { replicaPath: join(dir, "ra.db") } : {});
    const cloudB = server.client(replica ? { replicaPath: join(dir, "rb.db") } : {});
    try {
      const ann = await addStakeholder(a.domain, "Ann");
      await syncOnce(a.store, cloudA);
      await syncOnce(b.store, cloudB);
      time.advance(1_000);
      await addCommitment(b.domain, {
        deliverable: "One",
        stakeholder: "Ann",
        dueDate: "2025-02-01",
      });
      await addCommitment(b.domain, {
        deliverable: "Two",
        stakeholder: "Ann",
        dueDate: "2025-02-02",
      });
      time.advance(1_000);
      await remove(a.domain, entity("stakeholder"), String(ann.id));
      await syncOnce(a.store, cloudA);
      await syncOnce(b.store, cloudB); // pulls the delete, restores Ann for its commitments
      await syncOnce(a.store, cloudA);
      await syncOnce(b.store, cloudB);
      for (const dev of [a, b]) {
        assert.equal(await outboxSize(dev.client), 0, `${dev.name} has queued changes left`);
        const row = await dev.store.one("SELECT deleted_at FROM stakeholders WHERE id = ?", [
          String(ann.id),
        ]);
        assert.equal(row?.deleted_at, null, `${dev.name}: Ann is live again`);
      }
    } finally {
      a.close();
      b.close();
      cloudA.close();
      cloudB.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  });
}
