/**
 * Start-up reference (`deno task bench --startup`): the least a program can do
 * to print the table `jdo list` prints for the bench's data — built-in
 * node:sqlite, one statement, the cells and the padding by hand, ten writes
 * (jdo prints in pages of 100 rows and widens a page's columns to the widest
 * cell seen so far; this does the same). It knows nothing jdo must handle:
 * other zones, wide or control characters, ids sharing six characters, a
 * terminal's width. The bench checks that its output is jdo's, byte for byte,
 * before timing it; it shows how much of `list`'s time is printing a
 * 1,000-row table at all, whatever the program.
 * Usage: list_table.ts DB_PATH
 */
import { DatabaseSync } from "node:sqlite";

const db = new DatabaseSync(Deno.args[0]);
const statement = db.prepare(
  `SELECT c.id, c.deliverable, c.due_date, c.due_time, c.status, s.name
   FROM commitments c JOIN stakeholders s ON s.id = c.stakeholder_id
   WHERE c.deleted_at IS NULL AND c.status IN ('pending', 'in_progress', 'at_risk')
   ORDER BY c.due_date, c.due_time, c.created_at, c.id`,
);
// (Missing from the Node types; Deno has it.)
(statement as unknown as { setReturnArrays(on: boolean): void }).setReturnArrays(true);
const rows = statement.all() as unknown as string[][];
const now = Date.now();
const today = Date.parse(new Date(now).toISOString().slice(0, 10));
const cut = (text: string, max: number) => text.length > max ? text.slice(0, max - 1) + "…" : text;
const encoder = new TextEncoder();
let widths = [2, 3, 0, 6, 2];
for (let page = 0; page < rows.length; page += 100) {
  const cells: string[][] = [];
  for (const [id, deliverable, date, time, status, person] of rows.slice(page, page + 100)) {
    const day = Date.parse(date);
    const days = Math.round((day - today) / 86_400_000);
    const at = day + (Number(time.slice(0, 2)) * 60 + Number(time.slice(3))) * 60_000;
    const label = at < now
      ? (days < 0 ? `overdue ${-days}d` : "overdue")
      : days <= 0
      ? "today"
      : days === 1
      ? "tomorrow"
      : `in ${days}d`;
    cells.push([
      id.slice(0, 6),
      `${date} ${time}`,
      label,
      status.replace("_", " "),
      cut(person, 20),
      cut(deliverable, 60),
    ]);
  }
  widths = widths.map((w, i) => Math.max(w, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    c.map((cell, i) => i < 5 ? cell.padEnd(widths[i]) : cell).join("  ").trimEnd();
  const lines = cells.map(line);
  if (page === 0) lines.unshift(line(["ID", "DUE", "", "STATUS", "TO", "DELIVERABLE"]));
  const bytes = encoder.encode(lines.join("\n") + "\n");
  for (let n = 0; n < bytes.length;) n += Deno.stdout.writeSync(bytes.subarray(n));
}
db.close();
