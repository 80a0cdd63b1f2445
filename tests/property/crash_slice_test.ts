// deno-lint-ignore-file no-console -- tests report what they exercised and how long it took
/**
 * A small slice of tests/soak/crash_test.ts that runs in the normal suite:
 * 600 commitments, `sync setup` killed once, `jdo sync now` killed with SIGKILL
 * twelve times at random moments (with local changes in between, a second
 * device writing and syncing meanwhile, and one sqld restart), then one
 * clean sync converges: cloud = device A = a fresh device B, nothing pending,
 * no duplicates, and the lock of a killed sync does not block.
 *
 * JDO_CRASH_SEED=S replays the random choices of a run (kill timing still
 * depends on the machine); JDO_CRASH_VERBOSE=1 prints the transcript.
 */
import assert from "node:assert/strict";
import { runCrashScenario } from "../helpers/crash_harness.ts";

const SEED = Deno.env.get("JDO_CRASH_SEED");
const VERBOSE = Deno.env.get("JDO_CRASH_VERBOSE") === "1";

Deno.test({
  name: "sync survives kill -9 at random moments and a cloud restart (slice)",
  // The harness's HTTP clients and sqld children are closed, but sqld's
  // restart leaves keep-alive sockets the sanitizer may count.
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const report = await runCrashScenario({
      initial: 600,
      added: 1_200,
      kills: 12,
      setupKills: 1,
      setupKillDelayMs: [0, 250],
      secondWriter: true,
      killDelayMs: [20, 400],
      seed: SEED ? Number(SEED) : undefined,
      log: VERBOSE ? (line) => console.log(line) : undefined,
    });
    console.log(
      `  seed ${report.seed}: ${report.setupKilled} setup and ${report.killed} syncs killed ` +
        `(${report.killedMidPush} mid-push), ${report.finishedBeforeKill} finished ` +
        `first, stale lock ${report.staleLockLeftByKill ? "left by a kill" : "planted"}, ` +
        `${report.rows.commitments} commitments, ${report.ms} ms`,
    );
    assert.ok(report.rows.commitments >= 600);
  },
});
