/**
 * Runs jdo commands inside the test process (no subprocess): the same
 * program, context and error handling as main.ts, with captured output, a
 * settable clock and scripted prompt answers. Much faster than tests/helpers/cli.ts
 * for checks that do not need a real terminal or a separate process.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createContext } from "../../src/app/context.ts";
import { captureIo } from "../../src/app/io.ts";
import { scriptedPrompter } from "../../src/app/prompter.ts";
import { runJdo } from "../../src/cli/run.ts";
import { runFast } from "../../src/cli/fast_commands.ts";
import type { WallClock } from "../../src/db/store.ts";
import { manualClock } from "./temp_store.ts";

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The questions the command asked (only when `tty`). */
  asked: string[];
  /** Whether the fast path ran it (only with `fast`). */
  ranFast: boolean;
}

export interface InProcessOptions {
  /** Pretend stdin/stdout/stderr are a terminal. */
  tty?: boolean;
  /** Answers for prompts, in order. */
  answers?: (string | boolean)[];
  stdin?: string;
  env?: Record<string, string>;
  /**
   * Run as main.ts does: the fast path (src/cli/fast_commands.ts) when it
   * takes the argv, else the command tree. Default: the command tree only.
   */
  fast?: boolean;
}

/** A private JDO_HOME and a clock shared by every command run in it. */
export interface InProcessJdo extends AsyncDisposable {
  home: string;
  root: string;
  clock: WallClock & { set(t: Date | number): void };
  run(args: string[], options?: InProcessOptions): Promise<InProcessResult>;
  /** Runs a command that must succeed and returns its stdout parsed as JSON. */
  json<T = Record<string, unknown>>(args: string[], options?: InProcessOptions): Promise<T>;
}

export async function inProcessJdo(
  start: Date | string = "2026-06-15T12:00:00Z",
  timeZone = "UTC",
): Promise<InProcessJdo> {
  const root = await Deno.makeTempDir({ prefix: "jdo-inproc-" });
  const home = join(root, "home");
  const clock = manualClock(new Date(start));
  const run = async (args: string[], options: InProcessOptions = {}) => {
    const io = captureIo({ tty: options.tty ?? false, stdin: options.stdin });
    const prompter = scriptedPrompter([...(options.answers ?? [])]);
    const ctx = createContext({
      env: {
        JDO_HOME: home,
        JDO_TIMEZONE: timeZone,
        JDO_SYNC_AUTO: "0",
        NO_COLOR: "1",
        ...options.env,
      },
      io,
      clock,
      prompter,
      selfCommand: [],
    });
    const fast = options.fast ? await runFast(ctx, args) : null;
    const code = fast ?? await runJdo(ctx, args);
    return {
      code,
      stdout: io.stdout(),
      stderr: io.stderr(),
      asked: prompter.asked,
      ranFast: fast !== null,
    };
  };
  return {
    home,
    root,
    clock,
    run,
    async json<T>(args: string[], options?: InProcessOptions): Promise<T> {
      const r = await run([...args, "--json"], options);
      if (r.code !== 0) {
        throw new Error(`jdo ${args.join(" ")} exited ${r.code}: ${r.stderr}${r.stdout}`);
      }
      return JSON.parse(r.stdout) as T;
    },
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }).catch(() => {}),
  };
}

/** A result as an assertion message shows it. */
export function showResult(r: InProcessResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** Asserts exit 0; returns the result. */
export function assertOk(r: InProcessResult, what: string): InProcessResult {
  assert.equal(r.code, 0, `${what}: ${showResult(r)}`);
  return r;
}

/** Asserts a failure: the exit code, nothing on stdout, one line on stderr matching `message`. */
export function assertFails(r: InProcessResult, code: number, message: RegExp, what: string): void {
  assert.equal(r.code, code, `${what}: expected exit ${code}; ${showResult(r)}`);
  assert.equal(r.stdout, "", `${what}: ${showResult(r)}`);
  assert.equal(r.stderr.trimEnd().split("\n").length, 1, `${what}: one line; ${showResult(r)}`);
  assert.match(r.stderr, message, `${what}: ${showResult(r)}`);
}
