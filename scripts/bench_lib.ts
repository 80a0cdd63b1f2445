/**
 * Helpers for scripts/bench.ts: data sets, timed subprocesses (wall time and
 * peak RSS), the "limit" scripts jdo is compared against, and the table.
 *
 * Everything here measures jdo from the outside, as a user runs it:
 * `deno run -A --quiet <V8 flags> <repo>/main.ts …` with a private JDO_HOME,
 * with the V8 flags the compiled binary carries.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { rng } from "../tests/helpers/rng.ts";
import { V8_FLAGS } from "./compile.ts";

export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
export const MAIN = join(REPO_ROOT, "main.ts");
/**
 * Temporary scripts live inside the repo so that `@libsql/client` resolves
 * through deno.json; .scratch/ is git-ignored and excluded from fmt/lint/check.
 */
export const TMP_SCRIPTS = join(REPO_ROOT, ".scratch", "jdo-bench");

// ---------------------------------------------------------------- data

function uuid(rand: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16)).join("");
  const v = hex.slice(0, 12) + "4" + hex.slice(13, 16) + "8" + hex.slice(17);
  return `${v.slice(0, 8)}-${v.slice(8, 12)}-${v.slice(12, 16)}-${v.slice(16, 20)}-${
    v.slice(20, 32)
  }`;
}

const WORDS = [
  "draft",
  "review",
  "quarterly",
  "report",
  "budget",
  "slides",
  "contract",
  "design",
  "proposal",
  "migration",
  "onboarding",
  "invoice",
  "roadmap",
  "summary",
  "release",
  "notes",
  "plan",
  "audit",
];

function phrase(rand: () => number, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(WORDS[Math.floor(rand() * WORDS.length)]);
  const text = out.join(" ");
  return text[0].toUpperCase() + text.slice(1);
}

export const STAKEHOLDER_COUNT = 50;
/** Statuses `jdo list` shows by default: every generated commitment is listed. */
const ACTIVE = ["pending", "pending", "pending", "in_progress", "at_risk"];

export interface Dataset {
  /** A jdo export document (format "jdo-export"), as JSON text. */
  json: string;
  commitments: number;
  /** Ids of the first few commitments, to edit in incremental-sync runs. */
  sampleIds: string[];
}

/** `n` commitments to 50 stakeholders, in jdo's export format. */
export function makeDataset(n: number, seed = 42): Dataset {
  const rand = rng(seed);
  const created = Date.UTC(2025, 0, 1);
  const stakeholders = Array.from({ length: STAKEHOLDER_COUNT }, (_, i) => ({
    id: uuid(rand),
    name: `Person ${i + 1}`,
    type: i % 10 === 0 ? "team" : "person",
    contact_info: i % 3 === 0 ? `person${i + 1}@example.com` : null,
    notes: null,
    created_at: new Date(created).toISOString(),
  }));
  const commitments = [];
  for (let i = 0; i < n; i++) {
    const due = new Date(created + Math.floor(rand() * 900) * 86_400_000);
    commitments.push({
      id: uuid(rand),
      deliverable: `${phrase(rand, 3 + Math.floor(rand() * 4))} #${i + 1}`,
      stakeholder_id: stakeholders[Math.floor(rand() * STAKEHOLDER_COUNT)].id,
      due_date: due.toISOString().slice(0, 10),
      due_time: rand() < 0.7
        ? "17:00"
        : `${String(8 + Math.floor(rand() * 10)).padStart(2, "0")}:30`,
      timezone: "UTC",
      goal_id: null,
      milestone_id: null,
      notes: rand() < 0.3 ? phrase(rand, 12) : null,
      status: ACTIVE[Math.floor(rand() * ACTIVE.length)],
      completed_at: null,
      completed_on_time: null,
      marked_at_risk_at: null,
      created_at: new Date(created + i * 60_000).toISOString(),
    });
  }
  const doc = {
    format: "jdo-export",
    format_version: 1,
    schema_version: 1,
    exported_at: new Date(created).toISOString(),
    stakeholders,
    visions: [],
    goals: [],
    milestones: [],
    commitments,
    tasks: [],
    inbox: [],
  };
  return {
    json: JSON.stringify(doc),
    commitments: n,
    sampleIds: commitments.slice(0, 20).map((c) => c.id),
  };
}

