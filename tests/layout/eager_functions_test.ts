/**
 * scripts/eager_functions.ts: the rewrite keeps what a bundle does, and V8
 * really compiles the rewritten functions with the script (so Deno's code
 * cache holds them) instead of on their first call.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { eagerFunctions, lazilyCompiled } from "../../scripts/eager_functions.ts";

// The shape of esbuild's output: helpers, top-level declarations, a lazily
// initialised module whose body is a method of the object given to __esm.
const BUNDLE = `var __esm = (fn, res) => function __init() {
  return fn && (res = (0, fn[Object.getOwnPropertyNames(fn)[0]])(fn = 0)), res;
};

// src/a.ts
const early = twice(4);
function twice(n) {
  return n * 2;
}
async function later(n) {
  return [n].map((x) => twice(x) + 1)[0];
}
function cold() {
  return "}";
}

// src/b.ts
var B;
var init_b = __esm({
  "src/b.ts"() {
    B = { made: twice(10) };
  }
});
export { B, cold, early, init_b, later };
`;

/** The span V8 would log for the function whose parameters start after `head`. */
function span(text: string, head: string, endMarker: string) {
  const start = text.indexOf(head) + head.length;
  const end = text.indexOf(endMarker, start) + endMarker.length;
  return { start, end };
}

async function evaluate(text: string) {
  const module = await import(`data:text/javascript,${encodeURIComponent(text)}`);
  module.init_b();
  return {
    early: module.early,
    later: await module.later(5),
    cold: module.cold(),
    b: module.B.made,
  };
}

