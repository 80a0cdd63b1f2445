// deno-lint-ignore-file no-console -- tests report what they exercised and how long it took
/**
 * Soak: crash safety of `jdo sync` at scale. Device A imports 3000
 * commitments; `jdo sync setup` is killed with SIGKILL while it uploads and
 * run again; then `jdo sync now` is started and killed at random moments 25
 * times (local changes in between, one sqld restart in the middle). One clean
 * sync must then leave the cloud, A and a fresh device B with exactly the same
 * ids and versions, no duplicates, nothing pending, and no lock in the way.
 *
 * Runs only with JDO_SOAK=1 (`deno task test:soak`). JDO_SOAK_ROUNDS=N runs
 * N scenarios (default 2); JDO_CRASH_SEED=S replays one; JDO_CRASH_VERBOSE=1
 * prints the transcript as it goes.
 */
import assert from "node:assert/strict";
import { runCrashScenario } from "../helpers/crash_harness.ts";

const SOAK = Deno.env.get("JDO_SOAK") === "1";
const ROUNDS = Number(Deno.env.get("JDO_SOAK_ROUNDS") ?? 2);
const SEED = Deno.env.get("JDO_CRASH_SEED");
const VERBOSE = Deno.env.get("JDO_CRASH_VERBOSE") === "1";

Deno.test({
  name: "sync survives kill -9 during setup and sync, and a cloud restart (soak)",
  ignore: !SOAK,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const report = await runCrashScenario({
        initial: 3_000,
        added: 2_500,
        kills: 25,
        setupKills: 2,
        setupKillDelayMs: [0, 400],
        killDelayMs: [20, 600],
        secondWriter: true,
        seed: SEED ? Number(SEED) + round : undefined,
        log: VERBOSE ? (line) => console.log(line) : undefined,
      });
      console.log(
        `  round ${round + 1}/${ROUNDS}, seed ${report.seed}: ${report.setupKilled} setups and ` +
          `${report.killed} syncs killed (${report.killedMidPush} mid-push), ` +
          `${report.finishedBeforeKill} finished first, stale lock ${
            report.staleLockLeftByKill ? "left by a kill" : "planted"
          }, final sync tries ${report.finalTries}, ${report.rows.commitments} commitments, ` +
          `${report.ms} ms`,
      );
      assert.ok(report.rows.commitments >= 3_000);
    }
  },
});
