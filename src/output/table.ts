import { isNarrow, truncateWidth, visibleWidth } from "./colors.ts";

/** How a table fits the terminal. */
export interface Fit {
  /** Columns to fit in; undefined: no limit (a pipe without COLUMNS). */
  width?: number;
  /** Columns that may be shortened with "…" (the widest gives way first). */
  shrink?: number[];
  /** Columns left out, in this order, when shortening alone cannot fit. */
  drop?: number[];
  /** Columns at least this wide (a later page of a table printed in pages keeps earlier widths). */
  atLeast?: number[];
  /** Shortens one cell to `width` its own way (e.g. keep "→ TO", cut the deliverable). */
  cut?: (row: number, column: number, width: number) => string | undefined;
}

const SEPARATOR = 2;
const MIN_SHRUNK = 8;

/**
 * Left-aligned columns separated by two spaces; the last column is not padded.
 * With a width, no line is longer than it: shrinkable columns are cut with
 * "…", then droppable columns go, and a line still too long is cut at the end.
 */
export function renderTable(headers: string[], rows: string[][], fit: Fit = {}): string {
  return layoutTable(headers, rows, fit).text;
}

/**
 * renderTable's text and the natural widths it laid the columns out from:
 * each column's widest cell, header included, and at least `fit.atLeast`
 * (what a table printed in pages carries to its next page). Each cell's
 * width is measured once.
 */
export function layoutTable(
  headers: string[],
  rows: string[][],
  fit: Fit = {},
): { text: string; natural: number[] } {
  const count = headers.length;
  let columns = headers.map((_, i) => i);
  const headerWidths = headers.map(visibleWidth);
  const natural = headers.map((_, i) => Math.max(fit.atLeast?.[i] ?? 0, headerWidths[i]));
  const limit = fit.width;
  // Most tables are narrow throughout (no colour, no wide character): one
  // test over every cell (rows.join puts a comma between a row's cells), and
  // each cell's width is its length. When such a table also fits, nothing is
  // cut or left out: each cell is padded to its column's width.
  if (isNarrow(headers.join("")) && isNarrow(rows.join(""))) {
    for (let i = 0; i < count; i++) natural[i] = Math.max(natural[i], longest(rows, i));
    if (limit === undefined || lineWidth(natural) <= limit) {
      return { text: paddedLines(headers, rows, natural), natural };
    }
  }
  // Every cell's width, row after row in one array (a list prints thousands).
  const cellWidths: number[] = new Array(rows.length * count);
  for (let row = 0, k = 0; row < rows.length; row++) {
    const cells = rows[row];
    for (let i = 0; i < count; i++, k++) {
      const width = visibleWidth(cells[i] ?? "");
      cellWidths[k] = width;
      if (width > natural[i]) natural[i] = width;
    }
  }
  const widths = [...natural];
  if (limit !== undefined) {
    const shrink = new Set(fit.shrink ?? []);
    const least = (i: number) =>
      shrink.has(i) ? Math.min(natural[i], Math.max(headerWidths[i], MIN_SHRUNK)) : natural[i];
    const total = (width: (i: number) => number) => lineWidth(columns.map(width));
    for (const i of fit.drop ?? []) {
      if (total(least) <= limit) break;
      columns = columns.filter((c) => c !== i);
    }
    const shrinking = columns.filter((i) => shrink.has(i));
    while (total((i) => widths[i]) > limit) {
      const widest = shrinking.filter((i) => widths[i] > least(i))
        .sort((a, b) => widths[b] - widths[a])[0];
      if (widest === undefined) break;
      widths[widest]--;
    }
  }
  const last = columns.length - 1;
  const gap = " ".repeat(SEPARATOR);
  // One line: `measured` holds its cells' widths from index `at` on.
  const line = (cells: string[], measured: number[], at: number, row: number) => {
    let text = "";
    for (let n = 0; n <= last; n++) {
      const i = columns[n];
      const whole = cells[i] ?? "";
      const fits = measured[at + i] <= widths[i];
      const cell = fits
        ? whole
        : truncateWidth((row >= 0 && fit.cut?.(row, i, widths[i])) || whole, widths[i]);
      if (n > 0) text += gap;
      text += cell;
      if (n < last) text += " ".repeat(widths[i] - (fits ? measured[at + i] : visibleWidth(cell)));
    }
    text = text.trimEnd();
    return limit === undefined ? text : truncateWidth(text, limit);
  };
  let text = line(headers, headerWidths, 0, -1);
  for (let row = 0; row < rows.length; row++) {
    text += "\n" + line(rows[row], cellWidths, row * count, row);
  }
  return { text, natural };
}

/** The length of the longest cell in column `i`. */
function longest(rows: string[][], i: number): number {
  let max = 0;
  for (const cells of rows) {
    const length = (cells[i] ?? "").length;
    if (length > max) max = length;
  }
  return max;
}

/** How wide a line of columns this wide is, separators included. */
function lineWidth(widths: number[]): number {
  return widths.reduce((total, n) => total + n, 0) + SEPARATOR * (widths.length - 1);
}

/** Narrow cells padded to `widths` (the last column is not), header first: layoutTable's lines. */
function paddedLines(headers: string[], rows: string[][], widths: number[]): string {
  const last = headers.length - 1;
  const gap = " ".repeat(SEPARATOR);
  const line = (cells: string[]) => {
    let text = "";
    for (let i = 0; i < last; i++) text += (cells[i] ?? "").padEnd(widths[i]) + gap;
    return (text + (cells[last] ?? "")).trimEnd();
  };
  const lines = new Array<string>(rows.length + 1);
  lines[0] = line(headers);
  for (let row = 0; row < rows.length; row++) lines[row + 1] = line(rows[row]);
  return lines.join("\n");
}
