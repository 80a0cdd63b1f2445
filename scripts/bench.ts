// deno-lint-ignore-file no-console
/**
 * jdo benchmarks (`deno task bench`). Starts its own sqld, runs jdo as a user
 * does (`deno run -A --quiet <the binary's V8 flags> main.ts …`, temp JDO_HOME, JDO_TIMEZONE=UTC) and
 * compares it with minimal @libsql/client programs doing the same job.
 *
 * Rows:
 *   0  `jdo list --json`, 1,000 commitments, vs a minimal script selecting the same rows
 *   1  first upload (`jdo sync now` after import) vs the best-effort insert: the same rows
 *      sorted by id, one multi-row `INSERT … SELECT FROM json_each(?)` per request, with
 *      the chunk size that was fastest in a calibration pass (--upload-chunks)
 *   2  download to a new device (`jdo sync setup` on an empty home) vs a bare embedded
 *      replica sync() (no row read into JavaScript)
 *   3  incremental sync of one changed row (push on the editing device, pull on the other)
 *   4  `jdo list --json` and `jdo commit` with sync enabled vs disabled (same data)
 *   5  peak RSS of the largest upload, download and import (and, with --big, of every
 *      local command at 1,000,000 rows)
 *   6  local commands on a large database vs a small one (dashboard, commit, show, edit,
 *      complete, integrity, list --json, export): wall time, and peak RSS for list/export
 *
 * jdo and its baseline (or the two sizes of row 6) run alternately, ABAB…, so drift on a
 * shared machine hits both.
 *
 * Flags: --quick (sizes 1000,5000; local 1000,10000; 1 run), --sizes 10000,100000,
 * --local-sizes 1000,100000, --runs 3, --big-runs 2 (runs for sizes >= 50,000),
 * --latency-runs 11, --local-runs 5, --upload-chunks 1000,5000,10000,20000,
 * --big (adds 1,000,000 rows to upload/download and the peak-RSS rows; not in the default run),
 * --only list,upload,download,incremental,latency,memory,local, --json-out FILE.
 * --startup runs the start-up pairs instead (scripts/bench_startup.ts).
 */
import { parseArgs } from "node:util";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { sqldBinaryPath, type SqldServer, startSqld } from "../tests/helpers/sqld.ts";
import {
  type Dataset,
  finishedSyncs,
  fmtCount,
  fmtMb,
  fmtMs,
  gnuTimePath,
  jdoOk,
  lastLoggedSyncMs,
  makeDataset,
  median,
  type ProcResult,
  removeLimitScripts,
  renderTable,
  runScript,
  STAKEHOLDER_COUNT,
  waitForBackgroundSync,
  writeLimitScripts,
} from "./bench_lib.ts";

// ---------------------------------------------------------------- options

const ROW_NAMES = [
  "list",
  "upload",
  "download",
  "incremental",
  "latency",
  "memory",
  "local",
] as const;
type RowName = typeof ROW_NAMES[number];

