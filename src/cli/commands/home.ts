import type { Command } from "commander";
import type { AppContext } from "../../app/context.ts";
import type { CommandRunner } from "../../repl/repl.ts";
import { printDashboard } from "./dashboard.ts";

/** `jdo` with no command: the REPL on a terminal, the dashboard once otherwise. */
export function registerHome(program: Command, ctx: AppContext, commands: CommandRunner): void {
  program.action(async () => {
    if (ctx.io.stdinIsTty && ctx.io.stdoutIsTty) {
      const { runRepl } = await import("../../repl/repl.ts");
      const { replSyncHook } = await import("../../sync/repl_hook.ts");
      // A broken sync configuration must not keep the REPL from starting.
      const sync = await replSyncHook(ctx).catch(() => undefined);
      await runRepl(ctx, commands, sync);
      return;
    }
    await printDashboard(ctx);
  });
}
