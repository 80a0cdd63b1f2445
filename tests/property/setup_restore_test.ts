// deno-lint-ignore-file no-console -- the test reports what it exercised
/**
 * Property (issue 18.12): over random sequences of user actions on devices
 * sharing one sqld — commits and edits, setup re-runs with and without
 * upload, disable and re-enable, backups and restores, repairs, outages and
 * syncs cut in the middle — run as jdo commands (in process):
 * - no change the cloud lacks is ever dropped: every value a user wrote is,
 *   at the end, the row's value or a lost value in the conflict log, unless
 *   the same device overwrote it knowingly (it held that value when it edited);
 * - a restore makes every syncing device look like the backup;
 * - all devices converge.
 *
 * JDO_SETUP_PROPERTY_RUNS=N scenarios (default 3; the soak task runs 60).
 * A failure prints fast-check's seed: JDO_PROPERTY_SEED=S replays it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import { startSqld } from "../helpers/sqld.ts";
import { type FaultProxy, startFaultProxy } from "../helpers/fault_proxy.ts";
import { type InProcessJdo, inProcessJdo, type InProcessResult } from "../helpers/in_process.ts";

const RUNS = Number(Deno.env.get("JDO_SETUP_PROPERTY_RUNS") ?? 3);
const SEED = Deno.env.get("JDO_PROPERTY_SEED");
const DEVICES = 2;
const T0 = Date.UTC(2030, 0, 15, 9);

type Kind =
  | "commit"
  | "edit"
  | "sync"
  | "rerun"
  | "rerun-no-upload"
  | "disable"
  | "backup"
  | "restore"
  | "repair"
  | "outage"
  | "cut";

interface Action {
  kind: Kind;
  device: number;
  pick: number;
}

const KINDS: [Kind, number][] = [
  ["commit", 4],
  ["edit", 5],
  ["sync", 5],
  ["rerun", 1],
  ["rerun-no-upload", 2],
  ["disable", 1],
  ["backup", 3],
  ["restore", 3],
  ["repair", 1],
  ["outage", 2],
  ["cut", 1],
];

const actionArb: fc.Arbitrary<Action> = fc.record({
  kind: fc.oneof(...KINDS.map(([k, weight]) => ({ arbitrary: fc.constant(k), weight }))),
  device: fc.nat(DEVICES - 1),
  pick: fc.nat(50),
});

interface Listed {
  id: string;
  deliverable: string;
}

interface Conflict {
  id: string;
  field: string | null;
  kind: string;
  lost: Record<string, unknown> | null;
}

/** A value a user wrote: the row, the deliverable text, and whether its device overwrote it knowingly. */
interface Written {
  id: string;
  value: string;
  superseded: boolean;
}

const totals = { scenarios: 0, actions: 0, writes: 0, restores: 0, refused: 0, failed: 0 };

class World {
  readonly written: Written[] = [];
  readonly backups: { path: string; rows: Map<string, string> }[][] = [];
  readonly enabled: boolean[] = [];
  #time = T0;
  #n = 0;
  down = false;
  readonly log: string[] = [];

  constructor(
    readonly devices: InProcessJdo[],
    readonly proxy: FaultProxy,
    readonly token: string,
  ) {
    for (let d = 0; d < devices.length; d++) {
      this.backups.push([]);
      this.enabled.push(false);
    }
  }

