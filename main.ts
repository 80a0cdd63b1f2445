// Entry point: build the context, run the command, exit with its code.

// One small module decides what loads next (src/app/fast_bundle.ts); every
// other import names its module in a variable, so Deno prepares it only when
// this run needs it (a literal import() is prepared before the first line).
import type { runMain as RunMain } from "./src/app/entry.ts";
import type { runFastLocal as RunFastLocal } from "./src/app/fast_main.ts";
import type { fastAnswer as FastAnswer } from "./src/cli/fast_path.ts";
import {
  asksVersionOrHelp,
  BUNDLE_SPECIFIER,
  fastBundleFresh,
  mayBeFast,
} from "./src/app/fast_bundle.ts";

// `jdo --version` and `jdo --help` need no command tree: answered before the
// big imports (src/cli/fast_path.ts), with commander's own text.
if (asksVersionOrHelp(Deno.args)) {
  const FAST_PATH = "./src/cli/fast_path.ts";
  const { fastAnswer }: { fastAnswer: typeof FastAnswer } = await import(FAST_PATH);
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
// Best effort: where it is not allowed the chmods after each file is created
// (database, replica files, backups) still apply. Deno.umask, not
// node:process's: loading node:process costs ~10 ms of Node compatibility.
if (Deno.build.os !== "windows") {
  try {
    Deno.umask(0o077);
  } catch {
    // not allowed here
  }
}

// The commands typed all day run from one bundled module (src/app/fast_main.ts
// says what it answers): Deno loads one file instead of ~60. It is built and
// checked like any compiled artifact (`deno task gen:help`; a stale bundle
// fails the tests and the binary's build), so jdo trusts it, unless
// JDO_FAST_BUNDLE=check (`deno task start`, the tests: only a bundle that
// matches the sources is run, src/app/fast_bundle.ts) or 0 (never).
// No `new URL` on the way: a process's first URL costs ~0.3 ms.
{
  const mode = Deno.env.get("JDO_FAST_BUNDLE");
  if (
    mode !== "0" && mayBeFast(Deno.args) &&
    (mode !== "check" || await fastBundleFresh(new URL(".", import.meta.url)))
  ) {
    const bundle: { runFastLocal: typeof RunFastLocal } | null = await import(BUNDLE_SPECIFIER)
      .catch(() => null); // no bundle: the sources answer
    const code = bundle ? await bundle.runFastLocal(import.meta.url) : null;
    if (code !== null) Deno.exit(code);
  }
}

// The rest of jdo. The specifier is a variable on purpose: Deno prepares every
// module a literal import() names (and the npm packages they use) before the
// first line runs, which --version and --help must not pay for.
// scripts/compile.ts --includes src/app/entry.ts for the binary.
const ENTRY = "./src/app/entry.ts";
const { runMain }: { runMain: typeof RunMain } = await import(ENTRY);
Deno.exit(await runMain(import.meta.url));
