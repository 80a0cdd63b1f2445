/**
 * Drives jdo in a real terminal (tmux), the way a person would: typing,
 * pressing keys and reading the screen. Each session uses its own tmux server
 * socket (`tmux -L`), so it never touches the developer's tmux sessions, and
 * kills that server when done (`kill()`, or `await using`).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { testClockEnv } from "./test_clock.ts";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
export const MAIN = join(REPO_ROOT, "main.ts");

let installed: Promise<boolean> | undefined;

/** Whether a working `tmux` is on PATH (asked once per process). */
export function tmuxAvailable(): Promise<boolean> {
  installed ??= (async () => {
    try {
      const out = await new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" })
        .output();
      return out.success;
    } catch {
      return false;
    }
  })();
  return installed;
}

/** A test's name, marked "(skipped: tmux not installed)" when tmux is missing. */
export function tmuxTestName(name: string, available: boolean): string {
  return available ? name : `${name} (skipped: tmux not installed)`;
}

/** The environment jdo runs with: a private home, no developer settings leaking in. */
export function jdoEnv(home: string): Record<string, string> {
  return {
    JDO_HOME: home,
    ...testClockEnv(), // the test world's clock and zone, never the machine's
    JDO_FAST_BUNDLE: "check", // the bundle only when fresh (tests/helpers/cli.ts)
    JDO_SYNC_AUTO: "0",
    NO_COLOR: "1",
    RUST_LOG: "off",
    JDO_KEYRING: "0",
  };
}

/** A minimal environment for tmux and the shell it starts. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { TERM: "xterm-256color", LANG: "C.UTF-8" };
  for (const key of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"]) {
    const value = Deno.env.get(key);
    if (value !== undefined) env[key] = value;
  }
  // Under `faketime` (deno task test:clock) the session's processes keep the
  // moved clock of the test run.
  for (const [key, value] of Object.entries(Deno.env.toObject())) {
    if (key === "LD_PRELOAD" || key.startsWith("FAKETIME")) env[key] = value;
  }
  return env;
}

export const shellQuote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

/** Runs `jdo ARGS` (no terminal) with the same environment as a tmux session. */
export async function runJdo(home: string, args: string[], stdin?: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, ...args],
    cwd: REPO_ROOT,
    env: { ...baseEnv(), ...jdoEnv(home) },
    clearEnv: true,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Runs `jdo ARGS`, asserts it succeeded, returns its stdout. */
