/**
 * Everything `jdo` does after the fast path (main.ts): the context, the
 * command, the exit code.
 */

import type { runJdo as RunJdo } from "../cli/run.ts";

/** Runs jdo for `Deno.args`; `mainUrl` is main.ts (for the REPL's own command line). */
export async function runMain(mainUrl: string): Promise<number> {
  const { mainContext } = await import("./main_context.ts");
  const { runFast } = await import("../cli/fast_commands.ts");
  const ctx = await mainContext(mainUrl);
  // The commands typed all day run without commander (src/cli/fast_commands.ts);
  // the rest, and anything unusual in their argv, through the command tree.
  const fast = await runFast(ctx, Deno.args);
  if (fast !== null) return fast;
  // A variable specifier, like main.ts's: Deno would otherwise prepare the
  // whole command tree before the fast path runs (scripts/compile.ts --includes it).
  const RUN = "../cli/run.ts";
  const { runJdo }: { runJdo: typeof RunJdo } = await import(RUN);
  return await runJdo(ctx, Deno.args);
}