// ---------------------------------------------------------------- processes

export interface ProcResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, measured by this process. */
  wallMs: number;
  /** Peak resident set size in MiB (GNU time), or null when unavailable. */
  peakRssMb: number | null;
}

let gnuTime: string | null | undefined;

/** /usr/bin/time when it is GNU time (it reports the child's peak RSS). */
export async function gnuTimePath(): Promise<string | null> {
  if (gnuTime !== undefined) return gnuTime;
  gnuTime = null;
  for (const path of ["/usr/bin/time"]) {
    try {
      const out = await new Deno.Command(path, {
        args: ["-f", "%M", "true"],
        stdout: "null",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stderr).trim();
      if (out.code === 0 && /^\d+$/.test(text)) gnuTime = path;
    } catch {
      // not installed
    }
  }
  return gnuTime;
}

export interface RunOptions {
  env?: Record<string, string>;
  stdin?: string;
  cwd?: string;
  /** Send stdout to /dev/null (output larger than a JS string can hold). */
  discardStdout?: boolean;
}

// Variables from the caller's shell that would change jdo's behaviour.
const STRIPPED = /^(JDO_|TURSO_|NO_COLOR$|FORCE_COLOR$|RUST_LOG$)/;

export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (!STRIPPED.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

/** Runs a command to completion, timing it and (with GNU time) reading its peak RSS. */
export async function runTimed(
  command: string,
  args: string[],
  options: RunOptions = {},
): Promise<ProcResult> {
  const time = await gnuTimePath();
  const rssFile = time ? await Deno.makeTempFile({ prefix: "jdo-bench-rss-" }) : null;
  const [cmd, argv] = time ? [time, ["-f", "%M", "-o", rssFile!, command, ...args]] : [
    command,
    args,
  ];
  const started = performance.now();
  const child = new Deno.Command(cmd, {
    args: argv,
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? cleanEnv(),
    clearEnv: true,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: options.discardStdout ? "null" : "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const out = await child.output();
  const wallMs = performance.now() - started;
  let peakRssMb: number | null = null;
  if (rssFile) {
    const kb = Number((await Deno.readTextFile(rssFile)).trim().split("\n").pop());
    if (Number.isFinite(kb) && kb > 0) peakRssMb = kb / 1024;
    await Deno.remove(rssFile).catch(() => {});
  }
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: options.discardStdout ? "" : decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
    wallMs,
    peakRssMb,
  };
}

export interface JdoOptions {
  /** Default "0": automatic background sync off. Pass null to leave it unset (on). */
  auto?: string | null;
  stdin?: string;
  env?: Record<string, string>;
  discardStdout?: boolean;
  /** More `deno run` flags, after the binary's V8 flags (a repeated --v8-flags adds to them). */
  denoFlags?: string[];
}

export function jdoEnv(home: string, options: JdoOptions = {}): Record<string, string> {
  const env = cleanEnv({
    JDO_HOME: home,
    JDO_TIMEZONE: "UTC",
    NO_COLOR: "1",
    ...options.env,
  });
  const auto = options.auto === undefined ? "0" : options.auto;
  if (auto !== null) env.JDO_SYNC_AUTO = auto;
  return env;
}

/** `deno run -A --quiet <the binary's V8 flags> main.ts ARGS` with a private JDO_HOME. */
export function runJdo(
  home: string,
  args: string[],
  options: JdoOptions = {},
): Promise<ProcResult> {
  const flags = [...V8_FLAGS, ...options.denoFlags ?? []];
  return runTimed(Deno.execPath(), ["run", "-A", "--quiet", ...flags, MAIN, ...args], {
    env: jdoEnv(home, options),
    stdin: options.stdin,
    discardStdout: options.discardStdout,
  });
}

/** Like runJdo, but throws with the output when jdo exits non-zero. */
export async function jdoOk(
  home: string,
  args: string[],
  options: JdoOptions = {},
): Promise<ProcResult> {
  const r = await runJdo(home, args, options);
  if (r.code !== 0) {
    throw new Error(`jdo ${args.join(" ")} exited ${r.code}\n${r.stderr}\n${r.stdout}`);
  }
  return r;
}

/** Runs one of the limit scripts below as its own `deno run` process. */
export async function runScript(path: string, args: string[]): Promise<ProcResult> {
  const r = await runTimed(Deno.execPath(), ["run", "-A", "--quiet", path, ...args], {
    env: cleanEnv({ RUST_LOG: "off" }),
  });
  if (r.code !== 0) throw new Error(`${path} exited ${r.code}\n${r.stderr}`);
  return r;
}

// ---------------------------------------------------------------- limit scripts

/**
 * The "limits": minimal @libsql/client programs doing the same job with no
 * jdo logic. Each prints one JSON line: {"ms": in-process time, "rows": n}.
 */
export const LIMIT_SCRIPTS: Record<string, string> = {
  // Row 0: open the working database file and select what `jdo list --json` selects.
  "limit_list.ts": `import { createClient } from "@libsql/client";
if (Deno.args[0] === "--warm") Deno.exit(0);
const client = createClient({ url: "file:" + Deno.args[0] });
const rs = await client.execute(
  "SELECT c.*, s.name AS stakeholder FROM commitments c LEFT JOIN stakeholders s ON s.id = c.stakeholder_id " +
    "WHERE c.deleted_at IS NULL AND c.status IN ('pending', 'in_progress', 'at_risk') " +
    "ORDER BY c.due_date, c.due_time, c.created_at",
);
const rows = rs.rows.map((r) => Object.fromEntries(rs.columns.map((c) => [c, r[c]])));
console.log(JSON.stringify(rows, null, 2));
client.close();
`,
  // Row 1: the best-effort upload: the same rows, read a page at a time in id order, sent
  // as one multi-row INSERT … SELECT FROM json_each(?) per request (chunk size given).
  "limit_upload.ts": `import { createClient } from "@libsql/client";
if (Deno.args[0] === "--warm") Deno.exit(0);
const [dbPath, url, chunkText] = Deno.args;
const chunk = Number(chunkText);
const started = performance.now();
const local = createClient({ url: "file:" + dbPath });
const remote = createClient({ url, authToken: "x" });
let total = 0;
for (const table of ["stakeholders", "commitments"]) {
  let after = "";
  let sql = "";
  for (;;) {
    const rs = await local.execute({
      sql: "SELECT * FROM " + table + " WHERE id > ? ORDER BY id LIMIT " + chunk,
      args: [after],
    });
    if (rs.rows.length === 0) break;
    const cols = rs.columns;
    sql ||= "INSERT INTO " + table + " (" + cols.map((c) => '"' + c + '"').join(", ") +
      ", _seq) SELECT " + cols.map((_, i) => "json_extract(value, '$[" + i + "]')").join(", ") +
      ", 1 FROM json_each(?)";
    const json = JSON.stringify(rs.rows.map((r) => cols.map((c) => r[c])));
    await remote.execute({ sql, args: [json] });
    total += rs.rows.length;
    after = String(rs.rows[rs.rows.length - 1].id);
    if (rs.rows.length < chunk) break;
  }
}
local.close();
remote.close();
console.log(JSON.stringify({ ms: performance.now() - started, rows: total }));
`,
  // Row 2: the best-effort download: a new embedded replica of the cloud, one bare sync()
  // (no row is read into JavaScript; a count(*) checks it arrived).
  "limit_download.ts": `import { createClient } from "@libsql/client";
if (Deno.args[0] === "--warm") Deno.exit(0);
const [dir, syncUrl] = Deno.args;
const started = performance.now();
let lastError;
for (let attempt = 0; attempt < 6; attempt++) {
  try {
    const client = createClient({ url: "file:" + dir + "/replica.db", syncUrl, authToken: "x" });
    await client.sync();
    const ms = performance.now() - started;
    let rows = 0;
    for (const table of ["stakeholders", "commitments"]) {
      const rs = await client.execute("SELECT count(*) AS n FROM " + table);
      rows += Number(rs.rows[0].n);
    }
    client.close();
    console.log(JSON.stringify({ ms, rows, attempts: attempt + 1 }));
    Deno.exit(0);
  } catch (error) {
    lastError = error;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.mkdir(dir, { recursive: true });
    await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
  }
}
throw lastError;
`,
};

/** Writes the limit scripts under .scratch/jdo-bench/; returns name → path. */
export async function writeLimitScripts(): Promise<Record<string, string>> {
  await Deno.mkdir(TMP_SCRIPTS, { recursive: true });
  const paths: Record<string, string> = {};
  for (const [name, text] of Object.entries(LIMIT_SCRIPTS)) {
    paths[name] = join(TMP_SCRIPTS, name);
    await Deno.writeTextFile(paths[name], text);
  }
  return paths;
}

export async function removeLimitScripts(): Promise<void> {
  await Deno.remove(TMP_SCRIPTS, { recursive: true }).catch(() => {});
}

// ---------------------------------------------------------------- jdo logs

/** Count of finished syncs ("sync ok"/"sync failed") in a home's logs/jdo.log. */
export async function finishedSyncs(home: string): Promise<number> {
  try {
    const text = await Deno.readTextFile(join(home, "logs", "jdo.log"));
    return text.split("\n").filter((l) => / sync (ok|failed)/.test(l)).length;
  } catch {
    return 0;
  }
}

/** The duration of the last "sync ok … NNNms" line in a home's log. */
export async function lastLoggedSyncMs(home: string): Promise<number | null> {
  try {
    const lines = (await Deno.readTextFile(join(home, "logs", "jdo.log"))).split("\n");
    for (let i = lines.length - 1; i >= 0; i--) {
      const m = / sync ok .* (\d+)ms/.exec(lines[i]);
      if (m) return Number(m[1]);
    }
  } catch {
    // no log yet
  }
  return null;
}

/** Pids of `jdo sync now --background` processes running for this JDO_HOME (Linux /proc). */
async function backgroundSyncPids(home: string): Promise<number[]> {
  const pids: number[] = [];
  try {
    for await (const entry of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      try {
        const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`);
        if (!cmdline.includes("sync\0now\0--background")) continue;
        const environ = await Deno.readTextFile(`/proc/${entry.name}/environ`);
        if (environ.split("\0").includes(`JDO_HOME=${home}`)) pids.push(Number(entry.name));
      } catch {
        // gone, or not ours
      }
    }
  } catch {
    // no /proc: fall back to the lock and the log
  }
  return pids;
}

/**
 * Waits until the home has logged more than `before` syncs, no sync holds the
 * lock, and (on Linux) the background process has exited, so that it does
 * not compete for the CPU with the next measured command.
 */
export async function waitForBackgroundSync(
  home: string,
  before: number,
  timeoutMs = 60_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let locked = true;
    try {
      await Deno.stat(join(home, "sync.lock"));
    } catch {
      locked = false;
    }
    if (
      !locked && await finishedSyncs(home) > before &&
      (await backgroundSyncPids(home)).length === 0
    ) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

// ---------------------------------------------------------------- stats and table

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "-";
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.round(ms)} ms`;
}

export function fmtMb(mb: number | null | undefined): string {
  if (mb === null || mb === undefined || !Number.isFinite(mb)) return "-";
  return `${Math.round(mb)} MB`;
}

export function fmtCount(n: number): string {
  return n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n);
}

export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (c ?? "").padEnd(widths[i])).join("  ").trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
