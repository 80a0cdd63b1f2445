// deno-lint-ignore-file no-console -- the soak reports the seed and what it exercised
/**
 * Soak: `sync key rotate` and `sync encrypt off` / `on` while another device
 * keeps writing and syncing at the same moment (and, at random, the switch
 * killed at one of its steps and run again). Whatever interleaving the race
 * takes, once the switch is finished and the other device has the key, both
 * devices hold every commitment either wrote, and an encrypted cloud holds no
 * plain row and none of the users' text. While encryption is turned off, a
 * new device joins too: its setup succeeds or fails cleanly, and once run
 * again (if it failed) and synced it holds every commitment as well.
 *
 * Runs only with JDO_SOAK=1. JDO_SOAK_ROUNDS=N runs N switches (default 6);
 * JDO_SWITCH_SEED=S replays one sequence.
 */
import assert from "node:assert/strict";
import { startSqld } from "../helpers/sqld.ts";
import {
  type Device,
  device,
  encryptedSetup,
  type Row,
  setup,
  writePhrase,
} from "../helpers/device.ts";
import { cloudText, plainRows } from "../helpers/cloud_scan.ts";

const SOAK = Deno.env.get("JDO_SOAK") === "1";
const ROUNDS = Number(Deno.env.get("JDO_SOAK_ROUNDS") ?? 6);
const SEED = Number(
  Deno.env.get("JDO_SWITCH_SEED") ?? crypto.getRandomValues(new Uint32Array(1))[0],
);
const MARKER = "Rambutan-c3f0-private";

/** mulberry32: a small seeded generator, so a failing sequence can be replayed. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function titles(dev: Device): Promise<string[]> {
  const rows = await dev.json<Row[]>(["list", "commitments", "--all", "--json"]);
  return rows.map((r) => String(r.deliverable)).sort();
}

Deno.test({
  name: "encryption switches racing with another device's syncs lose nothing (soak)",
  ignore: !SOAK,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const random = generator(SEED);
    console.log(`  seed ${SEED} (JDO_SWITCH_SEED=${SEED} replays it)`);
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using laptop = await device("laptop");
    await using desktop = await device("desktop");
    await encryptedSetup(laptop, server.url, token);
    const phrase = async () => (await laptop.ok(["sync", "key", "show", "--yes"])).stdout.trim();
    const keyFile = await writePhrase(desktop, await phrase());
    const joined = await setup(desktop, server.url, token, ["--no-backup", "--key-file", keyFile]);
    assert.equal(joined.code, 0, joined.stderr);

    const expected: string[] = [];
    let n = 0;
    const commit = async (dev: Device) => {
      const title = `${dev.name} ${n++} ${MARKER}`;
      await dev.ok(["commit", title, "--to", "Alice", "--due", "2027-05-01"]);
      expected.push(title);
    };
    for (let i = 0; i < 5; i++) await commit(laptop);
    await laptop.ok(["sync", "now"]);

    /** The switch on the laptop (killed at a random step first, sometimes) while the desktop writes and syncs. */
    const race = async (args: string[], steps: number) => {
      const crash = random() < 0.5 ? 1 + Math.floor(random() * steps) : undefined;
      const syncs = 1 + Math.floor(random() * 4);
      let done = false;
      const desktopSide = (async () => {
        for (let i = 0; i < syncs || !done; i++) {
          await commit(desktop);
          await desktop.run(["sync", "now"]); // pushed, refused or paused
          if (i > 20) break;
        }
      })();
      const laptopSide = (async () => {
        await commit(laptop);
        if (crash !== undefined) {
          await laptop.run(args, { env: { JDO_TEST_SWITCH_CRASH: String(crash) } });
          await commit(laptop);
        }
        // Other devices writing can make a run stop short; it finishes when run again.
        for (let tries = 0;; tries++) {
          const r = await laptop.run(args);
          if (r.code === 0) break;
          assert.ok(tries < 8, `${args.join(" ")}: ${r.stderr}`);
        }
        done = true;
      })();
      // A device joining with the key while encryption is being turned off.
      const joinerSide = (async () => {
        if (args[2] !== "off") return undefined;
        const joiner = await device(`joiner${n}`);
        const key = await writePhrase(joiner, await phrase());
        await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 300)));
        const first = await setup(joiner, server.url, token, ["--no-backup", "--key-file", key]);
        return { joiner, first };
      })();
      const [, , joined] = await Promise.all([laptopSide, desktopSide, joinerSide]);
      console.log(
        `  ${args.slice(1).join(" ")}: killed at ${crash ?? "-"}, ${syncs}+ desktop syncs${
          joined ? `, a device joined (exit ${joined.first.code})` : ""
        }`,
      );
      return joined;
    };

    let encrypted = true;
    for (let round = 0; round < ROUNDS; round++) {
      if (encrypted && random() < 0.5) {
        await race(["sync", "key", "rotate", "--yes"], 6);
      } else if (encrypted) {
        const joined = await race(["sync", "encrypt", "off", "--yes"], 6);
        encrypted = false;
        if (joined) {
          const { joiner, first } = joined;
          try {
            // Refused or failed: nothing was saved, and running it again works.
            if (first.code !== 0) {
              const again = await setup(joiner, server.url, token, ["--no-backup"]);
              assert.equal(again.code, 0, `${first.stderr}\n${again.stderr}`);
            }
            await desktop.ok(["sync", "now"]);
            await laptop.ok(["sync", "now"]);
            await joiner.ok(["sync", "now"]);
            assert.deepEqual(await titles(joiner), [...expected].sort(), `round ${round}: joiner`);
          } finally {
            await joiner[Symbol.asyncDispose]();
          }
        }
      } else {
        await race(["sync", "encrypt", "on", "--yes"], 8);
        encrypted = true;
      }
      if (encrypted) {
        await writePhrase(desktop, await phrase());
        await desktop.ok(["sync", "key", "import", "--key-file", keyFile]);
      }
      for (const d of [desktop, laptop, desktop]) await d.ok(["sync", "now"]);
      const want = [...expected].sort();
      assert.deepEqual(await titles(laptop), want, `round ${round}: laptop`);
      assert.deepEqual(await titles(desktop), want, `round ${round}: desktop`);
      if (encrypted) {
        assert.equal(await plainRows(server.url, token), 0, `round ${round}: plain rows`);
        assert.ok(!(await cloudText(server.url, token)).includes(MARKER), `round ${round}`);
      }
    }
  },
});
