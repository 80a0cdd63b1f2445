/**
 * The shape of src/: no import circles (every module of what ships, tests
 * excluded, is read, its static, type and dynamic imports of other src/
 * modules followed, and any cycle is named module by module), and nothing in
 * src/ that jdo does not ship (every module is reachable from main.ts; test
 * doubles live under tests/).
 */
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { REPO_ROOT } from "../helpers/cli.ts";

const SRC = join(REPO_ROOT, "src");

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/g;

async function shippedModules(dir = SRC): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) found.push(...await shippedModules(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) found.push(path);
  }
  return found.sort();
}

/** The src/ modules `path` imports, by path. */
export function importsOf(path: string, text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec.startsWith(".")) continue;
    const target = resolve(dirname(path), spec);
    if (target.startsWith(SRC)) out.add(target);
  }
  return [...out];
}

/** Every cycle's modules in order (one cycle per strongly connected group). */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

Deno.test("findCycles names a cycle, and finds none in a tree", () => {
  const g = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]);
  assert.deepEqual(findCycles(g), [["a", "b", "c", "a"]]);
  assert.deepEqual(findCycles(new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]])), []);
});

Deno.test("importsOf follows static, type, re-export and dynamic imports within src/", () => {
  const at = join(SRC, "cli", "x.ts");
  const text = `import { a } from "./a.ts";\nimport type { B } from "../repl/b.ts";\n` +
    `export { c } from "./c.ts";\nconst d = await import("../sync/d.ts");\n` +
    `import { e } from "commander";\nimport {\n  f,\n  g,\n} from "../db/f.ts";\n`;
  assert.deepEqual(
    importsOf(at, text).map((p) => relative(SRC, p)).sort(),
    ["cli/a.ts", "cli/c.ts", "db/f.ts", "repl/b.ts", "sync/d.ts"],
  );
});

Deno.test("src/ has no import circles", async () => {
  const graph = new Map<string, string[]>();
  for (const path of await shippedModules()) {
    graph.set(path, importsOf(path, await Deno.readTextFile(path)));
  }
  assert.ok(graph.size > 50, `read ${graph.size} modules`);
  const cycles = findCycles(graph).map((c) => c.map((p) => relative(REPO_ROOT, p)).join(" → "));
  assert.deepEqual(cycles, [], `import circles:\n${cycles.join("\n")}`);
});

Deno.test("src/ holds only what ships: every module is reachable from main.ts", async () => {
  const graph = new Map<string, string[]>();
  for (const path of await shippedModules()) {
    graph.set(path, importsOf(path, await Deno.readTextFile(path)));
  }
  const main = join(REPO_ROOT, "main.ts");
  const seen = new Set<string>();
  const queue = importsOf(main, await Deno.readTextFile(main));
  while (queue.length) {
    const next = queue.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    queue.push(...graph.get(next) ?? []);
  }
  const unreached = [...graph.keys()].filter((p) => !seen.has(p)).map((p) => relative(SRC, p));
  assert.deepEqual(unreached, [], "modules in src/ that main.ts never loads");
});
