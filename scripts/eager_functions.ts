/**
 * Compiles the fast path's hot functions with the bundle instead of on their
 * first call (issue 20). V8 compiles a function lazily, when it is first
 * called, and Deno's code cache holds only what was compiled with the module:
 * so every run of `jdo list` parsed and compiled the same ~200 functions again
 * (~5 ms of a ~40 ms command). A function expression in parentheses is
 * compiled with its script (V8's "PIFE" heuristic), and so is one in
 * parentheses inside a function compiled with it; both land in the code
 * cache. This rewrites the functions a profile saw compiled lazily into that
 * form, and leaves the rest lazy (compiling everything up front is slower:
 * the cache then also holds the hundreds of functions a command never calls).
 *
 * Three shapes of esbuild's output are rewritten, all found by the start and
 * end offsets V8 logged for the function (so no brace is ever guessed):
 * - a top-level `function name(…) {…}` (or async, or a generator) becomes
 *   `var name = (function name(…) {…});`, moved to the top of the bundle so
 *   that it is assigned before any other line runs (as a hoisted declaration
 *   would have been);
 * - a lazily initialised module's body, `"src/x.ts"() {…}` in an `__esm({…})`
 *   call, becomes `"src/x.ts": (function() {…})`;
 * - an arrow function, `(a, b) => …` (or async), becomes
 *   `(function (a, b) {…})`, with `{ return …; }` around an expression body.
 *   Only where that means the same: the arrow's text names no `this`,
 *   `arguments`, `super` or `new.target` (an arrow sees its surroundings',
 *   a function its own), and its parameters hold no string, comment, regular
 *   expression or arrow (so the `=>` found is the arrow's own).
 * Class and object methods stay lazy.
 */

/** A function as V8's log gives it: UTF-16 offsets of its parameters' "(" and just past its "}". */
export interface FunctionSpan {
  start: number;
  end: number;
}

const DECLARATION = /^(async )?function\*? ?([\w$]+)$/;
const MODULE_BODY = /^ {2}(async )?("[^"\n]+")$/;
/** What an arrow's text must not name to mean the same as a function. */
const OWN_BINDINGS = /\bthis\b|\barguments\b|\bsuper\b|\bnew\.target\b/;

/** What `eagerFunctions` rewrote, for the generator's report. */
export interface EagerResult {
  text: string;
  declarations: number;
  moduleBodies: number;
  arrows: number;
}

/** `text[from, to)` becomes `text` (an insertion when from = to). */
interface Edit {
  from: number;
  to: number;
  text: string;
  /** Among insertions at one offset, the higher goes first (an inner function's close). */
  order?: number;
}

/**
 * `text` with the top-level declarations, module bodies and arrow functions
 * among `hot` rewritten to compile eagerly. `insertAt` is where the moved
 * declarations go (after esbuild's helpers, before the first module).
 */
export function eagerFunctions(
  text: string,
  hot: readonly FunctionSpan[],
  insertAt: number,
): EagerResult {
  const edits: Edit[] = [];
  const moves: { from: number; to: number; name: string }[] = [];
  let moduleBodies = 0;
  let arrows = 0;
  const spans = [...new Map(hot.map((s) => [s.start, s])).values()].sort((a, b) =>
    a.start - b.start
  );
  for (const { start, end } of spans) {
    const lineStart = text.lastIndexOf("\n", start - 1) + 1;
    if (lineStart < insertAt) continue; // esbuild's own helpers
    const head = text.slice(lineStart, start);
    const declaration = DECLARATION.exec(head);
    if (declaration && text[end - 1] === "}") {
      // The declaration and the line break after it.
      moves.push({ from: lineStart, to: text[end] === "\n" ? end + 1 : end, name: declaration[2] });
      continue;
    }
    const body = MODULE_BODY.exec(head);
    if (body && text.startsWith("() {", start) && text[end - 1] === "}") {
      edits.push(
        { from: lineStart, to: start, text: `  ${body[2]}: (${body[1] ?? ""}function` },
        { from: end, to: end, text: ")", order: start },
      );
      moduleBodies++;
      continue;
    }
    const arrow = arrowEdits(text, start, end);
    if (arrow) {
      edits.push(...arrow);
      arrows++;
    }
  }
  edits.sort((a, b) => a.from - b.from || (b.order ?? 0) - (a.order ?? 0));
  const made = new Set<Edit>();
  const moved = moves.map((m) => {
    const declaration = applied(text, m.from, m.to, edits, made).replace(/\n$/, "");
    return `var ${m.name} = (${declaration});\n`;
  });
  let out = text.slice(0, insertAt) + moved.join("");
  let at = insertAt;
  for (const m of moves) {
    out += applied(text, at, m.from, edits, made);
    at = m.to;
  }
  out += applied(text, at, text.length, edits, made);
  if (made.size !== edits.length) {
    throw new Error("eagerFunctions: an edit fell across a moved declaration");
  }
  return { text: out, declarations: moves.length, moduleBodies, arrows };
}

/**
 * `text[from, to)` with the edits that fall inside it made: a replacement
 * wholly inside, an insertion at `from` up to (not at) `to`, or at the very
 * end of `text`. Each edit it makes is added to `made`.
 */
function applied(
  text: string,
  from: number,
  to: number,
  edits: readonly Edit[],
  made: Set<Edit>,
): string {
  let out = "";
  let at = from;
  for (const edit of edits) {
    const inside = edit.from === edit.to
      ? edit.from >= from && (edit.from < to || edit.from === text.length)
      : edit.from >= from && edit.to <= to;
    if (!inside) continue;
    if (edit.from < at) throw new Error(`eagerFunctions: overlapping edits at ${edit.from}`);
    out += text.slice(at, edit.from) + edit.text;
    at = edit.to;
    made.add(edit);
  }
  return out + text.slice(at, to);
}

/**
 * The edits that make the arrow function V8 logged at [start, end) a function
 * expression in parentheses, or null when it is not an arrow or the rewrite
 * could change what it means.
 */
function arrowEdits(text: string, start: number, end: number): Edit[] | null {
  let depth = 0;
  let arrow = -1;
  for (let i = start; i < end && arrow < 0; i++) {
    const c = text[i];
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") {
      if (--depth < 0) return null;
    } else if (c === '"' || c === "'" || c === "`" || c === "/") return null;
    else if (c === "=" && text[i + 1] === ">" && depth === 0) arrow = i;
  }
  if (arrow < 0 || OWN_BINDINGS.test(text.slice(start, end))) return null;
  let params = text.slice(start, arrow).trim();
  let from = start;
  let isAsync = /^async\b/.test(params);
  if (isAsync) params = params.slice("async".length).trim();
  else if (text.slice(start - 6, start) === "async ") {
    isAsync = true;
    from = start - 6;
  }
  if (!/^(\(.*\)|[\w$]+)$/s.test(params) || params.includes("=>")) return null;
  let bodyStart = arrow + 2;
  while (text[bodyStart] === " " || text[bodyStart] === "\n") bodyStart++;
  const block = text[bodyStart] === "{";
  const open = `(${isAsync ? "async " : ""}function ${
    params.startsWith("(") ? params : `(${params})`
  } `;
  return [
    { from, to: bodyStart, text: block ? open : `${open}{ return ` },
    { from: end, to: end, text: block ? ")" : "; })", order: start },
  ];
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
