import type { Command } from "commander";
import type { AppContext } from "../../app/context.ts";
import { renderDashboard } from "../../repl/dashboard.ts";
import type { CommandRunner } from "../../repl/repl.ts";
import { generateDue } from "../../domain/recurring.ts";
import { datesOf, domainOf } from "../shared.ts";

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
    await generateDue(await domainOf(ctx));
    const dashboard = await renderDashboard(
      await ctx.store(),
      datesOf(ctx),
      ctx.io.color,
      10,
      ctx.io.columns(),
    );
    ctx.io.out(dashboard.text);
  });
}