  /** One shared clock: every device's time moves together. */
  tick(): void {
    this.#time += 1_000;
    for (const dev of this.devices) dev.clock.set(this.#time);
  }

  async run(d: number, args: string[], stdin?: string): Promise<InProcessResult> {
    const r = await this.devices[d].run(args, { stdin, env: { JDO_KEYRING: "0" } });
    this.log.push(`dev${d} ${args.join(" ")} → ${r.code}${r.code ? ` ${r.stderr.trim()}` : ""}`);
    assert.ok(
      !/Unexpected error|^\s+at /m.test(r.stderr),
      `dev${d} ${args.join(" ")}: ${r.stderr}`,
    );
    return r;
  }

  async live(d: number): Promise<Map<string, string>> {
    const r = await this.run(d, ["list", "--all", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    return new Map((JSON.parse(r.stdout) as Listed[]).map((x) => [x.id, x.deliverable]));
  }

  async setup(d: number, extra: string[]): Promise<InProcessResult> {
    const r = await this.run(
      d,
      ["sync", "setup", "--url", this.proxy.url, "--token-stdin", "--yes", "--no-backup", ...extra],
      `${this.token}\n`,
    );
    if (r.code === 0) this.enabled[d] = true;
    return r;
  }

  async act(a: Action): Promise<void> {
    this.tick();
    totals.actions++;
    const d = a.device;
    const text = `v${++this.#n}`;
    switch (a.kind) {
      case "commit": {
        const r = await this.run(d, [
          "commit",
          text,
          "--to",
          "Ann",
          "--due",
          "2031-03-14",
          "--json",
        ]);
        assert.equal(r.code, 0, r.stderr);
        this.written.push({ id: JSON.parse(r.stdout).id, value: text, superseded: false });
        totals.writes++;
        return;
      }
      case "edit": {
        const live = [...(await this.live(d)).entries()].sort();
        if (live.length === 0) return;
        const [id, current] = live[a.pick % live.length];
        // What this device held is overwritten knowingly.
        for (const w of this.written) if (w.id === id && w.value === current) w.superseded = true;
        const r = await this.run(d, ["edit", id, "--deliverable", text]);
        assert.equal(r.code, 0, r.stderr);
        this.written.push({ id, value: text, superseded: false });
        totals.writes++;
        return;
      }
      case "sync":
      case "cut": {
        if (!this.enabled[d]) return;
        if (a.kind === "cut") this.proxy.cutAfterBytes(200 + a.pick * 97);
        const r = await this.run(d, ["sync", "now"]);
        this.proxy.cutAfterBytes(Number.MAX_SAFE_INTEGER);
        if (r.code !== 0) totals.failed++;
        // A network failure (an outage, a cut) exits 3 or, mid-replication, 1.
        assert.ok(r.code === 0 || r.code === 3 || (r.code === 1 && this.#faulty(a)), r.stderr);
        return;
      }
      case "rerun":
      case "rerun-no-upload": {
        const before = await this.live(d);
        const r = await this.setup(d, a.kind === "rerun" ? [] : ["--no-upload"]);
        // Refused (no data dropped) or unreachable; never anything else.
        assert.ok([0, 2, 3].includes(r.code) || (r.code === 1 && this.down), r.stderr);
        if (r.code === 2) {
          totals.refused++;
          assert.match(r.stderr, /--discard-local/);
        }
        if (r.code !== 0) {
          assert.deepEqual(await this.live(d), before, "a failed setup changed data");
        }
        return;
      }
      case "disable": {
        const r = await this.run(d, ["sync", "disable", "--yes"]);
        assert.equal(r.code, 0, r.stderr);
        this.enabled[d] = false;
        return;
      }
      case "backup": {
        const path = join(this.devices[d].root, `backup-${this.#n}.db`);
        const r = await this.run(d, ["db", "backup", "--out", path]);
        assert.equal(r.code, 0, r.stderr);
        this.backups[d].push({ path, rows: await this.live(d) });
        return;
      }
      case "restore": {
        const list = this.backups[d];
        if (list.length === 0) return;
        const backup = list[a.pick % list.length];
        const r = await this.run(d, ["db", "restore", backup.path, "--yes"]);
        assert.equal(r.code, 0, r.stderr);
        totals.restores++;
        if (!this.enabled[d]) return;
        // With the network up, every syncing device comes to look like the backup.
        const wasDown = this.down;
        this.setDown(false);
        await this.settle(false);
        for (let e = 0; e < this.devices.length; e++) {
          if (!this.enabled[e]) continue;
          assert.deepEqual(
            [...(await this.live(e)).entries()].sort(),
            [...backup.rows.entries()].sort(),
            `dev${e} after dev${d} restored ${backup.path}`,
          );
        }
        this.setDown(wasDown);
        return;
      }
      case "repair": {
        if (!this.enabled[d]) return;
        const r = await this.run(d, ["sync", "repair", "--yes"]);
        assert.ok(r.code === 0 || r.code === 3 || (r.code === 1 && this.down), r.stderr);
        return;
      }
      case "outage":
        this.setDown(!this.down);
        return;
    }
  }

  #faulty(a: Action): boolean {
    return this.down || a.kind === "cut";
  }

  setDown(down: boolean): void {
    this.down = down;
    this.proxy.setMode(down ? "refuse" : "pass");
    this.proxy.cutAll();
  }

  /** Syncs every enabled device (all of them with `enableAll`) until nothing moves. */
  async settle(enableAll: boolean): Promise<void> {
    if (enableAll) {
      for (let d = 0; d < this.devices.length; d++) {
        if (this.enabled[d]) continue;
        const r = await this.setup(d, ["--upload"]);
        assert.equal(r.code, 0, r.stderr);
      }
    }
    for (let round = 0; round < 3; round++) {
      for (let d = 0; d < this.devices.length; d++) {
        if (!this.enabled[d]) continue;
        this.tick();
        const r = await this.run(d, ["sync", "now"]);
        assert.equal(r.code, 0, r.stderr);
      }
    }
  }

  async check(): Promise<void> {
    this.setDown(false);
    await this.settle(true);
    const finals = [];
    for (let d = 0; d < this.devices.length; d++) finals.push(await this.live(d));
    for (let d = 1; d < finals.length; d++) {
      assert.deepEqual(
        [...finals[d].entries()].sort(),
        [...finals[0].entries()].sort(),
        "converge",
      );
    }
    const r = await this.run(0, ["sync", "conflicts", "--all", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const conflicts = JSON.parse(r.stdout) as Conflict[];
    for (const w of this.written) {
      if (w.superseded || finals[0].get(w.id) === w.value) continue;
      const logged = conflicts.some((c) =>
        c.id === w.id &&
        ((c.field === "deliverable" && c.lost?.deliverable === w.value) ||
          (c.kind === "delete" && c.field === "deleted_at"))
      );
      assert.ok(logged, `dropped: ${w.id} "${w.value}" is neither current nor in the conflict log`);
    }
  }
}

async function scenario(actions: Action[]): Promise<void> {
  await using server = await startSqld({ auth: true });
  await using proxy = await startFaultProxy(server.port);
  const devices: InProcessJdo[] = [];
  try {
    for (let d = 0; d < DEVICES; d++) devices.push(await inProcessJdo(new Date(T0)));
    const world = new World(devices, proxy, await server.token("rw"));
    try {
      world.tick();
      // Each device starts with a little data of its own, then joins.
      for (let d = 0; d < DEVICES; d++) {
        await world.act({ kind: "commit", device: d, pick: 0 });
        // A backup from before the device ever synced can be restored too.
        if (d === 0) await world.act({ kind: "backup", device: d, pick: 0 });
        assert.equal((await world.setup(d, [])).code, 0);
      }
      for (const a of actions) await world.act(a);
      await world.check();
    } catch (error) {
      console.error(world.log.slice(-40).join("\n"));
      throw error;
    }
    totals.scenarios++;
  } finally {
    for (const dev of devices) await dev[Symbol.asyncDispose]();
  }
}

Deno.test({
  name:
    "setup re-runs, disable, restore, repair, outages and cut syncs never drop a change; restore makes every device look like the backup; devices converge (sqld)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    Deno.env.set("RUST_LOG", "off");
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(fc.array(actionArb, { minLength: 8, maxLength: 16 }), scenario),
      { numRuns: RUNS, endOnFailure: true, ...(SEED ? { seed: Number(SEED) } : {}) },
    );
    const t = totals;
    console.log(
      `  ${t.scenarios} scenarios, ${t.actions} actions: ${t.writes} writes, ${t.restores} restores, ` +
        `${t.refused} setups refused, ${t.failed} syncs failed; ${
          Math.round(performance.now() - started)
        } ms`,
    );
  },
});