// `deno task bench --startup`: the start-up pairs of issue 20 (scripts/bench_startup.ts).
if (Deno.args.includes("--startup")) {
  await (await import("./bench_startup.ts")).benchStartup(Deno.args);
  Deno.exit(0);
}

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    sizes: { type: "string" },
    runs: { type: "string" },
    "big-runs": { type: "string" },
    "latency-runs": { type: "string" },
    "local-runs": { type: "string" },
    "local-sizes": { type: "string" },
    "upload-chunks": { type: "string" },
    big: { type: "boolean", default: false },
    only: { type: "string" },
    "json-out": { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (flags.help) {
  console.log(`Usage: deno task bench [--quick] [--big] [--sizes 10000,100000] [--runs 3]
                  [--big-runs 2] [--latency-runs 11] [--local-sizes 1000,100000] [--local-runs 5]
                  [--upload-chunks 1000,5000,10000,20000]
                  [--only ${ROW_NAMES.join(",")}] [--json-out FILE]`);
  Deno.exit(0);
}

function positive(text: string | undefined, fallback: number, flag: string): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a whole number >= 1`);
  return n;
}

/** The @libsql/client version the project pins (deno.json), printed with the results. */
const LIBSQL_VERSION = String(
  JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url))).imports[
    "@libsql/client"
  ],
).replace(/^npm:@libsql\/client@/, "");

const quick = flags.quick!;
function sizesOf(text: string, flag: string): number[] {
  return text.split(",").map((s) => {
    const n = Number(s.trim().replace(/k$/i, "000").replace(/m$/i, "000000"));
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: bad size "${s}"`);
    return n;
  }).sort((a, b) => a - b);
}
const HUGE = 1_000_000;
const SIZES = [
  ...new Set([
    ...sizesOf(flags.sizes ?? (quick ? "1000,5000" : "10000,100000"), "--sizes"),
    ...(flags.big ? [HUGE] : []),
  ]),
].sort((a, b) => a - b);
const LOCAL_SIZES = sizesOf(
  flags["local-sizes"] ?? (quick ? "1000,10000" : "1000,100000"),
  "--local-sizes",
);
if (LOCAL_SIZES.length !== 2) throw new Error("--local-sizes: give two sizes, small,large");
const LOCAL_RUNS = positive(flags["local-runs"], quick ? 3 : 5, "--local-runs");
const UPLOAD_CHUNKS = sizesOf(flags["upload-chunks"] ?? "1000,5000,10000,20000", "--upload-chunks");
const RUNS = positive(flags.runs, quick ? 1 : 3, "--runs");
const BIG = 50_000;
const BIG_RUNS = Math.min(RUNS, positive(flags["big-runs"], quick ? 1 : 2, "--big-runs"));
const LATENCY_RUNS = positive(flags["latency-runs"], quick ? 3 : 11, "--latency-runs");
const INCREMENTAL_RUNS = quick ? 3 : 7;
const ONLY = new Set<RowName>(
  flags.only
    ? flags.only.split(",").map((s) => {
      const name = s.trim() as RowName;
      if (!ROW_NAMES.includes(name)) throw new Error(`--only: unknown row "${s}"`);
      return name;
    })
    : ROW_NAMES,
);
const wants = (row: RowName) => ONLY.has(row);
const LIST_SIZE = 1_000;
const SMALL = 1_000;
const LARGEST = SIZES[SIZES.length - 1];
const runsFor = (size: number) => size >= BIG ? BIG_RUNS : RUNS;

// ---------------------------------------------------------------- results

interface Result {
  row: string;
  name: string;
  size: number;
  jdo: number;
  limit: number | null;
  /** How jdo and limit are compared. */
  unit: "ms" | "MB";
  goal: string;
  pass: boolean | null;
  runs: number;
  note?: string;
}

const results: Result[] = [];
const details: string[] = [];
const started = performance.now();

function log(message: string) {
  const t = ((performance.now() - started) / 1000).toFixed(0).padStart(4);
  console.error(`[${t}s] ${message}`);
}

function detail(line: string) {
  details.push(line);
  log(line);
}

function ratioGoal(jdo: number, limit: number, max: number): boolean {
  return jdo <= limit * max;
}

// ---------------------------------------------------------------- helpers

async function tempDir(prefix: string): Promise<string> {
  return await Deno.makeTempDir({ prefix: `jdo-bench-${prefix}-` });
}

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.remove(to, { recursive: true }).catch(() => {});
  const out = await new Deno.Command("cp", { args: ["-a", from, to] }).output();
  if (out.code !== 0) throw new Error(`cp -a ${from} ${to} failed`);
}

async function removeAll(paths: string[]): Promise<void> {
  for (const p of paths) await Deno.remove(p, { recursive: true }).catch(() => {});
}

/** Stops sqld, puts back a copy of its data directory, starts it again (same port). */
async function restoreCloud(sqld: SqldServer, snapshot: string): Promise<void> {
  await sqld.stop();
  await copyDir(snapshot, sqld.dbPath);
  await sqld.restart();
}

async function setupSync(home: string, url: string, upload: boolean): Promise<ProcResult> {
  const args = ["sync", "setup", "--url", url, "--token-stdin", "--yes", "--no-backup"];
  if (!upload) args.push("--no-upload");
  return await jdoOk(home, args, { stdin: "x\n" });
}

interface SyncNow {
  proc: ProcResult;
  report: { ok: boolean; pushed: number; pulled: number; duration_ms: number };
}

async function syncNow(home: string): Promise<SyncNow> {
  const proc = await jdoOk(home, ["sync", "now", "--json"]);
  return { proc, report: JSON.parse(proc.stdout) };
}

function expect(condition: boolean, message: string) {
  if (!condition) throw new Error(`benchmark sanity check failed: ${message}`);
}

// ---------------------------------------------------------------- row 0

