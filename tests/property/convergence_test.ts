// deno-lint-ignore-file no-console -- tests report what they exercised and how long it took
/**
 * Property: three devices doing random creates, edits of random fields,
 * completes, deletes and restores of lost values, syncing in random orders
 * (with lagging replicas and cut connections on the memory cloud), end up
 * identical to each other and to the cloud, equal to a per-field
 * last-write-wins oracle, with nothing queued, and every value that lost to
 * a concurrent write of the same field, or to a concurrent delete, is in the
 * conflict log with its field and version.
 *
 * JDO_PROPERTY_RUNS=N runs N memory-cloud scenarios (default 100) and N/8
 * against a real sqld (at least 4). A failure prints fast-check's seed and
 * path: JDO_PROPERTY_SEED=S JDO_PROPERTY_PATH=P replays it, and
 * JDO_PROPERTY_SHRINK=1 shrinks it to a minimal case (slow).
 */
import fc from "fast-check";
import { createClient } from "@libsql/client";
import { join } from "node:path";
import type { Row } from "../../src/db/schema.ts";
import type { CloudStore } from "../../src/sync/cloud_store.ts";
import { LibsqlCloud } from "../../src/sync/libsql_cloud.ts";
import { EncryptingCloud } from "../../src/sync/encrypting_cloud.ts";
import { openRow } from "../../src/sync/e2e_envelope.ts";
import { type DataKey, newDataKey } from "../../src/sync/e2e_key.ts";
import { MemoryCloud, type MemoryCloudClient } from "../helpers/memory_cloud.ts";
import {
  FakeTime,
  openSimDevice,
  SkewedClock,
  SYNCED_TABLES,
  tableRows,
} from "../helpers/sim_device.ts";
import { isolatedFetch, startSqld } from "../helpers/sqld.ts";
import { type Op, type OpKind, SyncWorld } from "../helpers/sync_world.ts";

const RUNS = Number(Deno.env.get("JDO_PROPERTY_RUNS") ?? 100);
const SQLD_RUNS = Math.max(4, Math.floor(RUNS / 8));
const SEED = Deno.env.get("JDO_PROPERTY_SEED");
const PATH = Deno.env.get("JDO_PROPERTY_PATH");
const SHRINK = Deno.env.get("JDO_PROPERTY_SHRINK") === "1";
const T0 = Date.UTC(2025, 0, 15, 9);
const HOUR = 3_600_000;

/** Totals over all scenarios, printed so a run shows what it exercised. */
const totals = {
  scenarios: 0,
  writes: 0,
  lost: 0,
  conflicts: 0,
  failedSyncs: 0,
  refused: 0,
  maxSettleRounds: 0,
  engineWrites: 0,
  restored: 0,
};

function summary(): string {
  const t = totals;
  return `${t.scenarios} scenarios: ${t.writes} writes (${t.engineWrites} by the engine), ` +
    `${t.lost} lost to concurrent writes, ` +
    `${t.conflicts} conflict records (${t.restored} restored), ${t.failedSyncs} syncs cut by faults, ${t.refused} refused ` +
    `commands, settled within ${t.maxSettleRounds} sync rounds`;
}

function kindArb(withFaults: boolean): fc.Arbitrary<OpKind> {
  const weighted: [OpKind, number][] = [
    ["commit", 3],
    ["capture", 2],
    ["task", 2],
    ["edit", 6],
    ["complete", 2],
    ["delete", 2],
    ["clash", 2],
    ["race", 2],
    ["sync", 6],
    ["restore", 2],
  ];
  if (withFaults) weighted.push(["fault", 2], ["lag", 2]);
  return fc.oneof(...weighted.map(([k, weight]) => ({ arbitrary: fc.constant(k), weight })));
}

