/**
 * Time tracking on the command line (issue 19, point 5): the actual-hours
 * question when a task with an estimate is completed, `jdo task history`,
 * and the overcommitting note when a commitment is made.
 */
import type { Command } from "commander";
import type { AppContext } from "../../app/context.ts";
import { entity, type EntityDef, type Row } from "../../db/schema.ts";
import { shortIds } from "../../domain/ids.ts";
import { toRecord } from "../../domain/records.ts";
import {
  ACTUAL_HOURS_CATEGORIES,
  type ActualHoursCategory,
  parseActualHours,
  taskHistory,
} from "../../domain/task_history.ts";
import { commitmentVelocity, overcommitWarning, type Velocity } from "../../domain/time.ts";
import { JdoError } from "../../errors.ts";
import { localTime } from "../../output/local_time.ts";
import { safeLine } from "../../output/safe_text.ts";
import { renderTable } from "../../output/table.ts";
import { cellText } from "../../output/cell_text.ts";
import { printJson, resolveArg } from "../shared.ts";

/**
 * On a terminal, completing an open task that has an estimate asks how the
 * time taken compared with it, as the original does (Enter skips). Off a
 * terminal nothing is asked: scripts pass --actual.
 */
export async function askActualHours(
  ctx: AppContext,
  def: EntityDef,
  row: Row,
): Promise<ActualHoursCategory | undefined> {
  if (def.name !== "task" || row.estimated_hours === null || row.estimated_hours === undefined) {
    return undefined;
  }
  if (!["pending", "in_progress"].includes(String(row.status)) || !ctx.io.stdinIsTty) {
    return undefined;
  }
  ctx.io.err(`Completing: ${cellText(String(row.title), 60)}`);
  ctx.io.err(`Estimated: ${row.estimated_hours} h`);
  ACTUAL_HOURS_CATEGORIES.forEach((c, i) => ctx.io.err(`  [${i + 1}] ${c.label}`));
  for (;;) {
    const answer = (await ctx.prompter.input(
      "How did the time taken compare with the estimate? (1-5, Enter to skip)",
      { default: "" },
    )).trim();
    if (answer === "" || answer.toLowerCase() === "skip") return undefined;
    try {
      return parseActualHours(answer, "The answer");
    } catch (error) {
      if (!(error instanceof JdoError)) throw error;
      ctx.io.err(error.message);
    }
  }
}

/** The commitment velocity before a new one is made (what the original's warning reads). */
export async function velocityNow(ctx: AppContext): Promise<Velocity> {
  return await commitmentVelocity(await ctx.store(), ctx.clock.now());
}

/**
 * After a commitment is made: the original's coaching note when more were
 * made than kept this week. On stderr, like jdo's other notes, so that
 * stdout stays the result a script reads.
 */
export function noteIfOvercommitting(ctx: AppContext, before: Velocity): void {
  const note = overcommitWarning(before);
  if (note) ctx.io.err(`jdo: note: ${note}`);
}

/** `jdo task history ID`: a task's events, or those of every task of a commitment. */
export function registerTaskHistoryCommand(task: Command, ctx: AppContext): void {
  task.command("history")
    .description("Show the history of a task, or of every task of a commitment")
    .argument("<id>", "task or commitment ID or prefix")
    .option("--json", "print a JSON array of events, oldest first")
    .action(async (id: string, opts: { json?: boolean }) => {
      const { def, row } = await resolveArg(ctx, id, ["task", "commitment"]);
      const store = await ctx.store();
      const rowId = String(row.id);
      const events = await taskHistory(
        store,
        def.name === "task" ? { taskId: rowId } : { commitmentId: rowId },
      );
      const eventDef = entity("task_event");
      if (opts.json) {
        printJson(ctx, events.map((e) => toRecord(eventDef, e)));
        return;
      }
      if (events.length === 0) {
        ctx.io.out(`No history for this ${def.name} yet.`);
        return;
      }
      const zone = ctx.timeZone();
      const titles = new Map<string, string>();
      if (def.name === "commitment") {
        const tasks = await store.query("SELECT id, title FROM tasks WHERE commitment_id = ?", [
          rowId,
        ]);
        for (const t of tasks) titles.set(String(t.id), String(t.title));
      }
      const shorts = await shortIds(store, events.map((e) => String(e.task_id)));
      const rows = events.map((e) => {
        const status = (s: unknown) => s === null ? "" : String(s).replace("_", " ");
        const change = e.previous_status === null
          ? status(e.new_status)
          : `${status(e.previous_status)} → ${status(e.new_status)}`;
        const detail = [
          e.estimated_hours === null ? "" : `est. ${e.estimated_hours} h`,
          e.actual_hours_category === null ? "" : `actual ${status(e.actual_hours_category)}`,
          e.notes === null ? "" : safeLine(String(e.notes)),
        ].filter(Boolean).join(", ");
        const taskCell = def.name === "commitment"
          ? [
            `${shorts.get(String(e.task_id)) ?? String(e.task_id).slice(0, 8)} ${
              cellText(titles.get(String(e.task_id)) ?? "(deleted task)", 30)
            }`,
          ]
          : [];
        return [
          localTime(e.created_at, zone),
          ...taskCell,
          String(e.event_type),
          change,
          detail,
        ];
      });
      const headers = [
        "WHEN",
        ...(def.name === "commitment" ? ["TASK"] : []),
        "EVENT",
        "STATUS",
        "DETAILS",
      ];
      ctx.io.out(
        renderTable(headers, rows, { width: ctx.io.columns(), shrink: [headers.length - 1] }),
      );
    });
}
