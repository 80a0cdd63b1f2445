import type { AppContext } from "../../app/context.ts";
import { type Dashboard, renderDashboard } from "../../repl/dashboard.ts";
import { generateDue } from "../../domain/recurring.ts";
import { datesOf, domainOf } from "../shared.ts";

/** The dashboard as of now, after generating the recurring instances now due (as `list` does). */
export async function dashboardNow(ctx: AppContext): Promise<Dashboard> {
  await generateDue(await domainOf(ctx));
  return await renderDashboard(
    await ctx.store(),
    datesOf(ctx),
    ctx.io.color,
    10,
    ctx.io.columns(),
  );
}

/**
 * `jdo` with no command and no terminal: the dashboard, once (also on the
 * fast path: src/cli/fast_commands.ts).
 */
export async function printDashboard(ctx: AppContext): Promise<void> {
  ctx.io.out((await dashboardNow(ctx)).text);
}
