import type { AppContext } from "../app/context.ts";
import { JdoError } from "../errors.ts";
import { safeLine } from "../output/safe_text.ts";

export interface Confirmation {
  /** --yes was given: go ahead without asking. */
  yes?: boolean;
  /** What is refused off a terminal, e.g. "delete" → "Refusing to delete without --yes …". */
  action: string;
  /** The question asked on a terminal (user text in it is made safe to print). */
  question: string;
  /** The answer Enter gives. */
  defaultAnswer?: boolean;
  /** The message when the user says no, e.g. "Nothing deleted". */
  cancelled: string;
}

/**
 * The one rule for every destructive command: --yes goes ahead; on a terminal
 * the user is asked; off a terminal jdo refuses (exit 2) rather than guess.
 */
export async function confirmDestructive(ctx: AppContext, c: Confirmation): Promise<void> {
  if (c.yes) return;
  if (!ctx.io.stdinIsTty) {
    throw new JdoError(
      "USAGE",
      `Refusing to ${c.action} without --yes when not on a terminal`,
    );
  }
  if (!await ctx.prompter.confirm(safeLine(c.question), c.defaultAnswer ?? false)) {
    throw new JdoError("CANCELLED", c.cancelled);
  }
}
