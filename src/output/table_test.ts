import assert from "node:assert/strict";
import { truncateWidth, visibleWidth } from "./colors.ts";
import { renderTable } from "./table.ts";

Deno.test("truncateWidth: cuts to printed columns with …, keeps and resets colour, counts wide characters", () => {
  assert.equal(truncateWidth("short", 10), "short");
  assert.equal(truncateWidth("abcdefghij", 5), "abcd…");
  assert.equal(truncateWidth("\x1b[2mabcdef\x1b[22m", 4), "\x1b[2mabc…\x1b[0m");
  assert.equal(visibleWidth(truncateWidth("日本語のテキスト", 7)), 7);
  assert.equal(truncateWidth("日本語", 4), "日…");
  assert.equal(truncateWidth("anything", 0), "");
});

Deno.test("renderTable: columns line up by printed width when one cell is wide or coloured", () => {
  const narrow = [["a", "plain"], ["bb", "text"]];
  for (const odd of ["日本", "\x1b[2mdim\x1b[22m"]) {
    const lines = renderTable(["ID", "TEXT"], [...narrow, [odd, "x"]]).split("\n");
    // The second column starts at the same printed column on every line.
    const starts = lines.map((line) => {
      const at = line.search(/(plain|text|x|TEXT)$/);
      return visibleWidth(line.slice(0, at));
    });
    assert.deepEqual(new Set(starts).size, 1, lines.join("\n"));
    assert.equal(starts[0], Math.max(2, visibleWidth(odd)) + 2);
  }
});

Deno.test("renderTable: without a width nothing is cut; with one, shrink then drop, never wider", () => {
  const headers = ["ID", "DUE", "STATUS", "TEXT"];
  const rows = [["abc123", "2030-01-01 17:00", "pending", "a fairly long piece of text here"]];
  const wide = renderTable(headers, rows);
  assert.match(wide, /a fairly long piece of text here$/);
  const fit50 = renderTable(headers, rows, { width: 50, shrink: [3], drop: [2, 1] });
  for (const line of fit50.split("\n")) assert.ok(visibleWidth(line) <= 50, line);
  assert.match(fit50, /STATUS/, "shrinking alone fits at 50: nothing dropped");
  assert.match(fit50, /…$/m);
  const fit30 = renderTable(headers, rows, { width: 30, shrink: [3], drop: [2, 1] });
  for (const line of fit30.split("\n")) assert.ok(visibleWidth(line) <= 30, line);
  assert.doesNotMatch(fit30, /STATUS|DUE/, "dropped in order when shrinking cannot fit");
  // A custom cut keeps the end of a cell.
  const cut = renderTable(["A", "B"], [["x", "long deliverable → Alice"]], {
    width: 18,
    shrink: [1],
    cut: (_row, _col, width) => `${truncateWidth("long deliverable", width - 8)} → Alice`,
  });
  assert.match(cut, /^x {2}long d… → Alice$/m);
});
