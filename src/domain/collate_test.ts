import assert from "node:assert/strict";
import fc from "fast-check";
import { collate } from "./collate.ts";

const sign = (n: number) => Math.sign(n);

Deno.test("collate orders as localeCompare: timestamps, ids and anything else", () => {
  const iso = fc.date({
    min: new Date("1990-01-01"),
    max: new Date("2100-01-01"),
    noInvalidDate: true,
  })
    .map((d) => d.toISOString());
  const char = fc.constantFrom(..."0123456789abcdefzAZT-:.+ _é");
  const odd = fc.array(char, { maxLength: 12 }).map((cs) => cs.join(""));
  for (const text of [iso, fc.uuid(), odd]) {
    fc.assert(
      fc.property(text, text, (a, b) => {
        assert.equal(sign(collate(a, b)), sign(a.localeCompare(b)), `${a} / ${b}`);
      }),
      { numRuns: 3000 },
    );
  }
  // Same shape, differing at the first place: the quick answer.
  assert.equal(collate("2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.001Z"), -1);
  assert.equal(collate("b1", "a2"), 1);
  assert.equal(collate("x", "x"), 0);
});