async function benchList(home: string, scripts: Record<string, string>): Promise<void> {
  const db = join(home, "jdo.db");
  // Warm-up: module caches, page cache.
  await jdoOk(home, ["list", "--json"]);
  await runScript(scripts["limit_list.ts"], [db]);
  const jdo: number[] = [];
  const limit: number[] = [];
  for (let i = 0; i < LATENCY_RUNS; i++) {
    const a = await jdoOk(home, ["list", "--json"]);
    const b = await runScript(scripts["limit_list.ts"], [db]);
    const na = JSON.parse(a.stdout).length, nb = JSON.parse(b.stdout).length;
    expect(na === LIST_SIZE && nb === LIST_SIZE, `list returned ${na} / ${nb} rows`);
    jdo.push(a.wallMs);
    limit.push(b.wallMs);
  }
  const j = median(jdo), l = median(limit);
  results.push({
    row: "0",
    name: "list --json vs minimal script",
    size: LIST_SIZE,
    jdo: j,
    limit: l,
    unit: "ms",
    goal: "<= 1.5x",
    pass: ratioGoal(j, l, 1.5),
    runs: LATENCY_RUNS,
  });
  detail(
    `row 0: jdo list --json ${fmtMs(j)} (min ${fmtMs(Math.min(...jdo))}), minimal script ${
      fmtMs(l)
    } (min ${fmtMs(Math.min(...limit))})`,
  );
}

// ---------------------------------------------------------------- rows 1-3 per size

interface SizeState {
  sqld: SqldServer;
  /** Device A: imported the data and uploaded it. */
  homeA: string;
  /** Device B: downloaded it. */
  homeB: string;
  dataset: Dataset;
  cleanup: string[];
}

