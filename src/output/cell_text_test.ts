import assert from "node:assert/strict";
import fc from "fast-check";
import { truncate } from "../domain/ids.ts";
import { cellText } from "./cell_text.ts";
import { safeLine } from "./safe_text.ts";

Deno.test("cellText: truncate(safeLine(text), max) for any text", () => {
  // Plain words and spaces, and every kind of character the two rewrite.
  const piece = fc.oneof(
    fc.constantFrom("a", "Z", "9", " ", "  ", "é", "日本", "😀", "…"),
    fc.constantFrom("\t", "\n", "\r\n", "\v", "\f", "\x00", "\x1b", "\x7f", "\x85", "\u00a0"),
    fc.constantFrom("\u202e", "\u2066", "\u2028", "\u3000"),
  );
  fc.assert(
    fc.property(
      fc.array(piece, { maxLength: 40 }),
      fc.integer({ min: 1, max: 30 }),
      (parts, max) => {
        const text = parts.join("");
        assert.equal(cellText(text, max), truncate(safeLine(text), max));
      },
    ),
    { numRuns: 3000 },
  );
});
