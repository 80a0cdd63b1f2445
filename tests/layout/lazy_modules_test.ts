/**
 * Modules loaded through variable specifiers (issue 20: kept off the fast
 * path) are invisible to `deno compile`, which --includes each of them
 * (LAZY_MODULES in scripts/compile.ts). Every such specifier in main.ts and
 * src/ — a constant naming a module, passed to import() — and every module
 * of the fast path's table must be in that list, or the binary would lack it.
 */
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { LAZY_MODULES } from "../../scripts/compile.ts";
import { FAST_COMMANDS } from "../../src/cli/fast_commands.ts";
import { REPO_ROOT } from "../helpers/cli.ts";

const SPECIFIER =
  /(?:^|\n)\s*(?:export\s+)?const\s+([A-Z_]+)\s*=\s*"(\.{1,2}\/[^"]+\.(?:ts|js))";/g;
/** `lazyModuleUrl("domain/chrono.ts")` (src/lazy_module.ts): a path under src/. */
const LAZY_URL = /\blazyModuleUrl\(\s*"([^"]+\.ts)"\s*\)/g;

async function sources(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) found.push(...await sources(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) found.push(path);
  }
  return found;
}

/**
 * The modules a file names in constants that reach import() (`const X =
 * "./m.ts"; import(X)`) or through lazyModuleUrl().
 */
export function variableImports(path: string, text: string, all: string): string[] {
  const out: string[] = [];
  for (const [, spec] of text.matchAll(LAZY_URL)) out.push(join("src", spec));
  for (const [, name, spec] of text.matchAll(SPECIFIER)) {
    if (new RegExp(`import\\(\\s*${name}\\s*\\)`).test(all)) {
      out.push(relative(REPO_ROOT, resolve(dirname(path), spec)));
    }
  }
  return out;
}

Deno.test("variableImports finds constants handed to import()", () => {
  const text = `const RUN = "../cli/run.ts";\nexport const X = "./x.ts";\nconst Y = "./y.ts";\n` +
    `await import(RUN); await import( X ); await import(lazyModuleUrl("sync/z.ts"));`;
  assert.deepEqual(variableImports(join(REPO_ROOT, "src/app/entry.ts"), text, text), [
    "src/sync/z.ts",
    "src/cli/run.ts",
    "src/app/x.ts",
  ]);
});

Deno.test("every module loaded through a variable specifier is --included in the binary", async () => {
  const files = [join(REPO_ROOT, "main.ts"), ...await sources(join(REPO_ROOT, "src"))];
  const texts = new Map(
    await Promise.all(files.map(async (f) => [f, await Deno.readTextFile(f)] as const)),
  );
  const all = [...texts.values()].join("\n");
  const lazy = new Set<string>();
  for (const [path, text] of texts) for (const m of variableImports(path, text, all)) lazy.add(m);
  for (const { module } of Object.values(FAST_COMMANDS)) lazy.add(join("src/cli", module));
  assert.ok(lazy.size >= 8, `found ${lazy.size}`);
  const missing = [...lazy].filter((m) => !LAZY_MODULES.includes(m)).sort();
  assert.deepEqual(missing, [], "add these to LAZY_MODULES in scripts/compile.ts");
  for (const m of LAZY_MODULES) await Deno.stat(join(REPO_ROOT, m)); // and each exists
});
