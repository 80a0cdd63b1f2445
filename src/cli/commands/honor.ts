import type { Command } from "commander";
import type { AppContext } from "../../app/context.ts";
import { transition, type Verb } from "../../domain/actions.ts";
import { abandonWarning, markAtRisk, recoverCommitment } from "../../domain/honor.ts";
import { shortIds } from "../../domain/ids.ts";
import { loadRecord } from "../../domain/records.ts";
import type { Row } from "../../db/schema.ts";
import { JdoError } from "../../errors.ts";
import { safeLine } from "../../output/safe_text.ts";
import { confirmDestructive } from "../confirm.ts";
import { domainOf, printJson, reportTransition, resolveArg } from "../shared.ts";

/**
 * The honor-your-word commands: `at-risk` (notification task + cleanup
 * plan), `recover`, and `abandon`, which first suggests notifying the
 * stakeholder of a commitment owed to someone.
 */
export function registerHonorCommands(
  program: Command,
  ctx: AppContext,
  help: Record<Verb, string>,
): void {
  program.command("at-risk")
    .description(
      `${help["at-risk"]}: adds the task of notifying its stakeholder and a cleanup plan`,
    )
    .argument("<id>", "commitment ID or prefix")
    .option("--reason <text>", "why it may slip (goes into the notification draft)")
    .option("--impact <text>", "what missing it would cause (kept in the cleanup plan)")
    .option("--json", "print the changed commitment as JSON")
    .action(async (id: string, opts: { reason?: string; impact?: string; json?: boolean }) => {
      const { def, row } = await resolveArg(ctx, id);
      const d = await domainOf(ctx);
      if (def.name !== "commitment") {
        await transition(d, "at-risk", def, row); // refuses, naming what can be at risk
        return;
      }
      const result = await markAtRisk(d, row, opts);
      const store = await ctx.store();
      if (opts.json) {
        return printJson(ctx, await loadRecord(store, def, String(row.id)));
      }
      const taskId = String(result.notificationTask.id);
      const shorts = await shortIds(store, [String(row.id), taskId]);
      const task = shorts.get(taskId) ?? taskId;
      ctx.io.out(safeLine(`Commitment ${shorts.get(String(row.id))} is now at risk`));
      ctx.io.out(safeLine(
        `${result.taskCreated ? "Added" : "Kept"} task ${task}: ${result.notificationTask.title}`,
      ));
      ctx.io.out(
        `Next: notify them (draft: jdo show ${task}), then jdo complete ${task}; ` +
          `jdo recover ${shorts.get(String(row.id))} if it gets back on track`,
      );
    });

  program.command("recover")
    .description("Return an at-risk commitment to in progress (its cleanup plan is cancelled)")
    .argument("<id>", "commitment ID or prefix")
    .option("--resolved", "the situation resolved itself: skip the notification task")
    .option("--json", "print the changed commitment as JSON")
    .action(async (id: string, opts: { resolved?: boolean; json?: boolean }) => {
      const { def, row } = await resolveArg(ctx, id, ["commitment"]);
      const result = await recoverCommitment(await domainOf(ctx), row, opts.resolved === true);
      const store = await ctx.store();
      if (opts.json) return printJson(ctx, await loadRecord(store, def, String(row.id)));
      const short = (await shortIds(store, [String(row.id)])).get(String(row.id));
      ctx.io.out(`Commitment ${short} is back in progress; its cleanup plan is cancelled`);
      const task = result.notificationTask;
      if (result.notificationStillNeeded && task) {
        const t = (await shortIds(store, [String(task.id)])).get(String(task.id));
        ctx.io.out(
          `The notification task ${t} is still open: complete it once they know, ` +
            `or skip it with jdo abandon ${t} if they no longer need to`,
        );
      }
    });

  program.command("abandon")
    .description(help.abandon)
    .argument("<id>", "item ID or prefix")
    .option("--yes", "abandon an at-risk commitment without notifying its stakeholder")
    .option("--json", "print the changed item as JSON")
    .action(async (id: string, opts: { yes?: boolean; json?: boolean }) => {
      const { def, row } = await resolveArg(ctx, id);
      const d = await domainOf(ctx);
      if (def.name === "commitment") await warnBeforeAbandon(ctx, row, opts.yes === true);
      if (
        def.name === "task" && Number(row.is_notification_task) === 1 && row.status !== "skipped"
      ) {
        await confirmDestructive(ctx, {
          yes: opts.yes,
          action: "skip the stakeholder notification",
          question: "Skipping the stakeholder notification affects your integrity. Skip it anyway?",
          cancelled: "Nothing skipped",
        });
      }
      const updated = await transition(d, "abandon", def, row);
      await reportTransition(ctx, opts.json, def, row, updated);
    });
}

/**
 * At risk and not yet notified: asks (refused off a terminal without --yes),
 * since the cleanup plan is then skipped. Owed to someone else and not at
 * risk: on a terminal, asks whether to abandon without notifying them first;
 * in a script, goes ahead and says how to notify next time.
 */
async function warnBeforeAbandon(ctx: AppContext, row: Row, yes: boolean): Promise<void> {
  const warning = await abandonWarning(await domainOf(ctx), row);
  if (!warning || yes) return;
  const store = await ctx.store();
  const short = (await shortIds(store, [String(row.id)])).get(String(row.id));
  const name = safeLine(warning.stakeholder);
  if (warning.kind === "not_notified") {
    if (!ctx.io.stdinIsTty) {
      throw new JdoError(
        "USAGE",
        `You have not notified ${name} yet (the notification task is open): abandoning now skips the cleanup plan and lowers your integrity; complete the notification task first, or use --yes`,
      );
    }
    await confirmDestructive(ctx, {
      action: "abandon",
      question: `You have not notified ${name} yet. Abandon anyway (the cleanup plan is skipped)?`,
      cancelled: "Nothing abandoned; complete the notification task first",
    });
    return;
  }
  if (!ctx.io.stdinIsTty) {
    ctx.io.err(
      `Hint: this commitment was owed to ${name}; jdo at-risk ${short} first adds the task of notifying them`,
    );
    return;
  }
  await confirmDestructive(ctx, {
    action: "abandon",
    question:
      `This commitment is owed to ${name}. Abandon it without marking it at risk and notifying them first?`,
    cancelled: `Nothing abandoned. Recommended: jdo at-risk ${short}, notify ${name}, then abandon`,
  });
}
