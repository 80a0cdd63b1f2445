import type { Command } from "commander";
import type { AppContext } from "../../app/context.ts";
import { renderDashboard } from "../../repl/dashboard.ts";
import { datesOf } from "../shared.ts";

/** `jdo` with no command: the REPL on a terminal, the dashboard once otherwise. */
export function registerHome(program: Command, ctx: AppContext): void {
  program.action(async () => {
    if (ctx.io.stdinIsTty && ctx.io.stdoutIsTty) {
      const { runRepl } = await import("../../repl/repl.ts");
      await runRepl(ctx, program);
      return;
    }
    const dashboard = await renderDashboard(await ctx.store(), datesOf(ctx), ctx.io.color);
    ctx.io.out(dashboard.text);
  });
}
