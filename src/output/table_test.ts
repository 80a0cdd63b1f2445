import assert from "node:assert/strict";
import fc from "fast-check";
import { isNarrow, truncateWidth, visibleWidth } from "./colors.ts";
import { renderTable } from "./table.ts";

Deno.test("truncateWidth: cuts to printed columns with …, keeps and resets colour, counts wide characters", () => {
  assert.equal(truncateWidth("short", 10), "short");
  assert.equal(truncateWidth("abcdefghij", 5), "abcd…");
  assert.equal(truncateWidth("\x1b[2mabcdef\x1b[22m", 4), "\x1b[2mabc…\x1b[0m");
  assert.equal(visibleWidth(truncateWidth("日本語のテキスト", 7)), 7);
  assert.equal(truncateWidth("日本語", 4), "日…");
  assert.equal(truncateWidth("anything", 0), "");
});

Deno.test("visibleWidth: a narrow text's width is its length, as counted character by character", () => {
  // A colour code sends visibleWidth down its slow path (each code point
  // counted, the code left out): it must agree with the length whenever
  // isNarrow says the length is the width.
  const unit = fc.oneof(
    fc.constantFrom(..."a …é→—\u1100日한\uff01", "\u{1F600}", "\u{20000}"),
    fc.string({ unit: "grapheme" }),
    fc.string({ unit: "binary" }),
  );
  fc.assert(
    fc.property(fc.array(unit, { maxLength: 8 }), (parts) => {
      const text = parts.join("").replaceAll("\x1b", "");
      const slow = visibleWidth(`${text}\x1b[0m`);
      if (isNarrow(text)) assert.equal(slow, text.length, JSON.stringify(text));
      assert.equal(visibleWidth(text), slow, JSON.stringify(text));
    }),
    { numRuns: 2000 },
  );
  assert.ok(isNarrow("Slides plan road…  → Alex"));
  assert.ok(!isNarrow("日本") && !isNarrow("\u{1F600}") && !isNarrow("\x1b[2mx"));
});

Deno.test("renderTable: with room, each cell padded to its column's widest, narrow or not", () => {
  const cell = fc.array(fc.constantFrom(..."ab …→日", "\u{1F600}", "\x1b[2m", "\x1b[22m"), {
    maxLength: 6,
  }).map((parts) => parts.join(""));
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }).chain((n) =>
        fc.tuple(
          fc.array(cell, { minLength: n, maxLength: n }),
          fc.array(fc.array(cell, { minLength: n, maxLength: n }), { maxLength: 5 }),
        )
      ),
      ([headers, rows]) => {
        const all = [headers, ...rows];
        const widths = headers.map((_, i) => Math.max(...all.map((r) => visibleWidth(r[i]))));
        const expected = all.map((r) =>
          r.map((c, i) => i < r.length - 1 ? c + " ".repeat(widths[i] - visibleWidth(c)) : c)
            .join("  ").trimEnd()
        ).join("\n");
        assert.equal(renderTable(headers, rows), expected);
        const room = widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
        assert.equal(renderTable(headers, rows, { width: room, shrink: [0] }), expected);
      },
    ),
    { numRuns: 500 },
  );
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
