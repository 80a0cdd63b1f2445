import type { AppContext } from "../app/context.ts";
import { explainFileError } from "../app/file_errors.ts";
import { OutputClosed } from "../app/io.ts";
import { PromptCancelled } from "../app/prompter.ts";
import { errorLine, EXIT_OK, exitCodeFor, JdoError } from "../errors.ts";
import { safeLine } from "../output/safe_text.ts";
import { maybeSyncInBackground } from "../sync/background.ts";

/**
 * Runs one command (`body`: through commander, src/cli/run.ts, or the fast
 * path, src/cli/fast_commands.ts) and turns any error into a one-line message
 * and an exit code. This is the only place that decides exit codes.
 */
export async function settle(ctx: AppContext, body: () => Promise<void>): Promise<number> {
  try {
    await body();
    await maybeSyncInBackground(ctx);
    return EXIT_OK;
  } catch (raw) {
    // The reader of stdout has gone (`jdo list | head -1`): end quietly, as gh does.
    if (outputClosed(raw)) {
      await maybeSyncInBackground(ctx).catch(() => {});
      return EXIT_OK;
    }
    const error = raw instanceof PromptCancelled
      ? new JdoError("CANCELLED", "Cancelled")
      : explainFileError(raw, ctx.paths.database);
    if (ctx.env.JDO_LOG_LEVEL === "debug" && error instanceof Error) {
      ctx.io.err(error.stack ?? String(error));
      if (error.cause instanceof Error) ctx.io.err(`Caused by: ${error.cause.stack}`);
    }
    const line = errorLine(error);
    if (line) ctx.io.err(safeLine(`jdo: ${line}`));
    return exitCodeFor(error);
  } finally {
    await ctx.close();
  }
}

function outputClosed(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (e instanceof OutputClosed) return true;
  }
  return false;
}