async function benchSize(
  size: number,
  scripts: Record<string, string>,
  report: boolean,
): Promise<SizeState> {
  const runs = report ? runsFor(size) : 1;
  const cleanup: string[] = [];
  const sqld = await startSqld();
  const dataset = makeDataset(size);
  const work = await tempDir(`n${size}`);
  cleanup.push(work);
  const input = join(work, "data.json");
  await Deno.writeTextFile(input, dataset.json);

  // Device A: sync set up on an empty home (nothing to upload), then the import.
  const template = join(work, "home-template");
  await Deno.mkdir(template);
  await setupSync(template, sqld.url, false);
  const imported = await jdoOk(template, ["import", input, "--json"]);
  const importedRows = JSON.parse(imported.stdout).imported;
  expect(importedRows === size + STAKEHOLDER_COUNT, `imported ${importedRows}`);
  detail(
    `${fmtCount(size)}: import took ${fmtMs(imported.wallMs)}, peak RSS ${
      fmtMb(imported.peakRssMb)
    } (not a benchmark row; setup before the upload)`,
  );
  // Snapshot of the cloud (schema, no rows) to restore before every upload run.
  const cloudSnapshot = join(work, "cloud-snapshot");
  await sqld.stop();
  await copyDir(sqld.dbPath, cloudSnapshot);
  await sqld.restart();

  const total = size + STAKEHOLDER_COUNT;
  const wantUpload = report && wants("upload");
  const templateDb = join(template, "jdo.db");
  const limitUpload = async (chunk: number) => {
    await restoreCloud(sqld, cloudSnapshot);
    const r = await runScript(scripts["limit_upload.ts"], [templateDb, sqld.url, String(chunk)]);
    expect(JSON.parse(r.stdout).rows === total, "limit upload row count");
    return r;
  };
  // Row 1, best effort: calibrate the chunk size (one run each), keep the fastest.
  let chunk = UPLOAD_CHUNKS[0];
  if (wantUpload && UPLOAD_CHUNKS.length > 1) {
    const tried: string[] = [];
    let best = Infinity;
    for (const c of UPLOAD_CHUNKS.filter((c) => c <= Math.max(total, UPLOAD_CHUNKS[0]))) {
      let r: ProcResult;
      try {
        r = await limitUpload(c);
      } catch (error) {
        // e.g. sqld's limit on one argument ("string or blob too big").
        const why = String((error as Error).message).match(/[A-Z_]+: [^\n]*/)?.[0] ?? "failed";
        tried.push(`${fmtCount(c)}: ${why}`);
        continue;
      }
      tried.push(`${fmtCount(c)}: ${fmtMs(r.wallMs)}`);
      if (r.wallMs < best) [best, chunk] = [r.wallMs, c];
    }
    detail(
      `row 1 ${fmtCount(size)}: best-effort chunk sizes tried ${tried.join(", ")}; using ${
        fmtCount(chunk)
      }`,
    );
  }
  // Row 1, ABAB: the best-effort insert, then `jdo sync now` on a copy of device A right
  // after the import, each into the same restored (empty) cloud.
  const limitUp: ProcResult[] = [];
  const up: SyncNow[] = [];
  const homeA = join(work, "device-a");
  const upRuns = wantUpload || wants("memory") ? runs : 1;
  for (let i = 0; i < upRuns; i++) {
    if (wantUpload) {
      const r = await limitUpload(chunk);
      limitUp.push(r);
      log(`${fmtCount(size)} best-effort upload run ${i + 1}/${runs}: ${fmtMs(r.wallMs)}`);
    }
    await restoreCloud(sqld, cloudSnapshot);
    await copyDir(template, homeA);
    const r = await syncNow(homeA);
    expect(r.report.ok && r.report.pushed === total, `pushed ${r.report.pushed} of ${total}`);
    up.push(r);
    log(
      `${fmtCount(size)} jdo upload run ${i + 1}/${upRuns}: ${fmtMs(r.proc.wallMs)} (sync ${
        fmtMs(r.report.duration_ms)
      }, RSS ${fmtMb(r.proc.peakRssMb)})`,
    );
  }
  await removeAll([template]);
  if (wantUpload) {
    const j = median(up.map((r) => r.proc.wallMs));
    const l = median(limitUp.map((r) => r.wallMs));
    results.push({
      row: "1",
      name: `first upload (sync now) vs best-effort json_each insert (${fmtCount(chunk)}/request)`,
      size,
      jdo: j,
      limit: l,
      unit: "ms",
      goal: "<= 1.25x",
      pass: ratioGoal(j, l, 1.25),
      runs,
    });
    detail(
      `row 1 ${fmtCount(size)}: in-process jdo sync ${
        fmtMs(median(up.map((r) => r.report.duration_ms)))
      } vs best effort ${
        fmtMs(median(limitUp.map((r) => JSON.parse(r.stdout).ms)))
      }; peak RSS jdo ${fmtMb(Math.max(...up.map((r) => r.proc.peakRssMb ?? NaN)))}, best effort ${
        fmtMb(Math.max(...limitUp.map((r) => r.peakRssMb ?? NaN)))
      }`,
    );
  }

  // Row 2, ABAB: a new device (empty home) running `jdo sync setup`, then a bare replica
  // sync() of the same cloud into a fresh directory.
  const wantDownload = report && wants("download");
  const down: { proc: ProcResult; syncMs: number | null }[] = [];
  const limitDown: ProcResult[] = [];
  let homeB = "";
  const downRuns = wantDownload || wants("memory") ? runs : 1;
  for (let i = 0; i < downRuns; i++) {
    if (homeB) await removeAll([homeB]);
    homeB = await tempDir(`device-b-n${size}`);
    const proc = await setupSync(homeB, sqld.url, true);
    expect(proc.stdout.includes(`↓ ${total} downloaded`), `download: ${proc.stdout.trim()}`);
    down.push({ proc, syncMs: await lastLoggedSyncMs(homeB) });
    log(
      `${fmtCount(size)} jdo download run ${i + 1}/${downRuns}: ${fmtMs(proc.wallMs)} (sync ${
        fmtMs(down[i].syncMs)
      }, RSS ${fmtMb(proc.peakRssMb)})`,
    );
    if (wantDownload) {
      const dir = await tempDir("replica");
      const r = await runScript(scripts["limit_download.ts"], [dir, sqld.url]);
      await removeAll([dir]);
      expect(JSON.parse(r.stdout).rows === total, "limit download row count");
      limitDown.push(r);
      log(`${fmtCount(size)} bare replica sync run ${i + 1}/${runs}: ${fmtMs(r.wallMs)}`);
    }
  }
  cleanup.push(homeB);
  if (wantDownload) {
    const j = median(down.map((r) => r.proc.wallMs));
    const l = median(limitDown.map((r) => r.wallMs));
    results.push({
      row: "2",
      name: "download to new device (setup) vs bare replica sync()",
      size,
      jdo: j,
      limit: l,
      unit: "ms",
      goal: "<= 1.5x",
      pass: ratioGoal(j, l, 1.5),
      runs,
    });
    detail(
      `row 2 ${fmtCount(size)}: in-process jdo sync ${
        fmtMs(median(down.map((r) => r.syncMs ?? NaN)))
      } vs bare sync() ${
        fmtMs(median(limitDown.map((r) => JSON.parse(r.stdout).ms)))
      }; peak RSS jdo ${fmtMb(Math.max(...down.map((r) => r.proc.peakRssMb ?? NaN)))}, bare ${
        fmtMb(Math.max(...limitDown.map((r) => r.peakRssMb ?? NaN)))
      }`,
    );
  }

  if (report && wants("memory") && size === LARGEST) {
    const upRss = Math.max(...up.map((r) => r.proc.peakRssMb ?? NaN));
    const downRss = Math.max(...down.map((r) => r.proc.peakRssMb ?? NaN));
    const importRss = imported.peakRssMb ?? NaN;
    for (
      const [name, rss] of [
        ["peak RSS, import", importRss],
        ["peak RSS, upload", upRss],
        ["peak RSS, download", downRss],
      ]
    ) {
      results.push({
        row: "5",
        name: name as string,
        size,
        jdo: rss as number,
        limit: null,
        unit: "MB",
        goal: "< 250 MB",
        pass: Number.isFinite(rss) ? (rss as number) < 250 : null,
        runs,
        note: Number.isFinite(rss) ? undefined : "GNU time not available",
      });
    }
  }
  return { sqld, homeA, homeB, dataset, cleanup };
}

