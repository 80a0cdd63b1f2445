/**
 * A "device" for sync end-to-end tests: a private JDO_HOME in a temp directory
 * and a runner for `deno run -A --quiet <repo>/main.ts ARGS…` in it, the way a
 * user's shell would run jdo on that machine.
 *
 * Every call is checked for things a user must never see on stderr: stack
 * traces, "Unexpected error" (an error that escaped classification) and the
 * native libSQL library's log lines.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SyncReport } from "../../src/sync/service.ts";
import { jdoTestEnv } from "./cli.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = join(REPO_ROOT, "main.ts");

export interface DeviceResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time of the subprocess, in milliseconds. */
  ms: number;
}

export interface DeviceRunOptions {
  /** Text piped to stdin (stdin is /dev/null otherwise). */
  stdin?: string;
  /** Extra environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** Kill the process (SIGKILL) after this long; the result then has code -1. */
  timeoutMs?: number;
}

export interface Device extends AsyncDisposable {
  name: string;
  /** The JDO_HOME of this device (not created until jdo first runs). */
  home: string;
  /** Environment every call of this device gets (after the defaults). */
  env: Record<string, string | undefined>;
  /** Every stdout and stderr this device produced, in order. */
  transcript: string[];
  run(args: string[], options?: DeviceRunOptions): Promise<DeviceResult>;
  /** Runs, asserts exit 0, parses stdout as JSON. */
  json<T = unknown>(args: string[], options?: DeviceRunOptions): Promise<T>;
  /** Runs and asserts exit 0. */
  ok(args: string[], options?: DeviceRunOptions): Promise<DeviceResult>;
}

const FORBIDDEN_STDERR: [RegExp, string][] = [
  [/^\s{4}at /m, "a stack trace"],
  [/ERROR tower|tower_http|hyper::|libsql_replication|libsql::/, "a native library log line"],
  [
    /^\s*\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?\s+(TRACE|DEBUG|INFO|WARN|ERROR)\s/m,
    "a native library log line",
  ],
  [/Unexpected error/, "an unclassified error"],
];

export function assertCleanStderr(label: string, stderr: string): void {
  for (const [re, what] of FORBIDDEN_STDERR) {
    assert.doesNotMatch(stderr, re, `${label}: stderr contains ${what}:\n${stderr}`);
  }
}

export async function device(
  name: string,
  options: { env?: Record<string, string | undefined> } = {},
): Promise<Device> {
  const root = await Deno.makeTempDir({ prefix: `jdo-dev-${name}-` });
  const home = join(root, "home");
  const transcript: string[] = [];
  const dev: Device = {
    name,
    home,
    env: { ...options.env },
    transcript,
    async run(args, opts = {}) {
      const env = jdoTestEnv(home);
      for (const [k, v] of Object.entries({ ...dev.env, ...opts.env })) {
        if (v === undefined) delete env[k];
        else env[k] = v;
      }
      const started = performance.now();
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--quiet", MAIN, ...args],
        cwd: REPO_ROOT,
        env,
        clearEnv: true,
        stdin: opts.stdin === undefined ? "null" : "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      let timer: ReturnType<typeof setTimeout> | undefined;
      let timedOut = false;
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          timedOut = true;
          try {
            child.kill("SIGKILL");
          } catch { /* already gone */ }
        }, opts.timeoutMs);
      }
      try {
        if (opts.stdin !== undefined) {
          const writer = child.stdin.getWriter();
          await writer.write(new TextEncoder().encode(opts.stdin)).catch(() => {});
          await writer.close().catch(() => {});
        }
        const out = await child.output();
        const decoder = new TextDecoder();
        const result: DeviceResult = {
          code: timedOut ? -1 : out.code,
          stdout: decoder.decode(out.stdout),
          stderr: decoder.decode(out.stderr),
          ms: Math.round(performance.now() - started),
        };
        transcript.push(result.stdout, result.stderr);
        assertCleanStderr(`${name}: jdo ${args.join(" ")}`, result.stderr);
        return result;
      } finally {
        clearTimeout(timer);
      }
    },
    async ok(args, opts) {
      const r = await dev.run(args, opts);
      assert.equal(
        r.code,
        0,
        `${name}: jdo ${args.join(" ")} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`,
      );
      return r;
    },
    async json<T>(args: string[], opts?: DeviceRunOptions): Promise<T> {
      const r = await dev.ok(args, opts);
      try {
        return JSON.parse(r.stdout) as T;
      } catch (error) {
        throw new Error(
          `${name}: jdo ${args.join(" ")}: stdout is not JSON (${error}):\n${r.stdout}`,
        );
      }
    },
    [Symbol.asyncDispose]: async () => {
      await Deno.remove(root, { recursive: true }).catch(() => {});
    },
  };
  return dev;
}

// ------------------------------------------------------------ small helpers

export interface SyncStatusJson {
  enabled: boolean;
  state: string;
  url: string | null;
  last_sync_at: string | null;
  last_result: string | null;
  pending_changes: number;
  conflicts: number;
  device_id: string;
  token_source: string;
}

/** What `sync now --json` prints. */
export type SyncNowJson = SyncReport;

export interface Row {
  id: string;
  [key: string]: unknown;
}

/** `sync setup` with the token on stdin. */
export function setup(
  dev: Device,
  url: string,
  token: string,
  extra: string[] = [],
  opts: DeviceRunOptions = {},
): Promise<DeviceResult> {
  return dev.run(["sync", "setup", "--url", url, "--token-stdin", "--yes", ...extra], {
    ...opts,
    stdin: `${token}\n`,
  });
}

/** The 24-word recovery phrase `sync setup --encrypt` (or `sync key rotate`) printed. */
export function phraseOf(stdout: string): string {
  const line = stdout.split("\n").map((l) => l.trim()).find((l) => l.split(" ").length === 24);
  assert.ok(line, `no 24-word phrase in:\n${stdout}`);
  return line;
}

/**
 * `sync setup --encrypt --no-backup` (and `extra`) on a device, which must
 * succeed; the recovery phrase it printed.
 */
export async function encryptedSetup(
  dev: Device,
  url: string,
  token: string,
  extra: string[] = [],
): Promise<string> {
  const first = await setup(dev, url, token, ["--encrypt", "--no-backup", ...extra]);
  assert.equal(first.code, 0, first.stderr);
  return phraseOf(first.stdout);
}

/** Writes `text` (a recovery phrase) to phrase.txt beside a device's home; its path. */
export async function writePhrase(dev: Device, text: string): Promise<string> {
  const file = join(dev.home, "..", "phrase.txt");
  await Deno.writeTextFile(file, text);
  return file;
}

/** Sorted ids of `list KIND --all --json`. */
export async function ids(dev: Device, kind = "commitments"): Promise<string[]> {
  const rows = await dev.json<Row[]>(["list", kind, "--all", "--json"]);
  return rows.map((r) => r.id).sort();
}

/** `sync status --json`: exit 0, or 3 when the cloud cannot be reached or refuses the token. */
export async function status(dev: Device): Promise<SyncStatusJson> {
  const r = await dev.run(["sync", "status", "--json"]);
  assert.ok(r.code === 0 || r.code === 3, `${dev.name}: sync status exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as SyncStatusJson;
}

export function syncNow(dev: Device): Promise<SyncNowJson> {
  return dev.json<SyncNowJson>(["sync", "now", "--json"]);
}

/** Every file under dir, recursively (missing dir → []). */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) out.push(...await filesUnder(path));
      else out.push(path);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return out;
}

export async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

export async function readJsonIfExists<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
