import assert from "node:assert/strict";
import fc from "fast-check";
import { type JsonEvent, JsonStreamError, oneChunk, scanJson } from "./json_stream.ts";

async function* pieces(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function events(source: AsyncIterable<string>): Promise<JsonEvent[]> {
  const out: JsonEvent[] = [];
  for await (const e of scanJson(source)) out.push(e);
  return out;
}

/** What scanJson should report for a parsed document. */
function expected(doc: unknown): JsonEvent[] {
  if (Array.isArray(doc)) {
    return doc.map((value, index) => ({ kind: "item", key: null, index, value }));
  }
  if (doc === null || typeof doc !== "object") return [{ kind: "field", key: "", value: doc }];
  const out: JsonEvent[] = [];
  for (const [key, value] of Object.entries(doc)) {
    if (Array.isArray(value)) {
      value.forEach((v, index) => out.push({ kind: "item", key, index, value: v }));
    } else out.push({ kind: "field", key, value });
  }
  return out;
}

Deno.test("scanJson: same values as JSON.parse, whatever the chunk boundaries", async () => {
  const doc = fc.oneof(
    fc.array(fc.jsonValue()),
    fc.dictionary(fc.string(), fc.oneof(fc.array(fc.jsonValue()), fc.jsonValue())),
  );
  await fc.assert(
    fc.asyncProperty(doc, fc.integer({ min: 1, max: 9 }), fc.boolean(), async (d, size, pretty) => {
      const text = pretty ? JSON.stringify(d, null, 2) : JSON.stringify(d);
      const want = expected(JSON.parse(text));
      assert.deepEqual(await events(pieces(text, size)), want);
      assert.deepEqual(await events(oneChunk(text)), want);
    }),
    { numRuns: 300 },
  );
});

Deno.test("scanJson: strings with quotes, backslashes and brackets split across chunks", async () => {
  const text = JSON.stringify({ a: [{ t: 'x\\\\"]}' }, 'q\\"{', 12.5e3], b: "\\", c: true });
  for (let size = 1; size < 8; size++) {
    assert.deepEqual(await events(pieces(text, size)), expected(JSON.parse(text)));
  }
});

Deno.test("scanJson: invalid JSON is a JsonStreamError with a position", async () => {
  for (
    const bad of [
      "",
      "  ",
      "[1,",
      "[1 2]",
      '{"a" 1}',
      '{"a":1,}',
      "[1]x",
      '{"a":[1,]}',
      "[{]",
      '{"a":"x',
    ]
  ) {
    await assert.rejects(() => events(pieces(bad, 2)), JsonStreamError, bad);
  }
});