export async function seed(home: string, args: string[]): Promise<string> {
  const r = await runJdo(home, args);
  assert.equal(r.code, 0, `jdo ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

/** How much scrollback `screen()` reads: a number of lines, or all of it. */
export type History = number | "all";

export interface TmuxSessionOptions {
  /** Session name; also part of the socket name. */
  name?: string;
  /** Scrollback `screen()` (and so `waitFor`) reads by default. */
  history?: History;
  /** Default `waitFor` timeout. */
  timeoutMs?: number;
  /** How often `waitFor` looks at the screen. */
  pollMs?: number;
}

/** What `waitFor` waits on: a regex to match the screen, or a check. */
export type ScreenCheck<T> =
  | RegExp
  | ((screen: string) => T | undefined | false | Promise<T | undefined | false>);

export class TmuxSession implements AsyncDisposable {
  readonly target: string;
  readonly socket: string;
  readonly history: History;
  readonly timeoutMs: number;
  readonly pollMs: number;

  constructor(options: TmuxSessionOptions = {}) {
    this.target = options.name ?? "jdo";
    this.socket = `jdo-${this.target}-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
    this.history = options.history ?? "all";
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.pollMs = options.pollMs ?? 100;
  }

  /** Runs one tmux command on this session's own server. */
  async run(...args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
    const out = await new Deno.Command("tmux", {
      args: ["-L", this.socket, "-f", "/dev/null", "-u", ...args],
      env: baseEnv(),
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    return {
      ok: out.success,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  }

  /** Like `run`, but throws when tmux fails; returns stdout. */
  async must(...args: string[]): Promise<string> {
    const result = await this.run(...args);
    if (!result.ok) throw new Error(`tmux ${args.join(" ")} failed: ${result.stderr.trim()}`);
    return result.stdout;
  }

  /** Starts `jdo ARGS` in a 120×40 terminal (or `width` columns); the pane stays readable after jdo exits. */
  async start(home: string, args: string[] = [], width = 120): Promise<void> {
    const env = Object.entries(jdoEnv(home)).map(([k, v]) => `${k}=${shellQuote(v)}`);
    const command = [
      "env",
      ...env,
      shellQuote(Deno.execPath()),
      "run",
      "-A",
      "--quiet",
      shellQuote(MAIN),
      ...args.map(shellQuote),
      ";",
      "echo",
      `"[jdo exited with status $?]"`,
    ].join(" ");
    await this.must(
      "new-session",
      "-d",
      "-s",
      this.target,
      "-x",
      String(width),
      "-y",
      "40",
      "-c",
      REPO_ROOT,
      command,
      ";",
      "set-option",
      "-w",
      "-t",
      this.target,
      "remain-on-exit",
      "on",
    );
  }

  /** Types text literally (no key names), then presses Enter unless told not to. */
  async type(text: string, enter = true): Promise<void> {
    await this.must("send-keys", "-t", this.target, "-l", text);
    if (enter) await this.keys("Enter");
  }

  /** Presses keys by tmux name ("Enter", "Up", "C-c", …). */
  async keys(...keys: string[]): Promise<void> {
    await this.must("send-keys", "-t", this.target, ...keys);
  }

  /** The pane and its scrollback, wrapped lines joined, trailing blanks trimmed. */
  async screen({ history = this.history }: { history?: History } = {}): Promise<string> {
    const start = history === "all" ? "-" : `-${history}`;
    const text = await this.must("capture-pane", "-p", "-J", "-S", start, "-t", this.target);
    return text.replace(/[ \t]+$/gm, "").trimEnd();
  }

  /** The line the cursor is on: the prompt and what is typed after it. */
  async inputLine(): Promise<string> {
    const y = Number(
      (await this.must("display-message", "-p", "-t", this.target, "#{cursor_y}")).trim(),
    );
    const visible = await this.must("capture-pane", "-p", "-t", this.target);
    return (visible.split("\n")[y] ?? "").trimEnd();
  }

  /** Whether the pane's process (the shell running jdo) has ended. */
  async paneDead(): Promise<boolean> {
    const result = await this.run("display-message", "-p", "-t", this.target, "#{pane_dead}");
    return !result.ok || result.stdout.trim() === "1";
  }

  /**
   * Polls the screen until `check` returns a value (not undefined or false),
   * or `re` matches (then returns the screen); fails with the last screen.
   */
  waitFor(what: string, check: RegExp, timeoutMs?: number): Promise<string>;
  waitFor<T>(what: string, check: ScreenCheck<T>, timeoutMs?: number): Promise<T>;
  async waitFor<T>(
    what: string,
    check: ScreenCheck<T>,
    timeoutMs = this.timeoutMs,
  ): Promise<T | string> {
    const deadline = Date.now() + timeoutMs;
    let screen = "";
    while (Date.now() < deadline) {
      screen = await this.screen();
      const result = check instanceof RegExp
        ? (check.test(screen) ? screen : undefined)
        : await check(screen);
      if (result !== undefined && result !== false) return result;
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
    throw new Error(`Timed out waiting for ${what}. The screen shows:\n${screen}`);
  }

  /**
   * Waits for jdo to exit and returns its exit status, which the shell
   * around it prints. (tmux's own #{pane_dead_status} is not reliable when
   * the tmux server was started from `deno test`.)
   */
  async exitStatus(what: string): Promise<string> {
    return await this.waitFor(what, async (screen) => {
      const status = screen.match(/^\[jdo exited with status (\d+)\]$/m)?.[1];
      return status !== undefined && await this.paneDead() ? status : undefined;
    });
  }

  /** Kills this session's tmux server (and jdo with it). */
  async kill(): Promise<void> {
    await this.run("kill-server").catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
  }
}