// ---------------------------------------------------------------- row 3

async function benchIncremental(state: SizeState, size: number): Promise<void> {
  // Catch up both devices (device A reads back its own upload once).
  await syncNow(state.homeA);
  await syncNow(state.homeB);
  await syncNow(state.homeA);
  const pushes: SyncNow[] = [];
  const pulls: SyncNow[] = [];
  for (let i = 0; i < INCREMENTAL_RUNS; i++) {
    const id = state.dataset.sampleIds[i % state.dataset.sampleIds.length];
    await jdoOk(state.homeA, ["edit", id, "--notes", `bench edit ${i} ${Date.now()}`]);
    const push = await syncNow(state.homeA);
    expect(push.report.pushed === 1, `incremental push pushed ${push.report.pushed}`);
    const pull = await syncNow(state.homeB);
    expect(pull.report.pulled === 1, `incremental pull pulled ${pull.report.pulled}`);
    pushes.push(push);
    pulls.push(pull);
  }
  for (const [label, list] of [["push", pushes], ["pull", pulls]] as const) {
    const ms = median(list.map((r) => r.report.duration_ms));
    results.push({
      row: label === "push" ? "3a" : "3b",
      name: `incremental, 1 changed row: ${
        label === "push" ? "push (editing device)" : "pull (other device)"
      }`,
      size,
      jdo: ms,
      limit: null,
      unit: "ms",
      goal: "< 40 ms",
      pass: ms < 40,
      runs: INCREMENTAL_RUNS,
    });
    detail(
      `row 3 ${fmtCount(size)} ${label}: sync ${fmtMs(ms)}, process wall ${
        fmtMs(median(list.map((r) => r.proc.wallMs)))
      }`,
    );
  }
}

function incrementalScaling(small: number, large: number): void {
  for (const row of ["3a", "3b"]) {
    const a = results.find((r) => r.row === row && r.size === small);
    const b = results.find((r) => r.row === row && r.size === large);
    if (!a || !b) continue;
    results.push({
      row,
      name: `${b.name.replace("incremental, 1 changed row: ", "")}: ${fmtCount(large)} vs ${
        fmtCount(small)
      } (limit = ${fmtCount(small)} case)`,
      size: large,
      jdo: b.jdo,
      limit: a.jdo,
      unit: "ms",
      goal: "<= 1.5x",
      pass: ratioGoal(b.jdo, a.jdo, 1.5),
      runs: b.runs,
    });
  }
}

// ---------------------------------------------------------------- row 4