Deno.test("eager functions: hot declarations move to the top as PIFEs, module bodies become PIFEs, the rest stays", async () => {
  const hot = [
    span(BUNDLE, "function twice", "\n}"),
    span(BUNDLE, "async function later", "\n}"),
    span(BUNDLE, `"src/b.ts"`, "\n  }"),
    span(BUNDLE, "function twice", "\n}"), // logged twice (two commands): rewritten once
  ];
  const insertAt = BUNDLE.indexOf("\n// src/") + 1;
  const out = eagerFunctions(BUNDLE, hot, insertAt);
  assert.equal(out.declarations, 2);
  assert.equal(out.moduleBodies, 1);
  assert.match(out.text, /^var twice = \(function twice\(n\) \{\n {2}return n \* 2;\n\}\);$/m);
  assert.match(out.text, /^var later = \(async function later\(n\) \{$/m);
  assert.match(out.text, /^ {2}"src\/b\.ts": \(function\(\) \{$/m);
  assert.match(out.text, /^function cold\(\) \{$/m, "a cold function is left as it was");
  // Moved above every module, so `early` (which ran twice() before its
  // declaration) still finds it assigned.
  assert.ok(out.text.indexOf("var twice") < out.text.indexOf("// src/a.ts"));
  assert.equal(out.text.match(/function twice/g)?.length, 1);
  assert.deepEqual(await evaluate(out.text), await evaluate(BUNDLE));
  assert.deepEqual(await evaluate(out.text), { early: 8, later: 11, cold: "}", b: 20 });
});

Deno.test("eager functions: V8 compiles a rewritten function with its script, and a cold one on its first call", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jdo-eager-" });
  try {
    const file = join(dir, "bundle.js");
    const url = new URL(`file://${file}`).href;
    const text = BUNDLE + "init_b();\nconsole.log(await later(1), cold());\n";
    const log = join(dir, "v8.log");
    const lazyOn = async (source: string) => {
      await Deno.writeTextFile(file, source);
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          `--v8-flags=--log-function-events,--logfile=${log},--no-logfile-per-isolate`,
          file,
        ],
        stdout: "piped",
      }).output();
      assert.equal(new TextDecoder().decode(out.stdout), "3 }\n");
      const spans = lazilyCompiled(await Deno.readTextFile(log), url);
      return new Set(spans.map((s) => source.slice(s.start - 20, s.start).split("\n").at(-1)));
    };
    const before = await lazyOn(text);
    assert.ok(before.has("function twice"), [...before].join(" | "));
    assert.ok(before.has("async function later"));
    assert.ok(before.has(`  "src/b.ts"`));
    assert.ok(before.has("function cold"));
    assert.ok(before.has("  return [n].map("), "the arrow inside later() is compiled lazily");
    const hot = lazilyCompiled(await Deno.readTextFile(log), url).filter((s) =>
      !text.slice(0, s.start).endsWith("function cold")
    );
    const rewritten = eagerFunctions(text, hot, text.indexOf("\n// src/") + 1).text;
    assert.match(rewritten, /^var twice = \(function twice/m);
    const after = [...await lazyOn(rewritten)];
    // Compiled lazily, the function's head would be here, rewritten or not.
    const rewrittenHot = /function twice$|function later$|"src\/b\.ts"(: \(function)?$/;
    assert.deepEqual(after.filter((head) => rewrittenHot.test(head!)), [], after.join(" | "));
    assert.ok(after.includes("function cold"), "the cold one is still compiled when first called");
    assert.ok(
      !after.some((head) => /\[n\]\.map\(\(?(function )?$/.test(head!)),
      `the arrow, rewritten, is compiled with its script: ${after.join(" | ")}`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// Arrow functions as esbuild writes them, inside a module's functions.
const ARROWS = `var __esm = (fn, res) => function __init() {
  return fn && (res = (0, fn[Object.getOwnPropertyNames(fn)[0]])(fn = 0)), res;
};

// src/c.ts
function listed(items) {
  const shown = items.filter((item) => item !== "").map((item) => ({ item }));
  const later = async (n) => {
    return shown.length + n;
  };
  const curried = (a) => (b) => a + b;
  const single = x => x * 3;
  const quoted = (s = "=>") => s;
  const defaulted = (f = () => 1) => f();
  const owner = { n: 5, get: function () { return [1].map(() => this.n); } };
  return { shown, later, sum: curried(2)(3), single: single(2), quoted: quoted(), defaulted: defaulted(), owned: owner.get() };
}
export { listed };
`;

/** Every arrow's span as V8 logs it: from its parameters (or "async") to the end of its body. */
function arrowSpans(text: string) {
  const at = (head: string, end: string, from = 0) => {
    const start = text.indexOf(head, from);
    return { start, end: text.indexOf(end, start) + end.length };
  };
  return [
    at("(item) => item", `""`),
    at("(item) => ({", "})"),
    at("async (n) =>", "\n  }"),
    at("(a) => (b)", "a + b"),
    at("(b) => a", "a + b"),
    at("x => x", "* 3"),
    at(`(s = "=>")`, "=> s"),
    at("() => this", "this.n"),
    at("(f = () => 1) =>", "f()"),
  ];
}

Deno.test("eager functions: arrows become function expressions in parentheses, unless that could change them", async () => {
  const insertAt = ARROWS.indexOf("\n// src/") + 1;
  const out = eagerFunctions(ARROWS, arrowSpans(ARROWS), insertAt);
  assert.equal(out.arrows, 6, out.text);
  assert.match(out.text, /items\.filter\(\(function \(item\) \{ return item !== ""; \}\)\)/);
  assert.match(out.text, /\.map\(\(function \(item\) \{ return \(\{ item \}\); \}\)\)/);
  assert.match(out.text, /const later = \(async function \(n\) \{\n/);
  assert.match(
    out.text,
    /const curried = \(function \(a\) \{ return \(function \(b\) \{ return a \+ b; \}\); \}\);/,
  );
  assert.match(out.text, /const single = \(function \(x\) \{ return x \* 3; \}\);/);
  assert.match(out.text, /const quoted = \(s = "=>"\) => s;/, "a string in the parameters: left");
  assert.match(out.text, /\[1\]\.map\(\(\) => this\.n\)/, "an arrow that reads `this`: left");
  assert.match(
    out.text,
    /const defaulted = \(f = \(\) => 1\) => f\(\);/,
    "an arrow in the parameters: left",
  );
  const run = async (text: string) => {
    const { listed } = await import(`data:text/javascript,${encodeURIComponent(text)}`);
    const got = listed(["a", "", "b"]);
    return { ...got, later: await got.later(4) };
  };
  assert.deepEqual(await run(out.text), await run(ARROWS));
  assert.deepEqual((await run(out.text)).owned, [5]);
});

Deno.test("eager functions: an arrow inside a moved declaration is rewritten with it", () => {
  const text =
    `var __esm = 0;\n\n// src/d.ts\nfunction outer(xs) {\n  return xs.map((x) => x + 1);\n}\nexport { outer };\n`;
  const declaration = { start: text.indexOf("(xs)"), end: text.indexOf("\n}") + 2 };
  const arrow = { start: text.indexOf("(x) =>"), end: text.indexOf("x + 1") + 5 };
  const out = eagerFunctions(text, [declaration, arrow], text.indexOf("\n// src/") + 1);
  assert.equal(out.declarations, 1);
  assert.equal(out.arrows, 1);
  assert.match(
    out.text,
    /^var outer = \(function outer\(xs\) \{\n {2}return xs\.map\(\(function \(x\) \{ return x \+ 1; \}\)\);\n\}\);$/m,
  );
  assert.equal(out.text.match(/function outer/g)?.length, 1);
});
