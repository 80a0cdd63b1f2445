import type { Command } from "commander";
import type { AppContext } from "../../app/context.ts";
import { entity } from "../../db/schema.ts";
import { todayIn } from "../../domain/dates.ts";
import { shortIds } from "../../domain/ids.ts";
import { toRecord } from "../../domain/records.ts";
import { dueForReview, recordReview } from "../../domain/review.ts";
import { renderTable } from "../../output/table.ts";
import { cellText } from "../../output/cell_text.ts";
import { datesOf, domainOf, printJson, reportWrite, resolveArg } from "../shared.ts";

/** `jdo review`: goals and visions due for review; `jdo review ID` records one. */
export function registerReviewCommand(program: Command, ctx: AppContext): void {
  program.command("review")
    .description("List goals and visions due for review, or record a review of one")
    .argument("[id]", "the goal or vision reviewed")
    .option("--json", "print the list (or the reviewed row, as show --json) as JSON")
    .action(async (id: string | undefined, opts: { json?: boolean }) => {
      if (id !== undefined) {
        const { def, row } = await resolveArg(ctx, id, ["goal", "vision"]);
        const kind = def.name as "goal" | "vision";
        const updated = await recordReview(await domainOf(ctx), kind, row);
        const next = updated.next_review_date
          ? `next review ${updated.next_review_date}`
          : "no next review: the goal has no interval (jdo edit ID --review 7|30|90)";
        await reportWrite(
          ctx,
          opts.json,
          def,
          String(row.id),
          (short) => `Reviewed ${kind} ${short}: ${row.title}; ${next}`,
        );
        return;
      }
      const store = await ctx.store();
      const due = await dueForReview(store, todayIn(datesOf(ctx)));
      if (opts.json) {
        printJson(ctx, due.map((d) => ({ kind: d.kind, ...toRecord(entity(d.kind), d.row) })));
        return;
      }
      if (due.length === 0) {
        ctx.io.out("No goals or visions due for review.");
        return;
      }
      const shorts = await shortIds(store, due.map((d) => String(d.row.id)));
      const rows = due.map((d) => [
        shorts.get(String(d.row.id)) ?? String(d.row.id),
        d.kind,
        String(d.row.next_review_date),
        cellText(String(d.row.title), 70),
      ]);
      ctx.io.out(
        renderTable(["ID", "KIND", "REVIEW DUE", "TITLE"], rows, {
          shrink: [3],
          width: ctx.io.columns(),
        }),
      );
    });
}
