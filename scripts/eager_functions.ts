/**
 * Compiles the fast path's hot functions with the bundle instead of on their
 * first call (issue 20). V8 compiles a function lazily, when it is first
 * called, and Deno's code cache holds only what was compiled with the module:
 * so every run of `jdo list` parsed and compiled the same ~200 functions again
 * (~5 ms of a ~40 ms command). A function expression in parentheses is
 * compiled with its script (V8's "PIFE" heuristic) and so lands in the code
 * cache; this rewrites the functions a profile saw compiled lazily into that
 * form, and leaves the rest lazy (compiling everything up front is slower:
 * the cache then also holds the hundreds of functions a command never calls).
 *
 * Two shapes of esbuild's output are rewritten, both found by the start and
 * end offsets V8 logged for the function (so no brace is ever guessed):
 * - a top-level `function name(…) {…}` (or async, or a generator) becomes
 *   `var name = (function name(…) {…});`, moved to the top of the bundle so
 *   that it is assigned before any other line runs (as a hoisted declaration
 *   would have been);
 * - a lazily initialised module's body, `"src/x.ts"() {…}` in an `__esm({…})`
 *   call, becomes `"src/x.ts": (function() {…})`.
 * Class methods and nested functions stay lazy.
 */

/** A function as V8's log gives it: UTF-16 offsets of its parameters' "(" and just past its "}". */
export interface FunctionSpan {
  start: number;
  end: number;
}

const DECLARATION = /^(async )?function\*? ?([\w$]+)$/;
const MODULE_BODY = /^ {2}(async )?("[^"\n]+")$/;

/** What `eagerFunctions` rewrote, for the generator's report. */
export interface EagerResult {
  text: string;
  declarations: number;
  moduleBodies: number;
}

/**
 * `text` with the top-level declarations and module bodies among `hot`
 * rewritten to compile eagerly. `insertAt` is where the moved declarations go
 * (after esbuild's helpers, before the first module).
 */
export function eagerFunctions(
  text: string,
  hot: readonly FunctionSpan[],
  insertAt: number,
): EagerResult {
  const edits: { from: number; to: number; text: string }[] = [];
  const moved: string[] = [];
  let moduleBodies = 0;
  const spans = [...new Map(hot.map((s) => [s.start, s])).values()].sort((a, b) =>
    a.start - b.start
  );
  for (const { start, end } of spans) {
    const lineStart = text.lastIndexOf("\n", start - 1) + 1;
    if (lineStart < insertAt) continue; // esbuild's own helpers
    const head = text.slice(lineStart, start);
    const declaration = DECLARATION.exec(head);
    if (declaration && text[end - 1] === "}") {
      moved.push(`var ${declaration[2]} = (${text.slice(lineStart, end)});`);
      // The declaration and the line break after it.
      edits.push({ from: lineStart, to: text[end] === "\n" ? end + 1 : end, text: "" });
      continue;
    }
    const body = MODULE_BODY.exec(head);
    if (body && text.startsWith("() {", start) && text[end - 1] === "}") {
      edits.push({
        from: lineStart,
        to: end,
        text: `  ${body[2]}: (${body[1] ?? ""}function${text.slice(start, end)})`,
      });
      moduleBodies++;
    }
  }
  let out = text.slice(0, insertAt) + moved.map((m) => m + "\n").join("");
  let at = insertAt;
  for (const edit of edits) {
    out += text.slice(at, edit.from) + edit.text;
    at = edit.to;
  }
  out += text.slice(at);
  return { text: out, declarations: moved.length, moduleBodies };
}

/**
 * The functions V8 compiled lazily in `scriptUrl`, from a log written with
 * `--log-function-events` (lines `function,parse-function,SCRIPT,START,END,…`).
 */
export function lazilyCompiled(log: string, scriptUrl: string): FunctionSpan[] {
  const ids = new Set<string>();
  for (const line of log.split("\n")) {
    if (!line.startsWith("script-details,")) continue;
    const [, id, url] = line.split(",");
    if (url === scriptUrl) ids.add(id);
  }
  const spans: FunctionSpan[] = [];
  for (const line of log.split("\n")) {
    if (!line.startsWith("function,parse-function,")) continue;
    const [, , id, start, end] = line.split(",");
    if (ids.has(id)) spans.push({ start: Number(start), end: Number(end) });
  }
  return spans;
}