async function benchLatency(state: SizeState, offHome: string): Promise<void> {
  const onHome = state.homeA;
  const commitArgs = (i: number) => [
    "commit",
    `Bench latency commitment ${i}`,
    "--to",
    "Person 1",
    "--due",
    "2027-06-30",
  ];
  // Warm-up.
  await jdoOk(offHome, ["list", "--json"]);
  await jdoOk(onHome, ["list", "--json"], { auto: null });
  const times: Record<string, number[]> = {};
  const add = (key: string, ms: number) => (times[key] ??= []).push(ms);
  for (let i = 0; i < LATENCY_RUNS; i++) {
    add("list off", (await jdoOk(offHome, ["list", "--json"])).wallMs);
    add("list on", (await jdoOk(onHome, ["list", "--json"], { auto: null })).wallMs);
    add("list on, auto 0", (await jdoOk(onHome, ["list", "--json"])).wallMs);
  }
  let backgroundMissing = 0;
  for (let i = 0; i < LATENCY_RUNS; i++) {
    add("commit off", (await jdoOk(offHome, commitArgs(i))).wallMs);
    add("list after commit, off", (await jdoOk(offHome, ["list", "--json"])).wallMs);
    const before = await finishedSyncs(onHome);
    add("commit on", (await jdoOk(onHome, commitArgs(i), { auto: null })).wallMs);
    // The next command while the background sync of that commit still runs.
    add("list after commit, on", (await jdoOk(onHome, ["list", "--json"], { auto: null })).wallMs);
    // Let the detached background sync finish so it does not compete for the CPU.
    if (!await waitForBackgroundSync(onHome, before, 30_000)) backgroundMissing++;
    add("commit on, auto 0", (await jdoOk(onHome, commitArgs(i + 1000))).wallMs);
  }
  const afterOff = median(times["list after commit, off"]);
  const afterOn = median(times["list after commit, on"]);
  detail(
    `row 4: list --json run right after a commit: sync off ${
      fmtMs(afterOff)
    }; sync on, auto-sync on ${fmtMs(afterOn)} (${
      (afterOn / afterOff).toFixed(2)
    }x; the commit's background sync is still running)`,
  );
  for (const cmd of ["list", "commit"]) {
    const off = median(times[`${cmd} off`]);
    const on = median(times[`${cmd} on`]);
    const onNoAuto = median(times[`${cmd} on, auto 0`]);
    results.push({
      row: "4",
      name: `${cmd === "list" ? "list --json" : "commit"}: sync on (auto) vs sync off`,
      size: SMALL,
      jdo: on,
      limit: off,
      unit: "ms",
      goal: "<= 1.1x",
      pass: ratioGoal(on, off, 1.1),
      runs: LATENCY_RUNS,
    });
    detail(
      `row 4 ${cmd}: sync off ${fmtMs(off)}; sync on, auto-sync on ${fmtMs(on)} (${
        (on / off).toFixed(2)
      }x); sync on, JDO_SYNC_AUTO=0 ${fmtMs(onNoAuto)} (${(onNoAuto / off).toFixed(2)}x)`,
    );
  }
  if (backgroundMissing) {
    detail(`row 4: ${backgroundMissing} background sync(s) did not finish within 30 s`);
  }
}

// ---------------------------------------------------------------- row 6

interface LocalHome {
  size: number;
  home: string;
  /** An 8-character prefix of a commitment id to show/edit/complete. */
  id: string;
  importRssMb: number | null;
}

async function localHome(size: number, work: string): Promise<LocalHome> {
  const home = join(work, `local-${size}`);
  const input = join(work, `local-${size}.json`);
  const dataset = makeDataset(size, 7);
  await Deno.writeTextFile(input, dataset.json);
  const imported = await jdoOk(home, ["import", input]);
  await Deno.remove(input);
  detail(
    `row 6 ${fmtCount(size)}: import ${fmtMs(imported.wallMs)}, peak RSS ${
      fmtMb(imported.peakRssMb)
    }`,
  );
  return { size, home, id: dataset.sampleIds[0].slice(0, 8), importRssMb: imported.peakRssMb };
}

const LOCAL_COMMANDS: { name: string; args: (h: LocalHome, i: number) => string[] }[] = [
  { name: "dashboard (jdo, no terminal)", args: () => [] },
  {
    name: "commit",
    args: (_, i) => ["commit", `Bench local ${i}`, "--to", "Person 1", "--due", "2027-06-30"],
  },
  { name: "show", args: (h) => ["show", h.id] },
  { name: "edit", args: (h, i) => ["edit", h.id, "--notes", `bench ${i}`] },
  { name: "complete", args: (h) => ["complete", h.id] },
  { name: "integrity", args: () => ["integrity"] },
  { name: "list --json", args: () => ["list", "--json"] },
  { name: "export", args: () => ["export"] },
];

async function runLocal(h: LocalHome, name: string, i: number): Promise<ProcResult> {
  const command = LOCAL_COMMANDS.find((c) => c.name === name)!;
  // complete needs an open commitment each time (untimed reset).
  if (name === "complete") await jdoOk(h.home, ["edit", h.id, "--status", "pending"]);
  return await jdoOk(h.home, command.args(h, i), {
    discardStdout: STREAMING.includes(name),
  });
}

/** list and export print every row: their time follows the rows; their memory must not. */
const STREAMING = ["list --json", "export"];

