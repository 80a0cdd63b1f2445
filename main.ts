// Entry point: build the context, run the command, exit with its code.

// `jdo --version` and `jdo --help` need no command tree: answered before the
// big imports (src/cli/fast_path.ts), with commander's own text.
import { fastAnswer } from "./src/cli/fast_path.ts";
{
  const answer = fastAnswer(Deno.args, terminalColumns() ?? 80);
  if (answer !== null) {
    const bytes = new TextEncoder().encode(answer.trimEnd() + "\n");
    try {
      for (let written = 0; written < bytes.length;) {
        written += Deno.stdout.writeSync(bytes.subarray(written));
      }
    } catch (error) {
      // The reader went away (`jdo --help | head -1`): end quietly, as gh does.
      if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
    }
    Deno.exit(0);
  }
}

/** The width commander lays help out in: the terminal's, none for a pipe. */
function terminalColumns(): number | undefined {
  if (!Deno.stdout.isTerminal()) return undefined;
  try {
    return Deno.consoleSize().columns;
  } catch {
    return undefined;
  }
}

// The native libSQL library reads RUST_LOG when it loads: keep it silent.
if (!Deno.env.get("RUST_LOG")) Deno.env.set("RUST_LOG", "off");
// Every file jdo (or the native libSQL library) creates is the user's alone,
// whatever the shell's umask: 0600 files, 0700 directories.
// Best effort: the compiled binary's narrower --allow-sys does not allow it
// (and Deno has no descriptor for it); the chmods after each file is created
// (database, replica files, backups) still apply there.
if (Deno.build.os !== "windows") {
  try {
    (await import("node:process")).default.umask(0o077);
  } catch {
    // not allowed here
  }
}

// `deno task start` runs jdo in the repository root; relative paths the user
// typed (`export --out x.json`, `import PATH`, `db backup --out`, a relative
// JDO_HOME) mean the directory they typed them in, which deno task passes as
// INIT_CWD. Only then: an INIT_CWD left by some other tool is ignored.
const { startedByDenoTask } = await import("./src/app/init_cwd.ts");
const initCwd = Deno.env.get("INIT_CWD");
if (initCwd && startedByDenoTask(new URL(".", import.meta.url), Deno.build.standalone)) {
  try {
    Deno.chdir(initCwd);
  } catch {
    // The directory is gone: stay where deno task put us.
  }
}

const { createContext } = await import("./src/app/context.ts");
const { denoIo } = await import("./src/app/io.ts");
const { terminalPrompter } = await import("./src/app/prompter.ts");
const { offsetClock, systemClock } = await import("./src/db/store.ts");
const { runJdo } = await import("./src/cli/run.ts");

const env = Deno.env.toObject();
// Tests only. JDO_TEST_WORLD_OFFSET_MS moves the whole test world: this
// device's clock and the cloud's as read from here (so a test written for a
// fixed "now" runs the same at any hour). JDO_TEST_CLOCK_OFFSET_MS moves this
// device's clock alone (a device whose clock is wrong).
const world = Number(env.JDO_TEST_WORLD_OFFSET_MS ?? 0) || 0;
const offset = world + (Number(env.JDO_TEST_CLOCK_OFFSET_MS ?? 0) || 0);
const ctx = createContext({
  env,
  io: denoIo(env, Deno.args.includes("--no-color")),
  clock: offset ? offsetClock(offset) : systemClock,
  cloudClockOffsetMs: world,
  prompter: terminalPrompter(),
  selfCommand: Deno.build.standalone
    ? [Deno.execPath()]
    : [Deno.execPath(), "run", "-A", "--quiet", new URL(import.meta.url).pathname],
});
Deno.exit(await runJdo(ctx, Deno.args));
