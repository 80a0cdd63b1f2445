import type { AppContext } from "../../app/context.ts";
import { renderDashboard } from "../../repl/dashboard.ts";
import { generateDue } from "../../domain/recurring.ts";
import { datesOf, domainOf } from "../shared.ts";

/**
 * `jdo` with no command and no terminal: the dashboard, once (also on the
 * fast path: src/cli/fast_commands.ts).
 */
export async function printDashboard(ctx: AppContext): Promise<void> {
  await generateDue(await domainOf(ctx));
  const dashboard = await renderDashboard(
    await ctx.store(),
    datesOf(ctx),
    ctx.io.color,
    10,
    ctx.io.columns(),
  );
  ctx.io.out(dashboard.text);
}
