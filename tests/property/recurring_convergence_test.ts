// deno-lint-ignore-file no-console -- tests report what they exercised and how long it took
/**
 * Property: recurring commitments among the convergence harness's actions.
 * Three devices add templates, generate what is due (on their own, offline
 * or not), complete and abandon instances (which generates the next), edit,
 * pause and resume templates while days pass, and sync in random orders on
 * the memory cloud. After settling they are identical to each other and to
 * the cloud, equal to the per-field oracle, with every lost edit in the
 * conflict log (tests/helpers/sync_world.ts) — and no occurrence is ever
 * more than one instance, however many devices generated it.
 *
 * JDO_PROPERTY_RUNS=N runs N scenarios (default 40); a failure prints
 * fast-check's seed and path: JDO_PROPERTY_SEED=S JDO_PROPERTY_PATH=P replays it.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { join } from "node:path";
import type { Row } from "../../src/db/schema.ts";
import type { CloudStore } from "../../src/sync/cloud_store.ts";
import { MemoryCloud } from "../helpers/memory_cloud.ts";
import { FakeTime, openSimDevice, SkewedClock, SYNCED_TABLES } from "../helpers/sim_device.ts";
import { type Op, type OpKind, SyncWorld } from "../helpers/sync_world.ts";

const RUNS = Number(Deno.env.get("JDO_PROPERTY_RUNS") ?? 40);
const SEED = Deno.env.get("JDO_PROPERTY_SEED");
const PATH = Deno.env.get("JDO_PROPERTY_PATH");
/** A winter morning (the harness's fake time; no machine clock is read). */
const T0 = Date.UTC(2025, 0, 15, 9);
const HOUR = 3_600_000;

const totals = {
  scenarios: 0,
  templates: 0,
  instances: 0,
  generatedOnSeveral: 0,
  writes: 0,
  conflicts: 0,
};

const WEIGHTS: [OpKind, number][] = [
  ["recur", 3],
  ["generate", 4],
  ["recur-edit", 3],
  ["recur-clash", 3],
  ["day", 3],
  ["complete", 4],
  ["commit", 1],
  ["task", 1],
  ["edit", 2],
  ["delete", 1],
  ["clash", 2],
  ["race", 1],
  ["sync", 6],
  ["restore", 1],
];

const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.oneof(...WEIGHTS.map(([k, weight]) => ({ arbitrary: fc.constant(k), weight }))),
  device: fc.nat(2),
  pick: fc.oneof(fc.nat(2), fc.nat(1_000)),
  text: fc.string({ maxLength: 6 }),
  advance: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5_000 })),
  arg: fc.nat(5),
});

interface Scenario {
  skews: [number, number, number];
  ops: Op[];
  replica: boolean;
}

const skewArb = fc.constantFrom(-HOUR, -1_000, 0, 0, 1_000, HOUR);
const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  skews: fc.tuple(skewArb, skewArb, skewArb),
  ops: fc.array(opArb, { minLength: 20, maxLength: 50 }),
  replica: fc.boolean(),
});

async function runScenario(scenario: Scenario): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "jdo-prop-recurring-" });
  const time = new FakeTime(T0);
  const server = new MemoryCloud({ migrated: true });
  const clients = [0, 1, 2].map((d) =>
    server.client(scenario.replica ? { replicaPath: join(dir, `replica${d}.db`) } : {})
  );
  const sims = [];
  let world: SyncWorld | undefined;
  try {
    for (let d = 0; d < 3; d++) {
      sims.push(await openSimDevice(dir, `dev${d}`, new SkewedClock(time, scenario.skews[d])));
    }
    world = new SyncWorld(
      sims.map((sim, d) => ({ sim, cloud: clients[d] as CloudStore })),
      (ms) => time.advance(ms),
    );
    for (let i = 0; i < scenario.ops.length; i++) await world.run(scenario.ops[i], i);
    await world.settle();
    const cloudTables: Record<string, Row[]> = {};
    for (const table of SYNCED_TABLES) cloudTables[table] = server.rows(table);
    await world.check(cloudTables);
    assert.deepEqual(
      Object.fromEntries(world.duplicateOccurrences()),
      {},
      "an occurrence became more than one instance",
    );
    totals.scenarios++;
    totals.templates += cloudTables.recurring_commitments.length;
    totals.instances += world.occurrences.size;
    totals.generatedOnSeveral += [...world.generatedBy.values()].filter((s) => s.size > 1).length;
    totals.writes += world.writes.size;
    totals.conflicts += cloudTables._sync_conflicts.length;
  } catch (error) {
    if (world) {
      (error as Error).message += `\n--- log (skews ${scenario.skews.join(", ")}) ---\n` +
        world.log.join("\n");
    }
    throw error;
  } finally {
    for (const sim of sims) sim.close();
    for (const c of clients) c.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

Deno.test("recurring generation on several devices converges, one instance per occurrence (memory cloud)", async () => {
  const started = performance.now();
  await fc.assert(fc.asyncProperty(scenarioArb, runScenario), {
    numRuns: RUNS,
    ...(SEED ? { seed: Number(SEED) } : {}),
    ...(PATH ? { path: PATH } : {}),
    endOnFailure: true,
  });
  const t = totals;
  console.log(
    `  ${t.scenarios} scenarios: ${t.templates} templates, ${t.instances} instances ` +
      `(${t.generatedOnSeveral} generated by more than one device), ${t.writes} writes, ` +
      `${t.conflicts} conflict records, ${Math.round(performance.now() - started)} ms`,
  );
  assert.ok(t.generatedOnSeveral > 0, "some occurrence was generated on two devices");
});
