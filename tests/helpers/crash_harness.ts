/**
 * Crash-safety scenario for `jdo sync`: device A imports commitments, sets up
 * sync against a real sqld, then `jdo sync now` is started and killed with
 * SIGKILL at random moments again and again (with local changes in between
 * and one sqld restart in the middle), optionally while a second device C
 * writes and syncs too. Afterwards one clean sync must leave
 * the cloud, device A and a fresh device B with exactly the same rows, no
 * duplicates and nothing pending, and a lock left by a killed sync must not
 * block it.
 *
 * Used by tests/soak/crash_test.ts (large) and
 * tests/property/crash_slice_test.ts (a small slice in the normal suite).
 */
import assert from "node:assert/strict";
import { type Client, createClient } from "@libsql/client";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { queryRows } from "../../src/db/database.ts";
import { isolatedFetch, type SqldServer, startSqld } from "./sqld.ts";
import { rng } from "./rng.ts";
import { jdoTestEnv } from "./cli.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = join(REPO_ROOT, "main.ts");

export const SYNCED_TABLES = [
  "stakeholders",
  "visions",
  "goals",
  "milestones",
  "commitments",
  "tasks",
  "inbox_items",
  "_sync_conflicts",
];

export interface CrashOptions {
  /** Commitments imported before sync is set up. */
  initial: number;
  /** Kill-and-restart rounds of `jdo sync now`. */
  kills: number;
  /** Commitments imported (in batches) between kills, in total. */
  added: number;
  /** How many times `sync setup` itself is killed before it may finish. */
  setupKills: number;
  /**
   * Kill `sync now` after a random delay in [min, max] ms from its start
   * (half of the kills; the others aim inside a typical sync's duration).
   */
  killDelayMs: [number, number];
  /**
   * Kill `sync setup` after a random delay in [min, max] ms after it said
   * "Connected" (when its upload starts); max shrinks when setups finish first.
   */
  setupKillDelayMs?: [number, number];
  /**
   * A second device C that captures items and edits commitment notes and
   * syncs (never killed) while A's syncs run, so A's killed syncs also pull
   * and merge remote rows and meet conflicts.
   */
  secondWriter?: boolean;
  seed?: number;
  /** Progress lines (the full transcript is attached to a failure). */
  log?: (line: string) => void;
}

export interface CrashReport {
  seed: number;
  killed: number;
  /** Kills that left the outbox partly pushed (some chunks sent, some not). */
  killedMidPush: number;
  /** Syncs that finished before their kill came. */
  finishedBeforeKill: number;
  setupKilled: number;
  /** Whether a lock file of a killed sync was left for the final sync to take over. */
  staleLockLeftByKill: boolean;
  finalTries: number;
  rows: Record<string, number>;
  ms: number;
}

export interface Outcome {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface Running {
  /** Resolves when the process has exited and was reaped. */
  done: Promise<Outcome>;
  finished(): boolean;
  /** Resolves true once stderr matches, false if the process ends first. */
  stderrMatches(re: RegExp): Promise<boolean>;
  kill(): void;
}

async function pump(stream: ReadableStream<Uint8Array>, onText: (text: string) => void) {
  const decoder = new TextDecoder();
  for await (const chunk of stream) onText(decoder.decode(chunk, { stream: true }));
}

/** Starts `jdo ARGS…` (from source) with a private JDO_HOME. */
export function spawnJdo(home: string, args: string[], stdin?: string): Running {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, ...args],
    cwd: REPO_ROOT,
    env: jdoTestEnv(home),
    clearEnv: true,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let exited = false;
  let stdout = "";
  let stderr = "";
  const waiters: { re: RegExp; resolve: (hit: boolean) => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (w.re.test(stderr)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(true);
      }
    }
  };
  const done = (async () => {
    if (stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(stdin)).catch(() => {});
      await writer.close().catch(() => {});
    }
    const [status] = await Promise.all([
      child.status.then((s) => {
        exited = true;
        return s;
      }),
      pump(child.stdout, (t) => stdout += t),
      pump(child.stderr, (t) => {
        stderr += t;
        check();
      }),
    ]);
    for (const w of waiters.splice(0)) w.resolve(false);
    return {
      code: status.code,
      signal: status.signal,
      stdout,
      stderr,
      ms: Math.round(performance.now() - started),
    };
  })();
  return {
    done,
    finished: () => exited,
    stderrMatches(re) {
      if (re.test(stderr)) return Promise.resolve(true);
      if (exited) return Promise.resolve(false);
      return new Promise((resolve) => waiters.push({ re, resolve }));
    },
    kill() {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
    },
  };
}

