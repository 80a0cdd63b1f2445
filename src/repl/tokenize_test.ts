import assert from "node:assert/strict";
import fc from "fast-check";
import { tokenize, TokenizeError } from "./tokenize.ts";

Deno.test("tokenize: splits on any run of whitespace", () => {
  assert.deepEqual(tokenize("  commit  Ship it\t--to Alice  "), [
    "commit",
    "Ship",
    "it",
    "--to",
    "Alice",
  ]);
  assert.deepEqual(tokenize(""), []);
  assert.deepEqual(tokenize("   "), []);
});

Deno.test('tokenize: double quotes keep spaces and honour \\" and \\\\', () => {
  assert.deepEqual(tokenize('commit "Ship the report" --to "Ann Lee"'), [
    "commit",
    "Ship the report",
    "--to",
    "Ann Lee",
  ]);
  assert.deepEqual(tokenize('"say \\"hi\\" \\\\ now"'), ['say "hi" \\ now']);
  // Other backslashes inside double quotes stay as they are, as in sh.
  assert.deepEqual(tokenize('"C:\\temp\\n"'), ["C:\\temp\\n"]);
  assert.deepEqual(tokenize('"it\'s fine"'), ["it's fine"]);
});

Deno.test("tokenize: single quotes are literal", () => {
  assert.deepEqual(tokenize("'a \"b\" \\c'"), ['a "b" \\c']);
  assert.deepEqual(tokenize("--notes 'two  spaces'"), ["--notes", "two  spaces"]);
});

Deno.test("tokenize: backslash escapes one character outside quotes", () => {
  assert.deepEqual(tokenize("Ship\\ it"), ["Ship it"]);
  assert.deepEqual(tokenize('it\\\'s \\"x\\"'), ["it's", '"x"']);
  assert.deepEqual(tokenize("a\\\\b"), ["a\\b"]);
});

Deno.test("tokenize: quotes join with neighbouring text; empty quotes are a word", () => {
  assert.deepEqual(tokenize('--to="Ann Lee"'), ["--to=Ann Lee"]);
  assert.deepEqual(tokenize("pre'fix'\"post\""), ["prefixpost"]);
  assert.deepEqual(tokenize('a "" b'), ["a", "", "b"]);
  assert.deepEqual(tokenize("''"), [""]);
});

Deno.test("tokenize: keeps non-ASCII text", () => {
  assert.deepEqual(tokenize("Café → 東京 🎉"), ["Café", "→", "東京", "🎉"]);
});

Deno.test("tokenize: unterminated quotes and a trailing backslash are errors", () => {
  assert.throws(() => tokenize('commit "Ship it'), TokenizeError);
  assert.throws(() => tokenize("commit 'Ship it"), /Unterminated ' quote/);
  assert.throws(() => tokenize('"a \\"'), /Unterminated " quote/);
  assert.throws(() => tokenize("abc\\"), /Nothing to escape/);
});

/** Quotes a word the way a careful user (or `sh`) would. */
function quote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

Deno.test("tokenize: quoting any list of words and splitting again gives it back", () => {
  fc.assert(
    fc.property(
      fc.array(fc.string({ unit: "grapheme", maxLength: 12 }), { maxLength: 6 }),
      (words) => {
        assert.deepEqual(tokenize(words.map(quote).join(" ")), words);
      },
    ),
  );
});
