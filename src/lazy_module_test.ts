import assert from "node:assert/strict";
import { lazyModuleUrl } from "./lazy_module.ts";

Deno.test("lazyModuleUrl: what new URL would give, for every module jdo loads on demand", async () => {
  const src = new URL("./", import.meta.url);
  const used = new Set<string>();
  for await (const file of walk(new URL("./", import.meta.url))) {
    const text = await Deno.readTextFile(file);
    for (const m of text.matchAll(/lazyModuleUrl\("([^"]+)"\)/g)) used.add(m[1]);
  }
  assert.ok(used.size >= 5, [...used].join(" "));
  for (const path of [...used, "../deno.json", "a b/c.ts", "x.ts?v=1"]) {
    assert.equal(lazyModuleUrl(path), new URL(path, src).href, path);
  }
  for (const path of used) {
    await Deno.stat(new URL(lazyModuleUrl(path))); // names a module that is there
  }
});

async function* walk(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) yield* walk(url);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) yield url;
  }
}
