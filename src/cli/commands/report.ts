import type { Command } from "commander";
import type { AppContext } from "../../app/context.ts";
import { shortIds } from "../../domain/ids.ts";
import { type IntegrityReport, type Trend } from "../../domain/integrity.ts";
import { integrityOf } from "../../domain/integrity_query.ts";
import { style } from "../../output/colors.ts";
import { plural } from "../../output/plural.ts";
import { cellText } from "../../output/cell_text.ts";
import { printJson } from "../shared.ts";

const ARROWS: Record<Trend, string> = { up: "↑", down: "↓", stable: "→" };

function lines(report: IntegrityReport, shorts: Map<string, string>, bold: (s: string) => string) {
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const t = report.trends;
  const out = [
    `${bold("Integrity")}  ${bold(report.grade)} (${report.score}/100) ${ARROWS[t.overall]}`,
    report.completed === 0
      ? `  on time        no completed commitments yet`
      : `  on time        ${
        pct(report.on_time_rate)
      } (${report.on_time} of ${report.completed} completed) ${ARROWS[t.on_time]}`,
    report.at_risk === 0
      ? `  notification   no commitment marked at risk yet`
      : `  notification   ${
        pct(report.notification_timeliness)
      } (warning time; 7+ days ahead is full) ${ARROWS[t.notification]}`,
    report.cleanup_plans === 0
      ? `  cleanup        no cleanup plans yet`
      : `  cleanup        ${
        pct(report.cleanup_completion_rate)
      } (${report.cleanup_plans_done} of ${report.cleanup_plans} plans carried out) ${
        ARROWS[t.cleanup]
      }`,
    report.tasks_with_estimates < 5
      ? `  estimation     ${pct(report.estimation_accuracy)} (fewer than 5 estimated tasks done)`
      : `  estimation     ${
        pct(report.estimation_accuracy)
      } (${report.tasks_with_estimates} tasks)`,
    `  streak         ${plural(report.streak_weeks, "week")} (+${report.streak_bonus})`,
    `  at risk        ${report.at_risk} · abandoned ${report.abandoned}`,
  ];
  if (report.affecting.length) {
    out.push("Affecting your score (last 30 days):");
    for (const a of report.affecting) {
      out.push(
        `  ${shorts.get(a.id) ?? a.id}  ${cellText(a.deliverable, 50)} — ${a.reason}`,
      );
    }
  }
  return out;
}

export function registerReportCommands(program: Command, ctx: AppContext): void {
  program.command("integrity")
    .description(
      "How reliably you keep your word: on time 35%, notification 25%, cleanup 25%, estimation 10%, streak bonus",
    )
    .option("--json", "print every component as a JSON object")
    .action((opts: { json?: boolean }) => integrityAction(ctx, opts));
}

/** `jdo integrity` (also on the fast path: src/cli/fast_commands.ts). */
export async function integrityAction(ctx: AppContext, opts: { json?: boolean }): Promise<void> {
  const store = await ctx.store();
  const report = await integrityOf(store, ctx.clock.now(), ctx.timeZone());
  if (opts.json) return printJson(ctx, report);
  const s = style(ctx.io.color);
  const shorts = await shortIds(store, report.affecting.map((a) => a.id));
  ctx.io.out(lines(report, shorts, s.bold).join("\n"));
}
