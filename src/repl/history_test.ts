import assert from "node:assert/strict";
import { join } from "node:path";
import { History } from "./history.ts";

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "jdo-history-" });
}

const mode = async (path: string) => (await Deno.stat(path)).mode! & 0o777;

Deno.test("History: a missing file is an empty history; lines are appended, mode 0600", async () => {
  const dir = await tempDir();
  try {
    const path = join(dir, "repl_history");
    const history = await History.load(path);
    assert.deepEqual(history.entries(), []);
    await history.add("/list");
    await history.add("/commit Ship it --to Alice --due friday");
    assert.equal(
      await Deno.readTextFile(path),
      "/list\n/commit Ship it --to Alice --due friday\n",
    );
    if (Deno.build.os !== "windows") assert.equal(await mode(path), 0o600);
    const again = await History.load(path);
    assert.deepEqual(again.forReadline(), ["/commit Ship it --to Alice --due friday", "/list"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("History: skips blank lines, a leading space and a repeat of the last line", async () => {
  const dir = await tempDir();
  try {
    const path = join(dir, "repl_history");
    const history = await History.load(path);
    for (const line of ["/list", "/list", "", "   ", " /secret", "/help", "/list"]) {
      void history.add(line);
    }
    await history.flush();
    assert.deepEqual(history.entries(), ["/list", "/help", "/list"]);
    assert.equal(await Deno.readTextFile(path), "/list\n/help\n/list\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("History: never keeps more than max lines, on load or while adding", async () => {
  const dir = await tempDir();
  try {
    const path = join(dir, "repl_history");
    const lines = Array.from({ length: 12 }, (_, i) => `/view ${i}`);
    await Deno.writeTextFile(path, lines.join("\n") + "\n", { mode: 0o644 });
    const history = await History.load(path, { max: 10 });
    assert.deepEqual(history.entries(), lines.slice(2));
    assert.equal((await Deno.readTextFile(path)).trimEnd().split("\n").length, 10);
    if (Deno.build.os !== "windows") assert.equal(await mode(path), 0o600);
    for (let i = 12; i < 30; i++) void history.add(`/view ${i}`);
    await history.flush();
    const kept = (await Deno.readTextFile(path)).trimEnd().split("\n");
    assert.deepEqual(kept, Array.from({ length: 10 }, (_, i) => `/view ${20 + i}`));
    assert.deepEqual(history.entries(), kept);
    if (Deno.build.os !== "windows") assert.equal(await mode(path), 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("History: a file it cannot write is reported once, and never throws", async () => {
  const dir = await tempDir();
  try {
    const warnings: string[] = [];
    const history = await History.load(join(dir, "missing-dir", "repl_history"), {
      onWarning: (message) => warnings.push(message),
    });
    await history.add("/list");
    await history.add("/help");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /could not save history/);
    assert.deepEqual(history.entries(), ["/list", "/help"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
