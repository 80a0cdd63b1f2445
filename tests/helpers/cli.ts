/**
 * Runs jdo from source as a subprocess, the way a user or a script would:
 * `deno run -A --quiet <repo>/main.ts ARGS…` with a private JDO_HOME.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { testClockEnv } from "./test_clock.ts";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const MAIN = join(REPO_ROOT, "main.ts");

export interface JdoResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Text piped to stdin (stdin is closed/empty otherwise). */
  stdin?: string;
  /** Extra environment; a value of `undefined` removes the variable. */
  env?: Record<string, string | undefined>;
  /** Another main.ts to run (a copy of the repository); default MAIN. */
  main?: string;
  /** `deno run` flags before main.ts, e.g. ["--no-npm"]. */
  denoFlags?: string[];
}

// Variables from the developer's shell that would change jdo's behaviour.
const STRIPPED = /^(JDO_|TURSO_|NO_COLOR$|FORCE_COLOR$|RUST_LOG$|INIT_CWD$|COLUMNS$)/;

/**
 * The environment jdo gets in tests: the caller's, without the variables that
 * would change jdo's behaviour, plus a private home, the test world's clock and zone, no automatic sync,
 * no colours and no OS keyring; `extra` last.
 */
export function jdoTestEnv(
  home: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (!STRIPPED.test(k)) env[k] = v;
  }
  return {
    ...env,
    JDO_HOME: home,
    ...testClockEnv(), // the test world's clock and zone, never the machine's
    JDO_SYNC_AUTO: "0",
    NO_COLOR: "1",
    JDO_KEYRING: "0", // tokens in the test's auth.json, never the developer's keyring
    // The fast path's bundle only when it matches the sources (main.ts): a
    // test always runs the code as it is, and src/app/fast_bundle_test.ts
    // fails while the bundle is stale.
    JDO_FAST_BUNDLE: "check",
    ...extra,
  };
}

export async function runJdo(
  home: string,
  args: string[],
  options: RunOptions = {},
): Promise<JdoResult> {
  const env = jdoTestEnv(home);
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", ...options.denoFlags ?? [], options.main ?? MAIN, ...args],
    cwd: REPO_ROOT,
    env,
    clearEnv: true,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/** Runs jdo and parses stdout as JSON; fails with the output when it exits non-zero. */
export async function runJson<T = unknown>(
  home: string,
  args: string[],
  options: RunOptions = {},
): Promise<T> {
  const r = await runJdo(home, args, options);
  if (r.code !== 0) {
    throw new Error(
      `jdo ${args.join(" ")} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`,
    );
  }
  try {
    return JSON.parse(r.stdout) as T;
  } catch (error) {
    throw new Error(`jdo ${args.join(" ")}: stdout is not JSON (${error}):\n${r.stdout}`);
  }
}

/** A fresh, not-yet-existing JDO_HOME inside a temp directory (removed on dispose). */
export async function tempHome(): Promise<{ root: string; home: string } & AsyncDisposable> {
  const root = await Deno.makeTempDir({ prefix: "jdo-e2e-" });
  return {
    root,
    home: join(root, "home"),
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }).catch(() => {}),
  };
}

/** Runs async jobs with at most `limit` in flight (jdo subprocesses are CPU-bound). */
export async function pool<T>(jobs: (() => Promise<T>)[], limit = 4): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}
