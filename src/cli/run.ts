import type { AppContext } from "../app/context.ts";
import { buildProgram, runProgram } from "./program.ts";
import type { Command } from "commander";
import { catchUpIfStale } from "../sync/freshness.ts";
import { settle } from "./outcome.ts";

/**
 * Runs one jdo invocation through the whole command tree (commander): every
 * command, help, suggestions. Errors become one line and an exit code
 * (src/cli/outcome.ts).
 */
export function runJdo(ctx: AppContext, argv: string[]): Promise<number> {
  return settle(ctx, () => runProgram(withCatchUp(buildProgram(ctx), ctx), argv));
}

/**
 * Before the first command action (after its options were checked): a stale
 * view of the cloud catches up, within a bounded wait (src/sync/freshness.ts).
 */
function withCatchUp(program: Command, ctx: AppContext): Command {
  let checked = false;
  program.hook("preAction", async (_root, action) => {
    if (checked) return;
    checked = true;
    const path: string[] = [];
    for (let c: Command | null = action; c && c !== program; c = c.parent) path.unshift(c.name());
    await catchUpIfStale(ctx, path);
  });
  return program;
}
