import { visibleWidth } from "./colors.ts";

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) =>
    Math.max(visibleWidth(h), ...rows.map((r) => visibleWidth(r[i] ?? "")))
  );
  const line = (cells: string[]) =>
    cells.map((cell, i) =>
      i === cells.length - 1 ? cell : cell + " ".repeat(widths[i] - visibleWidth(cell))
    ).join("  ").trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}
