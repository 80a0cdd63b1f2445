import type { Command } from "commander";
import type { AppContext } from "../app/context.ts";
import { renderDashboard } from "./dashboard.ts";
import { datesOf } from "../cli/shared.ts";

export async function runRepl(ctx: AppContext, _program: Command): Promise<void> {
  const dashboard = await renderDashboard(await ctx.store(), datesOf(ctx), ctx.io.color);
  ctx.io.out(dashboard.text);
}
