/**
 * Drives the real REPL in a real terminal (tmux), the way a person would:
 * typing commands, pressing arrow keys, Ctrl-U, Ctrl-C, and reading the
 * screen. Each run uses its own tmux server socket, so it never touches the
 * developer's tmux sessions, and kills that server when done.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
const MAIN = join(REPO_ROOT, "main.ts");

async function tmuxInstalled(): Promise<boolean> {
  try {
    const out = await new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

const HAVE_TMUX = await tmuxInstalled();

/** The environment jdo runs with: a private home, no developer settings leaking in. */
function jdoEnv(home: string): Record<string, string> {
  return {
    JDO_HOME: home,
    JDO_TIMEZONE: "UTC",
    JDO_SYNC_AUTO: "0",
    NO_COLOR: "1",
    RUST_LOG: "off",
  };
}

/** A minimal environment for tmux and the shell it starts. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { TERM: "xterm-256color", LANG: "C.UTF-8" };
  for (const key of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"]) {
    const value = Deno.env.get(key);
    if (value !== undefined) env[key] = value;
  }
  return env;
}

const shellQuote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

class Tmux {
  readonly socket = `jdo-test-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  readonly target = "repl";

  /** Runs one tmux command on this test's own server; returns stdout. */
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

  async must(...args: string[]): Promise<string> {
    const result = await this.run(...args);
    if (!result.ok) throw new Error(`tmux ${args.join(" ")} failed: ${result.stderr.trim()}`);
    return result.stdout;
  }

  /** Starts jdo in a 120×40 terminal; the pane stays readable after jdo exits. */
  async start(home: string): Promise<void> {
    const env = Object.entries(jdoEnv(home)).map(([k, v]) => `${k}=${shellQuote(v)}`);
    const command = [
      "env",
      ...env,
      shellQuote(Deno.execPath()),
      "run",
      "-A",
      "--quiet",
      shellQuote(MAIN),
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
      "120",
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

  async keys(...keys: string[]): Promise<void> {
    await this.must("send-keys", "-t", this.target, ...keys);
  }

  /** The whole pane, scrollback included, with trailing blanks trimmed. */
  async screen(): Promise<string> {
    const text = await this.must("capture-pane", "-p", "-J", "-S", "-", "-t", this.target);
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
   * Waits for jdo to exit and returns its exit status, which the shell
   * around it prints. (tmux's own #{pane_dead_status} is not reliable when
   * the tmux server was started from `deno test`.)
   */
  async exitStatus(what: string): Promise<string> {
    return await waitFor(this, what, async (screen) => {
      const status = screen.match(/^\[jdo exited with status (\d+)\]$/m)?.[1];
      return status !== undefined && await this.paneDead() ? status : undefined;
    });
  }

  async kill(): Promise<void> {
    await this.run("kill-server").catch(() => {});
  }
}

/** Polls until `check` returns a value (not undefined); fails with the last screen. */
async function waitFor<T>(
  tmux: Tmux,
  what: string,
  check: (screen: string) => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let screen = "";
  while (Date.now() < deadline) {
    screen = await tmux.screen();
    const result = await check(screen);
    if (result !== undefined && result !== false) return result;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Timed out waiting for ${what}. The screen shows:\n${screen}`);
}

/** What was printed after the last time `command` was typed at the prompt. */
function after(screen: string, command: string): string | undefined {
  const marker = `jdo› ${command}\n`;
  const at = screen.lastIndexOf(marker);
  return at < 0 ? undefined : screen.slice(at + marker.length);
}

/** Output of `command`, once the next prompt shows it has finished. */
function answered(screen: string, command: string): string | undefined {
  const rest = after(screen, command);
  if (rest === undefined) return undefined;
  const end = rest.search(/^jdo›/m);
  return end < 0 ? undefined : rest.slice(0, end);
}

async function seed(home: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, ...args],
    cwd: REPO_ROOT,
    env: { ...baseEnv(), ...jdoEnv(home) },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  assert.equal(out.code, 0, `jdo ${args.join(" ")} failed: ${decoder.decode(out.stderr)}`);
  return decoder.decode(out.stdout);
}

Deno.test({
  name: HAVE_TMUX
    ? "REPL in tmux: dashboard, /commit, /list, history keys, /N, errors, /exit, Ctrl-C"
    : "REPL in tmux (skipped: tmux not installed)",
  ignore: !HAVE_TMUX,
  fn: async () => {
    const home = await Deno.makeTempDir({ prefix: "jdo-repl-e2e-" });
    const tmux = new Tmux();
    try {
      await seed(home, ["commit", "Ship report", "--to", "Alice", "--due", "tomorrow"]);

      // 1. The dashboard, then a prompt.
      await tmux.start(home);
      await waitFor(
        tmux,
        "the dashboard",
        (s) => s.includes("Ship report") && /^jdo›/m.test(s),
        20_000,
      );
      const dashboard = await tmux.screen();
      assert.match(dashboard, /1 active commitment/);
      assert.match(dashboard, / 1\.\s+[0-9a-f]{6}\s+.*Ship report → Alice/);

      // 2. /commit with the same arguments as `jdo commit`.
      const commitLine = "/commit Second thing --to Bob --due friday";
      await tmux.type(commitLine);
      const committed = await waitFor(tmux, "/commit to answer", (s) => answered(s, commitLine));
      assert.match(committed, /Committed [0-9a-f]{6}: "Second thing" to Bob, due \d{4}-\d\d-\d\d/);

      // 3. /list shows both.
      await tmux.type("/list");
      const listed = await waitFor(tmux, "/list to answer", (s) => answered(s, "/list"));
      assert.match(listed, /Ship report/);
      assert.match(listed, /Second thing/);
      const rows = listed.split("\n").filter((line) => /^[0-9a-f]{6}\s/.test(line));
      assert.equal(rows.length, 2, listed);
      const first = rows[0].includes("Ship report") ? "Ship report" : "Second thing";

      // 4. History: Up twice brings back the /commit line, Ctrl-U clears it.
      await tmux.keys("Up");
      await waitFor(
        tmux,
        "Up to recall /list",
        async () => (await tmux.inputLine()) === "jdo› /list" || undefined,
      );
      await tmux.keys("Up");
      await waitFor(
        tmux,
        "Up again to recall /commit",
        async () => (await tmux.inputLine()) === `jdo› ${commitLine}` || undefined,
      );
      await tmux.keys("C-u");
      await waitFor(
        tmux,
        "Ctrl-U to clear the line",
        async () => (await tmux.inputLine()) === "jdo›" || undefined,
      );

      // 5. /1 shows the first commitment of the last list in full.
      await tmux.type("/1");
      const picked = await waitFor(tmux, "/1 to answer", (s) => answered(s, "/1"));
      assert.match(picked, new RegExp(`^deliverable\\s+${first}$`, "m"));
      assert.match(picked, /^status\s+pending$/m);

      // 6. An unknown command is a one-line error; the REPL still answers.
      await tmux.type("/bogus");
      const bogus = await waitFor(tmux, "/bogus to answer", (s) => answered(s, "/bogus"));
      assert.equal(bogus.trim(), 'jdo: Unknown command "/bogus". Type /help for commands.');
      await tmux.type("/help");
      const help = await waitFor(tmux, "/help to answer", (s) => answered(s, "/help"));
      assert.match(help, /\/commit TEXT/);
      assert.match(help, /\/exit/);

      // 7. Text without a slash is not captured: a hint instead.
      await tmux.type("buy milk");
      const hint = await waitFor(tmux, "a hint", (s) => answered(s, "buy milk"));
      assert.equal(hint.trim(), "Type /help for commands, or /commit … to make a commitment");

      // 8. /exit ends the process cleanly.
      await tmux.type("/exit");
      assert.equal(
        await tmux.exitStatus("jdo to exit after /exit"),
        "0",
        `jdo exits with status 0; the screen shows:\n${await tmux.screen()}`,
      );
      const last = await tmux.screen();
      assert.doesNotMatch(last, /error: |Uncaught|\n\s+at /, "no stack trace on the screen");

      // 9. History persists, in a file only the user can read.
      const historyPath = join(home, "repl_history");
      const saved = (await Deno.readTextFile(historyPath)).split("\n");
      assert.ok(saved.includes(commitLine) && saved.includes("/bogus"), saved.join("\n"));
      assert.equal((await Deno.stat(historyPath)).mode! & 0o777, 0o600);
      await tmux.kill();

      // 10. A new session: Up recalls the last line of the previous one;
      // Ctrl-C clears a typed line, and Ctrl-C on an empty line leaves.
      const again = new Tmux();
      try {
        await again.start(home);
        await waitFor(again, "the second dashboard", (s) => /^jdo›/m.test(s), 20_000);
        await again.keys("Up");
        await waitFor(
          again,
          "Up to recall /exit",
          async () => (await again.inputLine()) === "jdo› /exit" || undefined,
        );
        await again.keys("C-c");
        await waitFor(
          again,
          "Ctrl-C to clear the line",
          async () => (await again.inputLine()) === "jdo›" || undefined,
        );
        assert.equal(await again.paneDead(), false, "Ctrl-C on a typed line does not exit");
        await again.keys("C-c");
        assert.equal(
          await again.exitStatus("Ctrl-C on an empty line to exit"),
          "0",
          `jdo exits with status 0; the screen shows:\n${await again.screen()}`,
        );
      } finally {
        await again.kill();
      }
    } finally {
      await tmux.kill();
      await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  },
});