async function benchLocal(work: string): Promise<void> {
  const [small, large] = await Promise.all(LOCAL_SIZES.map((n) => localHome(n, work)));
  // Flat memory is judged against a tenth of the large size (both many pages long).
  const tenth = await localHome(Math.max(LOCAL_SIZES[0], Math.round(large.size / 10)), work);
  for (const command of LOCAL_COMMANDS) {
    const streaming = STREAMING.includes(command.name);
    await runLocal(small, command.name, -1); // warm-up
    await runLocal(large, command.name, -1);
    const a: ProcResult[] = [];
    const b: ProcResult[] = [];
    const c: ProcResult[] = [];
    for (let i = 0; i < LOCAL_RUNS; i++) {
      a.push(await runLocal(small, command.name, i));
      b.push(await runLocal(large, command.name, i));
      if (streaming) c.push(await runLocal(tenth, command.name, i));
    }
    const ms = [median(b.map((r) => r.wallMs)), median(a.map((r) => r.wallMs))];
    results.push({
      row: "6",
      name: `${command.name}: ${fmtCount(large.size)} vs ${fmtCount(small.size)} rows`,
      size: large.size,
      jdo: ms[0],
      limit: ms[1],
      unit: "ms",
      goal: streaming ? "(prints all)" : "<= 1.3x",
      pass: streaming ? null : ratioGoal(ms[0], ms[1], 1.3),
      runs: LOCAL_RUNS,
    });
    const peak = (list: ProcResult[]) => Math.max(...list.map((r) => r.peakRssMb ?? NaN));
    const rss = [peak(b), peak(a)];
    if (streaming) {
      const base = peak(c);
      results.push({
        row: "6",
        name: `${command.name} peak RSS (flat): ${fmtCount(large.size)} vs ${
          fmtCount(tenth.size)
        } rows`,
        size: large.size,
        jdo: rss[0],
        limit: base,
        unit: "MB",
        goal: "<= 1.3x",
        pass: Number.isFinite(rss[0]) ? ratioGoal(rss[0], base, 1.3) : null,
        runs: LOCAL_RUNS,
      });
      detail(
        `row 6 ${command.name}: ${fmtCount(tenth.size)} ${
          fmtMs(median(c.map((r) => r.wallMs)))
        } / ${fmtMb(base)}`,
      );
    }
    detail(
      `row 6 ${command.name}: ${fmtCount(small.size)} ${fmtMs(ms[1])} / ${fmtMb(rss[1])}, ${
        fmtCount(large.size)
      } ${fmtMs(ms[0])} / ${fmtMb(rss[0])}`,
    );
  }
  // --big: every local command at a million rows stays under 250 MB.
  if (flags.big) {
    const huge = await localHome(HUGE, work);
    const peaks: [string, number | null][] = [["import", huge.importRssMb]];
    for (const command of LOCAL_COMMANDS) {
      const r = await runLocal(huge, command.name, 0);
      peaks.push([command.name, r.peakRssMb]);
      detail(`row 5 ${fmtCount(HUGE)} ${command.name}: ${fmtMs(r.wallMs)}, ${fmtMb(r.peakRssMb)}`);
    }
    for (const [name, rss] of peaks) {
      results.push({
        row: "5",
        name: `peak RSS, ${name}`,
        size: HUGE,
        jdo: rss ?? NaN,
        limit: null,
        unit: "MB",
        goal: "< 250 MB",
        pass: rss === null ? null : rss < 250,
        runs: 1,
      });
    }
  }
}

// ---------------------------------------------------------------- machine

async function textOf(cmd: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
    return new TextDecoder().decode(out.stdout).trim();
  } catch {
    return "?";
  }
}

