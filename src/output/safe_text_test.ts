import assert from "node:assert/strict";
import { safeLine, safeText } from "./safe_text.ts";

Deno.test("safeText: ESC, BEL, CR, DEL, C1 and bidi overrides are shown, never emitted", () => {
  assert.equal(safeText("a\x1b[31mred\x1b[0m\x07"), "a^[[31mred^[[0m^G");
  assert.equal(safeText("over\rwrite\x7f"), "over^Mwrite^?");
  assert.equal(safeText("csi\u009b2J nel\u0085"), "csi\\u009b2J nel\\u0085");
  assert.equal(safeText("abc\u202edef"), "abc\\u202edef");
  assert.equal(safeText("line 1\nline 2\tend"), "line 1\nline 2\tend");
  assert.equal(safeText("Zoë 日本 ✓ — ok"), "Zoë 日本 ✓ — ok");
});

Deno.test("safeLine: line breaks and tabs become spaces, other controls are shown", () => {
  assert.equal(safeLine("a\nb\r\nc\td"), "a b c d");
  assert.equal(safeLine("x\x1b]0;title\x07"), "x^[]0;title^G");
});
