import type { AppContext } from "../app/context.ts";
import { PromptCancelled } from "../app/prompter.ts";
import { describeError, EXIT_OK, exitCodeFor, JdoError } from "../errors.ts";
import { buildProgram, runProgram } from "./program.ts";
import { maybeSyncInBackground } from "../sync/background.ts";

/**
 * Runs one jdo invocation and turns any error into a one-line message and an
 * exit code. This is the only place that decides exit codes.
 */
export async function runJdo(ctx: AppContext, argv: string[]): Promise<number> {
  try {
    await runProgram(buildProgram(ctx), argv);
    await maybeSyncInBackground(ctx);
    return EXIT_OK;
  } catch (raw) {
    const error = raw instanceof PromptCancelled ? new JdoError("CANCELLED", "Cancelled") : raw;
    if (ctx.env.JDO_LOG_LEVEL === "debug" && error instanceof Error) {
      ctx.io.err(error.stack ?? String(error));
      if (error.cause instanceof Error) ctx.io.err(`Caused by: ${error.cause.stack}`);
    }
    const message = describeError(error);
    if (message) {
      const hint = error instanceof JdoError && error.hint ? ` (${error.hint})` : "";
      ctx.io.err(`jdo: ${message}${hint}`);
    }
    return exitCodeFor(error);
  } finally {
    await ctx.close();
  }
}