async function machine(): Promise<string[]> {
  const cpu = cpus();
  const load = await Deno.readTextFile("/proc/loadavg").then((t) =>
    t.split(" ").slice(0, 3).join(" ")
  )
    .catch(() => "?");
  const sqld = await textOf(sqldBinaryPath(), ["--version"]);
  return [
    `machine: ${cpu[0]?.model ?? "?"}, ${cpu.length} cores, ${
      Math.round(totalmem() / 2 ** 30)
    } GiB RAM, ${Deno.build.os}/${Deno.build.arch}`,
    `deno ${Deno.version.deno}; ${
      sqld.split("\n")[0].replace(/^sqld sqld /, "sqld ")
    }; @libsql/client ${LIBSQL_VERSION}; load average ${load}`,
  ];
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const header = await machine();
  for (const line of header) log(line);
  log(
    `sizes ${SIZES.map(fmtCount).join(", ")}; runs ${RUNS} (${BIG_RUNS} for sizes >= ${
      fmtCount(BIG)
    }); latency runs ${LATENCY_RUNS}; rows: ${[...ONLY].join(", ")}`,
  );
  if (!await gnuTimePath()) log("GNU time (/usr/bin/time) not found: peak RSS is not measured");
  const scripts = await writeLimitScripts();
  const cleanup: string[] = [];
  try {
    // Warm Deno's caches so no run pays for transpiling.
    const warm = await tempDir("warm");
    cleanup.push(warm);
    await jdoOk(warm, ["--version"]);
    for (const path of Object.values(scripts)) {
      await runScript(path, ["--warm"]).catch(() => {});
    }

    if (wants("local")) {
      const work = await tempDir("local");
      cleanup.push(work);
      await benchLocal(work);
    }

    if (wants("list")) {
      const home = await tempDir("list");
      cleanup.push(home);
      const input = join(home, "data.json");
      await Deno.writeTextFile(input, makeDataset(LIST_SIZE).json);
      await jdoOk(home, ["import", input]);
      await benchList(home, scripts);
    }

    const needSync = ["upload", "download", "incremental", "latency", "memory"].some((r) =>
      wants(r as RowName)
    );
    if (needSync) {
      const needed = new Set<number>();
      if (wants("upload") || wants("download")) SIZES.forEach((n) => needed.add(n));
      if (wants("memory") || wants("incremental")) needed.add(LARGEST);
      if (wants("incremental") || wants("latency")) needed.add(SMALL);
      const sizes = [...needed].sort((a, b) => a - b);
      const incrementalSizes = new Set([SMALL, LARGEST]);
      for (const size of sizes) {
        const report = SIZES.includes(size);
        const state = await benchSize(size, scripts, report);
        try {
          if (wants("incremental") && incrementalSizes.has(size)) {
            await benchIncremental(state, size);
          }
          if (wants("latency") && size === SMALL) {
            // Sync disabled, same data: a copy of device A's database without settings.
            const offHome = await tempDir("sync-off");
            state.cleanup.push(offHome);
            for (const f of ["jdo.db", "jdo.db-wal", "jdo.db-shm"]) {
              await Deno.copyFile(join(state.homeA, f), join(offHome, f)).catch(() => {});
            }
            await benchLatency(state, offHome);
          }
        } finally {
          await state.sqld[Symbol.asyncDispose]();
          await removeAll(state.cleanup);
        }
      }
      if (wants("incremental") && LARGEST !== SMALL) incrementalScaling(SMALL, LARGEST);
    }
  } finally {
    await removeLimitScripts();
    await removeAll(cleanup);
  }

  const order = ["0", "1", "2", "3a", "3b", "4", "5", "6"];
  results.sort((a, b) => order.indexOf(a.row) - order.indexOf(b.row));
  const fmt = (r: Result, v: number | null) =>
    v === null ? "-" : r.unit === "MB" ? fmtMb(v) : fmtMs(v);
  const table = renderTable(
    ["row", "case", "size", "jdo (median)", "limit (median)", "ratio", "goal", "result", "runs"],
    results.map((r) => [
      r.row,
      r.name,
      fmtCount(r.size),
      fmt(r, r.jdo),
      fmt(r, r.limit),
      r.limit ? `${(r.jdo / r.limit).toFixed(2)}x` : "-",
      r.goal,
      r.pass === null ? "n/a" : r.pass ? "PASS" : "MISS",
      String(r.runs),
    ]),
  );
  const elapsed = (performance.now() - started) / 1000;
  const out = [
    "",
    "jdo benchmarks",
    ...header,
    `sizes ${SIZES.map(fmtCount).join(", ")}; runs ${RUNS}, ${BIG_RUNS} for sizes >= ${
      fmtCount(BIG)
    }; latency runs ${LATENCY_RUNS}; incremental runs ${INCREMENTAL_RUNS}`,
    "",
    table,
    "",
    "Times are process wall times (Deno startup included on both sides) unless noted;",
    "row 3 is the sync's own duration_ms. Medians over the runs shown; jdo and its",
    "baseline (row 6: the two sizes) ran alternately. Row 6's limit column is the small size.",
    "",
    "Details:",
    ...details.map((d) => `  ${d}`),
    ...results.filter((r) => r.note).map((r) => `  row ${r.row} ${r.name}: ${r.note}`),
    "",
    `total time ${elapsed.toFixed(0)} s`,
  ];
  console.log(out.join("\n"));
  if (flags["json-out"]) {
    await Deno.writeTextFile(
      flags["json-out"],
      JSON.stringify({ header, results, details, elapsedSeconds: elapsed }, null, 2) + "\n",
    );
  }
}

await main();