function opArb(withFaults: boolean): fc.Arbitrary<Op> {
  return fc.record({
    kind: kindArb(withFaults),
    device: fc.nat(2),
    // Small picks aim at the same few rows (ordered by id) on every device.
    pick: fc.oneof(fc.nat(2), fc.nat(1_000)),
    text: fc.oneof(fc.string({ maxLength: 6 }), fc.string({ unit: "grapheme", maxLength: 4 })),
    // Often no time passes at all: versions then differ by counter only.
    advance: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5_000 })),
    arg: fc.nat(5),
  });
}

const skewArb = fc.constantFrom(-HOUR, -1_000, 0, 0, 1_000, HOUR);

interface Scenario {
  skews: [number, number, number];
  ops: Op[];
  /** Memory cloud: offer a replica file, so the engine merges set-based as with sqld. */
  replica: boolean;
  /** Rows per table a pull reads straight from the cloud (0: never; small: both paths). */
  quick: number;
}

function scenarioArb(maxOps: number, withFaults: boolean): fc.Arbitrary<Scenario> {
  return fc.record({
    skews: fc.tuple(skewArb, skewArb, skewArb),
    ops: fc.array(opArb(withFaults), { minLength: Math.floor(maxOps / 2), maxLength: maxOps }),
    replica: fc.boolean(),
    quick: fc.constantFrom(0, 2, 500),
  });
}

function params(numRuns: number): fc.Parameters<[Scenario]> {
  return {
    numRuns,
    ...(SEED ? { seed: Number(SEED) } : {}),
    ...(PATH ? { path: PATH } : {}),
    // Shrinking reruns whole scenarios on real databases and takes minutes:
    // only on request (the seed in the failure message replays the case).
    endOnFailure: !SHRINK,
  };
}

/** Runs one scenario; the cloud factory gives each device its handle. */
async function runScenario(
  scenario: Scenario,
  makeClouds: (dir: string) => Promise<{
    clouds: CloudStore[];
    cloudTables(): Promise<Record<string, Row[]>>;
    onFault?: (world: SyncWorld) => (device: number, op: Op) => boolean;
    settle?(world: SyncWorld): void;
    close(): Promise<void>;
  }>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "jdo-prop-" });
  const time = new FakeTime(T0);
  const sims = [];
  const env = await makeClouds(dir);
  let world: SyncWorld | undefined;
  try {
    for (let d = 0; d < 3; d++) {
      sims.push(await openSimDevice(dir, `dev${d}`, new SkewedClock(time, scenario.skews[d])));
    }
    world = new SyncWorld(
      sims.map((sim, d) => ({ sim, cloud: env.clouds[d] })),
      (ms) => time.advance(ms),
    );
    world.onFault = env.onFault?.(world);
    for (let i = 0; i < scenario.ops.length; i++) await world.run(scenario.ops[i], i);
    env.settle?.(world);
    const rounds = await world.settle();
    totals.maxSettleRounds = Math.max(totals.maxSettleRounds, rounds);
    const cloudTables = await env.cloudTables();
    await world.check(cloudTables);
    totals.scenarios++;
    totals.writes += world.writes.size;
    totals.engineWrites += world.engineWrites;
    totals.restored += world.restored;
    totals.lost += world.lostWrites().length;
    totals.conflicts += cloudTables._sync_conflicts.length;
    totals.failedSyncs += world.log.filter((l) => / sync failed: /.test(l)).length;
    totals.refused += world.log.filter((l) => / refused: /.test(l)).length;
  } catch (error) {
    if (world) {
      (error as Error).message += `\n--- log (skews ${scenario.skews.join(", ")}) ---\n` +
        world.log.join("\n");
    }
    throw error;
  } finally {
    for (const sim of sims) sim.close();
    await env.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * With `key`, the cloud is end-to-end encrypted: every device reaches it
 * through the encrypting layer, the cloud holds sealed rows only, and the
 * oracle compares the rows they open to.
 */
async function memoryClouds(dir: string, replica: boolean, quick: number, key?: DataKey) {
  const server = new MemoryCloud({ migrated: true });
  const clients: MemoryCloudClient[] = [0, 1, 2].map((d) =>
    server.client({
      ...(replica ? { replicaPath: join(dir, `replica${d}.db`) } : {}),
      quickPullLimit: quick,
    })
  );
  let clouds: CloudStore[] = clients;
  if (key) {
    const wrapped = clients.map((c) => new EncryptingCloud(c, key));
    await wrapped[0].enable(key);
    for (const w of wrapped) await w.info();
    clouds = wrapped;
  }
  return {
    clouds,
    cloudTables() {
      const out: Record<string, Row[]> = {};
      for (const table of SYNCED_TABLES) {
        out[table] = key
          ? server.rows(`_jdo_rows:${table}`).map((r) => openRow(key, server.cloudId!, table, r))
          : server.rows(table);
        if (key && server.rows(table).length > 0) throw new Error(`plain rows in ${table}`);
      }
      return Promise.resolve(out);
    },
    onFault: (world: SyncWorld) => (device: number, op: Op) => {
      const c = clients[device];
      if (op.kind === "lag") {
        c.setSnapshotLag(op.arg === 0 ? 0 : (latest: number) => (latest * op.arg) % 4);
        return true;
      }
      const fault = op.arg % 4;
      if (fault === 0) c.failNextPush();
      else if (fault === 1) c.failAfterCommit();
      else if (fault === 2) c.failChangesAfter(op.pick % 8);
      else world.crashAfter[device] = 1 + (op.pick % 8);
      return true;
    },
    settle(world: SyncWorld) {
      for (const c of clients) {
        c.clearFaults();
        c.setSnapshotLag(0);
      }
      world.crashAfter.fill(null);
    },
    close() {
      for (const c of clients) c.close();
      return Promise.resolve();
    },
  };
}

Deno.test("sync converges to per-field last-write-wins with a conflict log (memory cloud)", async () => {
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(
      scenarioArb(50, true),
      (scenario) =>
        runScenario(scenario, (dir) => memoryClouds(dir, scenario.replica, scenario.quick)),
    ),
    params(RUNS),
  );
  console.log(`  memory cloud, ${summary()}, ${Math.round(performance.now() - started)} ms`);
});

