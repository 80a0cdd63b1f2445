import type { Command } from "commander";
import type { AppContext } from "../../app/context.ts";
import { integrityOf } from "../../domain/integrity_query.ts";
import { style } from "../../output/colors.ts";
import { plural } from "../../output/plural.ts";
import { printJson } from "../shared.ts";

export function registerReportCommands(program: Command, ctx: AppContext): void {
  program.command("integrity")
    .description("How reliably you keep your commitments: score and grade")
    .option("--json", "print a JSON object")
    .action(async (opts: { json?: boolean }) => {
      const report = await integrityOf(await ctx.store(), ctx.clock.now(), ctx.timeZone());
      if (opts.json) return printJson(ctx, report);
      const s = style(ctx.io.color);
      const pct = (x: number) => `${Math.round(x * 100)}%`;
      ctx.io.out([
        `${s.bold("Integrity")}  ${s.bold(report.grade)} (${report.score}/100)`,
        report.completed === 0
          ? `  on time        no completed commitments yet`
          : `  on time        ${
            pct(report.on_time_rate)
          } (${report.on_time} of ${report.completed} completed)`,
        report.late === 0
          ? `  at-risk early  no late commitments`
          : `  at-risk early  ${report.at_risk} of ${
            plural(report.late, "late commitment")
          } flagged before the due date`,
        `  abandoned      ${report.abandoned}`,
        `  streak         ${plural(report.streak_weeks, "week")}`,
      ].join("\n"));
    });
}
