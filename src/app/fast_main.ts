/**
 * The fast path as one module: `deno task gen:help` bundles this file and
 * everything it imports into src/fast_bundle.gen.js (scripts/gen_fast_bundle.ts),
 * which main.ts runs when it is fresh (src/app/fast_bundle.ts). One module
 * instead of ~60 saves Deno ~15 ms of loading on every fast command (issue 20).
 *
 * It answers only what needs no sync in this process (src/cli/fast_commands.ts,
 * `localOnly`): with automatic sync on, the catch-up before a command loads
 * the sync engine from the sources, and a module must never be loaded twice
 * (from the bundle and from the sources), as the two copies would not know
 * each other's classes. For anything else it returns null having run and
 * opened nothing, and main.ts goes on with the sources (src/app/entry.ts).
 */
import { mainContext } from "./main_context.ts";
import { runFast } from "../cli/fast_commands.ts";
import { captureAction, commitAction } from "../cli/commands/add.ts";
import { printDashboard } from "../cli/commands/dashboard.ts";
import { listAction, showAction } from "../cli/commands/items.ts";
import { integrityAction } from "../cli/commands/report.ts";

/**
 * Every fast command's action, by its module and export in FAST_COMMANDS:
 * only these, so that the bundle leaves out the rest of those modules (the
 * commander definitions, the other commands' code).
 */
export const FAST_MODULES: Record<string, Record<string, unknown>> = {
  "./commands/add.ts": { captureAction, commitAction },
  "./commands/dashboard.ts": { printDashboard },
  "./commands/items.ts": { listAction, showAction },
  "./commands/report.ts": { integrityAction },
};

/** The exit code of a fast, local command for `Deno.args`, or null (not one). */
export async function runFastLocal(mainUrl: string): Promise<number | null> {
  const ctx = await mainContext(mainUrl);
  return await runFast(ctx, Deno.args, {
    localOnly: true,
    load: (module) => {
      const found = FAST_MODULES[module];
      if (!found) throw new Error(`the fast path's bundle lacks ${module} (FAST_MODULES)`);
      return Promise.resolve(found);
    },
  });
}