Deno.test("sync converges the same through the encrypting layer (memory cloud, end-to-end encrypted)", async () => {
  for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] = 0;
  const started = performance.now();
  const key = newDataKey();
  await fc.assert(
    fc.asyncProperty(
      scenarioArb(50, true),
      (scenario) =>
        runScenario(scenario, (dir) => memoryClouds(dir, scenario.replica, scenario.quick, key)),
    ),
    params(Math.max(10, Math.floor(RUNS / 2))),
  );
  console.log(
    `  encrypted memory cloud, ${summary()}, ${Math.round(performance.now() - started)} ms`,
  );
});

Deno.test({
  name: "sync converges to per-field last-write-wins with a conflict log (sqld)",
  // LibsqlCloud's HTTP client keeps keep-alive connections in the global pool.
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] = 0;
    Deno.env.set("RUST_LOG", "off");
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(scenarioArb(30, false), (scenario) =>
        runScenario(scenario, async (dir) => {
          const server = await startSqld();
          const clouds = [0, 1, 2].map((d) =>
            new LibsqlCloud({
              url: server.url,
              token: null,
              replicaDir: join(dir, `replica${d}`),
              requestTimeoutMs: 15_000,
              quickPullLimit: scenario.quick,
            })
          );
          await clouds[0].migrate();
          return {
            clouds,
            async cloudTables() {
              const http = isolatedFetch();
              const client = createClient({ url: server.url, fetch: http.fetch });
              try {
                const out: Record<string, Row[]> = {};
                for (const table of SYNCED_TABLES) out[table] = await tableRows(client, table);
                return out;
              } finally {
                client.close();
                http.close();
              }
            },
            async close() {
              for (const c of clouds) c.close();
              await server[Symbol.asyncDispose]();
            },
          };
        })),
      params(SQLD_RUNS),
    );
    console.log(`  sqld, ${summary()}, ${Math.round(performance.now() - started)} ms`);
  },
});