export function runJdo(home: string, args: string[], stdin?: string): Promise<Outcome> {
  return spawnJdo(home, args, stdin).done;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** id → version of every row of every synced table. */
export async function versionsOf(client: Client): Promise<Record<string, Map<string, string>>> {
  const out: Record<string, Map<string, string>> = {};
  for (const table of SYNCED_TABLES) {
    const rows = await queryRows(client, `SELECT id, version FROM ${table}`);
    out[table] = new Map(rows.map((r) => [String(r.id), String(r.version)]));
  }
  return out;
}

/** Every row of every synced table (domain columns only), ordered by id. */
async function fullRows(client: Client): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of SYNCED_TABLES) {
    const rows = await queryRows(client, `SELECT * FROM ${table} ORDER BY id`);
    out[table] = rows.map(({ _seq: _, ...row }) => row);
  }
  return out;
}

async function withFile<T>(path: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = createClient({ url: `file:${path}` });
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

async function withRemote<T>(
  server: SqldServer,
  token: string,
  fn: (c: Client) => Promise<T>,
): Promise<T> {
  const http = isolatedFetch({ timeoutMs: 30_000 });
  const client = createClient({ url: server.url, authToken: token, fetch: http.fetch });
  try {
    return await fn(client);
  } finally {
    client.close();
    http.close();
  }
}

function sameVersions(
  label: string,
  actual: Record<string, Map<string, string>>,
  expected: Record<string, Map<string, string>>,
): void {
  for (const table of SYNCED_TABLES) {
    const a = actual[table];
    const e = expected[table];
    const missing = [...e.keys()].filter((id) => !a.has(id));
    const extra = [...a.keys()].filter((id) => !e.has(id));
    const differ = [...e.keys()].filter((id) => a.has(id) && a.get(id) !== e.get(id));
    assert.ok(
      missing.length === 0 && extra.length === 0 && differ.length === 0,
      `${label} ${table}: ${missing.length} missing, ${extra.length} extra, ` +
        `${differ.length} with another version (e.g. ${
          [...missing, ...extra, ...differ].slice(0, 3).join(", ")
        })`,
    );
  }
}

interface Item {
  id?: string;
  deliverable: string;
  stakeholder: string;
  due_date: string;
}

function items(from: number, count: number, random: () => number): Item[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    const item: Item = {
      deliverable: `Deliverable ${i}`,
      stakeholder: `Person ${i % 11}`,
      due_date: `2025-${String(1 + (i % 12)).padStart(2, "0")}-${
        String(1 + (i % 28)).padStart(2, "0")
      }`,
    };
    if (random() < 0.5) item.id = crypto.randomUUID();
    return item;
  });
}

