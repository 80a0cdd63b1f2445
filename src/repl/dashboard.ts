import { entity } from "../db/schema.ts";
import type { Store } from "../db/store.ts";
import type { DateContext } from "../domain/dates.ts";
import { shortIds } from "../domain/ids.ts";
import { integrityOf } from "../domain/integrity_query.ts";
import { countRecords, goalProgress, type JsonRecord, listRecords } from "../domain/records.ts";
import { stalledCommitments } from "../domain/time.ts";
import { localTime } from "../output/local_time.ts";
import { cellText } from "../output/cell_text.ts";
import { dueCells } from "../output/due_label.ts";
import { style, truncateWidth, visibleWidth } from "../output/colors.ts";
import { renderTable } from "../output/table.ts";

export function progressBarText(done: number, total: number, width = 10): string {
  const filled = total === 0 ? 0 : Math.round((done / total) * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total}`;
}

/** Stalled commitments listed by name (the original shows five of each risk). */
const STALLED_SHOWN = 5;

export interface Dashboard {
  text: string;
  /** The commitments shown, in order, for /1…/5. */
  shown: JsonRecord[];
}

/** The overview shown by `jdo`: commitments, goals, integrity and inbox. */
export async function renderDashboard(
  store: Store,
  dates: DateContext,
  color: boolean,
  limit = 10,
  /** Columns to fit in (the terminal's); undefined: no limit. */
  width?: number,
): Promise<Dashboard> {
  const s = style(color);
  // Counts and the first rows only: the cost does not grow with the tables.
  const active = await countRecords(store, entity("commitment"));
  const shownCommitments = await listRecords(store, entity("commitment"), {
    limit,
    timeZone: dates.timeZone,
    time: false, // the dashboard shows no hours
  });
  const goals = await listRecords(store, entity("goal"), { limit });
  const inbox = await countRecords(store, entity("inbox"));
  const report = await integrityOf(store, dates.now, dates.timeZone);
  const stalled = await stalledCommitments(store, dates.now, dates.timeZone);
  const shorts = await shortIds(
    store,
    [...shownCommitments, ...goals, ...stalled].map((r) => String(r.id)),
  );
  const lines: string[] = [];
  lines.push(
    `${s.bold("jdo")}  ${active} active commitment${active === 1 ? "" : "s"} · integrity ${
      s.bold(report.grade)
    } (${report.score}) · inbox ${inbox}`,
  );
  lines.push("");
  lines.push(s.bold("Commitments"));
  if (shownCommitments.length === 0) {
    lines.push(`  none — make one: jdo commit "Send the report" --to Alex --due friday`);
  } else {
    const what = shownCommitments.map((r) => ({
      deliverable: cellText(String(r.deliverable), 50),
      to: `→ ${cellText(String(r.stakeholder ?? "?"), 20)}`,
    }));
    // Narrow terminals cut the deliverable and keep whom it is for.
    const cut = (row: number, _column: number, width: number) => {
      const room = width - visibleWidth(what[row].to) - 1;
      return room >= 8
        ? `${truncateWidth(what[row].deliverable, room)} ${what[row].to}`
        : undefined;
    };
    // Each row's clock and label at once (the same as dueOnViewerClock and dueLabel).
    const cells = dueCells(dates);
    const rows = shownCommitments.map((r, i) => {
      const { clock, label: due } = cells(r);
      const marker = due.level === 2
        ? s.red(`⚠ ${due.text}`)
        : due.level === 1
        ? s.yellow(due.text)
        : s.dim(due.text);
      return [
        ` ${i + 1}.`,
        s.dim(shorts.get(String(r.id)) ?? ""),
        clock,
        marker,
        `${what[i].deliverable} ${what[i].to}`,
      ];
    });
    lines.push(
      renderTable(["", "ID", "DUE", "", "DELIVERABLE → TO"], rows, {
        width,
        shrink: [4],
        drop: [2],
        cut,
      }),
    );
    if (active > limit) {
      lines.push(s.dim(`  … and ${active - limit} more (jdo list)`));
    }
  }
  if (stalled.length > 0) {
    // The original's "stalled" risk: in progress, due within two days, untouched for a day.
    lines.push("");
    lines.push(
      s.yellow(s.bold(`Stalled (in progress, due soon, nothing done for 24 h): ${stalled.length}`)),
    );
    for (const c of stalled.slice(0, STALLED_SHOWN)) {
      lines.push(
        `  ${s.dim(shorts.get(c.id) ?? "")}  ${cellText(c.deliverable, 50)} → ${
          cellText(c.stakeholder || "?", 20)
        }  ${s.dim(`last activity ${localTime(c.last_activity_at, dates.timeZone)}`)}`,
      );
    }
    if (stalled.length > STALLED_SHOWN) {
      lines.push(s.dim(`  … and ${stalled.length - STALLED_SHOWN} more`));
    }
  }
  lines.push("");
  lines.push(s.bold("Goals"));
  if (goals.length === 0) lines.push('  none — add one: jdo goal add "Ship v2"');
  for (const g of goals) {
    const p = await goalProgress(store, String(g.id));
    lines.push(
      `  ${s.dim(shorts.get(String(g.id)) ?? "")}  ${progressBarText(p.done, p.total)}  ${
        cellText(String(g.title), 50)
      }`,
    );
  }
  const text = lines.join("\n");
  const fitted = width === undefined
    ? text
    : text.split("\n").map((line) => truncateWidth(line, width)).join("\n");
  return { text: fitted, shown: shownCommitments };
}