export async function runCrashScenario(options: CrashOptions): Promise<CrashReport> {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = rng(seed);
  const between = (lo: number, hi: number) => Math.floor(lo + random() * (hi - lo + 1));
  const started = performance.now();
  const transcript: string[] = [];
  const note = (line: string) => {
    const stamped = `[${((performance.now() - started) / 1000).toFixed(1)}s] ${line}`;
    transcript.push(stamped);
    options.log?.(stamped);
  };
  const report: CrashReport = {
    seed,
    killed: 0,
    killedMidPush: 0,
    finishedBeforeKill: 0,
    setupKilled: 0,
    staleLockLeftByKill: false,
    finalTries: 0,
    rows: {},
    ms: 0,
  };

  const root = await Deno.makeTempDir({ prefix: "jdo-crash-" });
  const homeA = join(root, "a");
  const homeB = join(root, "b");
  const homeC = join(root, "c");
  const server = await startSqld({ auth: true });
  const token = await server.token("rw");
  const setupArgs = ["sync", "setup", "--url", server.url, "--token-stdin", "--yes"];
  const mustSucceed = async (home: string, args: string[], stdin?: string) => {
    const out = await runJdo(home, args, stdin);
    note(`${args.slice(0, 2).join(" ")} → ${out.code} (${out.ms} ms)`);
    assert.equal(
      out.code,
      0,
      `jdo ${args.join(" ")} exited ${out.code}\nstdout: ${out.stdout}\nstderr: ${out.stderr}`,
    );
    return out;
  };
  /** Half the picks go to a few "hot" rows, so A and C edit the same rows: conflicts. */
  const pickId = (ids: string[]) =>
    random() < 0.5
      ? ids[between(0, Math.min(ids.length, 12) - 1)]
      : ids[between(0, ids.length - 1)];
  const syncUntilOk = async (home: string, name: string) => {
    let out: Outcome | undefined;
    for (let tries = 1; tries <= 3 && out?.code !== 0; tries++) {
      out = await runJdo(home, ["sync", "now"]);
      note(`${name}: sync now → ${out.code} (${out.ms} ms)`);
    }
    assert.equal(out?.code, 0, `${name}: sync now failed three times: ${out?.stderr}`);
  };
  let next = 0;
  const importBatch = async (count: number) => {
    const file = join(root, `import-${next}.json`);
    await Deno.writeTextFile(file, JSON.stringify(items(next, count, random)));
    next += count;
    await mustSucceed(homeA, ["import", file]);
  };
  const liveIds = (sql: string) =>
    withFile(
      join(homeA, "jdo.db"),
      async (c) => (await queryRows(c, sql)).map((r) => String(r.id)),
    );
  const deleted = new Set<string>();
  /** Commitments C edited: their deleted state is up to last-write-wins. */
  const touchedByC = new Set<string>();

  try {
    note(`seed ${seed}; sqld at ${server.url}`);
    await importBatch(options.initial);

    // Setup, killed while it uploads (it says "Connected" just before), then
    // run again to completion. A setup that finished before its kill came
    // narrows the window for the next try.
    let hi = options.setupKillDelayMs?.[1] ?? 300;
    for (
      let tries = 0;
      report.setupKilled < options.setupKills && tries < 3 * options.setupKills;
      tries++
    ) {
      const run = spawnJdo(homeA, [...setupArgs, "--no-backup"], `${token}\n`);
      const t0 = performance.now();
      await run.stderrMatches(/Connected to/);
      const connectedMs = Math.round(performance.now() - t0);
      await sleep(between(0, hi));
      const wasDone = run.finished();
      run.kill();
      const out = await run.done;
      if (!wasDone) report.setupKilled++;
      else hi = Math.max(10, Math.round((out.ms - connectedMs) * 0.9));
      note(
        `sync setup killed=${!wasDone} ${Math.round(performance.now() - t0) - connectedMs} ms ` +
          `after "Connected" → ${out.code} ${out.signal ?? ""} (${out.ms} ms)`,
      );
    }
    await mustSucceed(homeA, [...setupArgs, "--no-backup"], `${token}\n`);
    if (options.secondWriter) await mustSucceed(homeC, setupArgs, `${token}\n`);

    const restartAt = Math.floor(options.kills / 2);
    /** How long an unkilled `sync now` takes here (median of those seen). */
    let typicalMs = 250;
    const finishedMs: number[] = [];
    const batch = Math.max(1, Math.floor(options.added / Math.max(1, options.kills)));
    for (let i = 0; i < options.kills; i++) {
      // Local changes between kills, so every sync has something to push.
      const r = random();
      if (r < 0.7) await importBatch(between(1, batch * 2));
      if (r < 0.5 || r > 0.85) {
        const ids = await liveIds(
          "SELECT id FROM commitments WHERE deleted_at IS NULL AND status <> 'completed' ORDER BY id",
        );
        if (ids.length > 0) {
          const id = pickId(ids);
          const what = random();
          if (what < 0.5) await mustSucceed(homeA, ["edit", id, "--notes", `note ${i}`]);
          else if (what < 0.8) await mustSucceed(homeA, ["complete", id]);
          else {
            await mustSucceed(homeA, ["delete", id, "--yes"]);
            deleted.add(id);
          }
        }
      }
      if (random() < 0.3) await mustSucceed(homeA, ["capture", `thought ${i}`]);

      const queuedBefore = await withFile(join(homeA, "jdo.db"), async (c) => {
        const rows = await queryRows(c, "SELECT count(*) AS n FROM _sync_outbox");
        return Number(rows[0].n);
      });
      let runC: Running | undefined;
      if (options.secondWriter) {
        if (random() < 0.5) await mustSucceed(homeC, ["capture", `from c ${i}`]);
        const ids = await withFile(
          join(homeC, "jdo.db"),
          async (c) =>
            (await queryRows(c, "SELECT id FROM commitments WHERE deleted_at IS NULL ORDER BY id"))
              .map((r) => String(r.id)),
        );
        for (let k = between(0, 3); k > 0 && ids.length > 0; k--) {
          const id = pickId(ids);
          touchedByC.add(id);
          await mustSucceed(homeC, ["edit", id, "--notes", `c note ${i}.${k}`]);
        }
      }
      const run = spawnJdo(homeA, ["sync", "now"]);
      if (options.secondWriter) runC = spawnJdo(homeC, ["sync", "now"]);
      if (i === restartAt) {
        await sleep(between(20, 300));
        note("restarting sqld while a sync runs");
        await server.restart();
        note("sqld is back");
      } else if (random() < 0.5) {
        await sleep(between(options.killDelayMs[0], options.killDelayMs[1]));
      } else {
        // Aim inside the sync: after the runtime started, before it usually ends.
        await sleep(between(Math.round(typicalMs * 0.4), typicalMs));
      }
      const wasDone = run.finished();
      run.kill();
      const out = await run.done;
      if (runC) {
        const outC = await runC.done;
        note(`  c: sync now → ${outC.code} (${outC.ms} ms)`);
      }
      if (wasDone && out.code === 0) {
        finishedMs.push(out.ms);
        typicalMs = [...finishedMs].sort((x, y) => x - y)[Math.floor(finishedMs.length / 2)];
      }
      if (wasDone) report.finishedBeforeKill++;
      else report.killed++;
      const queued = await withFile(join(homeA, "jdo.db"), async (c) => {
        const rows = await queryRows(c, "SELECT count(*) AS n FROM _sync_outbox");
        return Number(rows[0].n);
      });
      if (queued < queuedBefore && queued > 0) report.killedMidPush++;
      note(
        `sync now #${i} ${wasDone ? "finished" : "killed"} → ${out.code} ${out.signal ?? ""} ` +
          `(${out.ms} ms), outbox ${queuedBefore} → ${queued}` +
          `${wasDone && out.code !== 0 ? ` ${out.stderr.trim()}` : ""}`,
      );
    }

    // C's changes all reach the cloud before A's last sync.
    if (options.secondWriter) await syncUntilOk(homeC, "c");

    // A lock left behind by a killed sync must be taken over. When the last
    // kill left none, leave one of a process that is certainly dead.
    const lockPath = join(homeA, "sync.lock");
    report.staleLockLeftByKill = await Deno.stat(lockPath).then(() => true, () => false);
    if (!report.staleLockLeftByKill) {
      const dead = new Deno.Command("true").spawn();
      await dead.status;
      await Deno.writeTextFile(lockPath, `${dead.pid} ${Date.now()}\n`);
    }
    note(`stale lock ${report.staleLockLeftByKill ? "left by a killed sync" : "planted"}`);

    let final: Outcome | undefined;
    for (let tries = 1; tries <= 3; tries++) {
      report.finalTries = tries;
      final = await runJdo(homeA, ["sync", "now", "--json"]);
      note(`final sync now try ${tries} → ${final.code} (${final.ms} ms) ${final.stdout.trim()}`);
      assert.doesNotMatch(final.stderr, /Another sync is running/, "a stale lock blocked the sync");
      if (final.code === 0) break;
    }
    assert.equal(final?.code, 0, `the final sync failed three times: ${final?.stderr}`);
    assert.equal(
      await Deno.stat(lockPath).then(() => true, () => false),
      false,
      "sync.lock is left behind after a clean sync",
    );

    const status = JSON.parse((await mustSucceed(homeA, ["sync", "status", "--json"])).stdout);
    assert.equal(status.pending_changes, 0, "A has pending changes after a clean sync");
    assert.equal(status.last_result, "ok");

    const a = await withFile(join(homeA, "jdo.db"), async (c) => {
      const outbox = await queryRows(c, "SELECT count(*) AS n FROM _sync_outbox");
      assert.equal(Number(outbox[0].n), 0, "A's outbox (conflict rows included) is not empty");
      return { versions: await versionsOf(c), rows: await fullRows(c) };
    });
    const cloud = await withRemote(server, token, async (c) => {
      for (const table of SYNCED_TABLES) {
        const dup = await queryRows(
          c,
          `SELECT id, count(*) AS n FROM ${table} GROUP BY id HAVING n > 1`,
        );
        assert.equal(dup.length, 0, `cloud ${table} has duplicate ids`);
      }
      return await versionsOf(c);
    });
    sameVersions("cloud vs A:", cloud, a.versions);

    // No commitment was lost or doubled: exactly one row per imported
    // deliverable, live unless it was deleted.
    const commitments = a.rows.commitments as {
      id: string;
      deliverable: string;
      deleted_at: unknown;
    }[];
    const byDeliverable = new Map<string, number>();
    for (const c of commitments) {
      byDeliverable.set(c.deliverable, (byDeliverable.get(c.deliverable) ?? 0) + 1);
    }
    assert.equal(commitments.length, next, "A does not hold exactly the imported commitments");
    for (let i = 0; i < next; i++) {
      assert.equal(byDeliverable.get(`Deliverable ${i}`), 1, `Deliverable ${i} is not there once`);
    }
    for (const c of commitments) {
      if (touchedByC.has(c.id)) continue;
      assert.equal(c.deleted_at !== null, deleted.has(c.id), `commitment ${c.id} deleted state`);
    }

    // A fresh second device ends up with exactly the same rows.
    await mustSucceed(homeB, setupArgs, `${token}\n`);
    const b = await withFile(join(homeB, "jdo.db"), async (c) => {
      const outbox = await queryRows(c, "SELECT count(*) AS n FROM _sync_outbox");
      assert.equal(Number(outbox[0].n), 0, "B's outbox is not empty");
      return { versions: await versionsOf(c), rows: await fullRows(c) };
    });
    sameVersions("B vs cloud:", b.versions, cloud);
    assert.deepEqual(b.rows, a.rows, "B's rows differ from A's");
    const statusB = JSON.parse((await mustSucceed(homeB, ["sync", "status", "--json"])).stdout);
    assert.equal(statusB.pending_changes, 0);

    // And A, syncing once more, has nothing to do.
    const again = JSON.parse((await mustSucceed(homeA, ["sync", "now", "--json"])).stdout);
    assert.equal(again.pushed, 0);
    assert.equal(again.conflicts, 0);

    // C, syncing once more, holds the same rows too.
    if (options.secondWriter) {
      await syncUntilOk(homeC, "c");
      const c = await withFile(join(homeC, "jdo.db"), (c) => fullRows(c));
      assert.deepEqual(c, a.rows, "C's rows differ from A's");
    }

    for (const table of SYNCED_TABLES) report.rows[table] = a.versions[table].size;
    report.ms = Math.round(performance.now() - started);
    note(`done: ${JSON.stringify(report)}`);
    return report;
  } catch (error) {
    (error as Error).message += `\n--- crash scenario transcript (seed ${seed}) ---\n` +
      transcript.join("\n");
    throw error;
  } finally {
    await server[Symbol.asyncDispose]();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}
