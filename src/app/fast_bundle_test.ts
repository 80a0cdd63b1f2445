/**
 * The fast path's bundle (src/fast_bundle.gen.js, main.ts): it is fresh, it
 * covers every fast command, jdo really runs it, it answers byte for byte as
 * the sources do, and a stale one is never run under JDO_FAST_BUNDLE=check.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { asciiOnly, currentManifest } from "../../scripts/gen_fast_bundle.ts";
import { FAST_COMMANDS } from "../cli/fast_commands.ts";
import { FAST_MODULES } from "./fast_main.ts";
import {
  BUNDLE_PATH,
  FAST_COMMAND_WORDS,
  fastBundleFresh,
  MANIFEST_PATH,
  mayBeFast,
  sourcesDigest,
  STAMP_PATH,
} from "./fast_bundle.ts";
import { REPO_ROOT, runJdo, tempHome } from "../../tests/helpers/cli.ts";

const ROOT_URL = new URL(`file://${REPO_ROOT}/`);

Deno.test("the committed bundle is built from the sources as they are", async () => {
  const committed = JSON.parse(await Deno.readTextFile(join(REPO_ROOT, MANIFEST_PATH)));
  const current = await currentManifest();
  assert.deepEqual(committed.sources, current.sources, "stale bundle: run `deno task gen:help`");
  assert.equal(committed.digest, current.digest, "stale bundle: run `deno task gen:help`");
});

Deno.test("the committed bundle is all ASCII (loaded one byte per character)", async () => {
  const text = await Deno.readTextFile(join(REPO_ROOT, BUNDLE_PATH));
  const outside = text.match(/[\u0080-\uffff]/);
  assert.equal(outside, null, `${BUNDLE_PATH} holds "${outside?.[0]}": run \`deno task gen:help\``);
  assert.equal(asciiOnly("a \u2192 b"), "a \\u2192 b");
});

Deno.test("the bundle holds every fast command, and main.ts tries it for those only", () => {
  const modules = new Set(Object.values(FAST_COMMANDS).map((c) => c.module));
  assert.deepEqual(Object.keys(FAST_MODULES).sort(), [...modules].sort());
  const words = new Set(Object.keys(FAST_COMMANDS).map((k) => k.split(" ")[0]).filter(Boolean));
  assert.deepEqual([...FAST_COMMAND_WORDS].sort(), [...words].sort());
  assert.ok(mayBeFast([]) && mayBeFast(["--no-color"]) && mayBeFast(["list", "--json"]));
  assert.ok(!mayBeFast(["edit", "abcd"]) && !mayBeFast(["sync", "now"]));
});

Deno.test("fastBundleFresh: matching sources, a stamp, an edit, nothing at all", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jdo-bundle-" });
  try {
    const root = new URL(`file://${dir}/`);
    await Deno.mkdir(join(dir, "src/app"), { recursive: true });
    await Deno.writeTextFile(join(dir, "src/app/a.ts"), "export const a = 1;\n");
    await Deno.writeTextFile(join(dir, "src/b.ts"), "export const b = 2;\n");
    await Deno.writeTextFile(join(dir, BUNDLE_PATH), "// bundle\n");
    const sources = ["src/app/a.ts", "src/b.ts"];
    await Deno.writeTextFile(
      join(dir, MANIFEST_PATH),
      JSON.stringify({ digest: await sourcesDigest(root, sources), sources }),
    );
    assert.equal(await fastBundleFresh(root), true);
    const stamp = await Deno.readTextFile(join(dir, STAMP_PATH));
    assert.match(stamp, /src\/app\/a\.ts \d+ \d+/);
    assert.equal(await fastBundleFresh(root), true, "from the stamp");
    // An edit of the same size: the stamp no longer matches, the digest neither.
    await Deno.writeTextFile(join(dir, "src/app/a.ts"), "export const a = 3;\n");
    await Deno.utime(join(dir, "src/app/a.ts"), new Date(), new Date(Date.UTC(2030, 0, 1)));
    assert.equal(await fastBundleFresh(root), false);
    // Put back: fresh again (by content, whatever the times say).
    await Deno.writeTextFile(join(dir, "src/app/a.ts"), "export const a = 1;\n");
    assert.equal(await fastBundleFresh(root), true);
    await Deno.remove(join(dir, MANIFEST_PATH));
    assert.equal(await fastBundleFresh(root), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A copy of the repository's code (node_modules linked), to run a changed bundle in. */
async function repoCopy(dir: string): Promise<string> {
  const copy = join(dir, "repo");
  await Deno.mkdir(copy);
  const cp = await new Deno.Command("cp", {
    args: ["-R", "main.ts", "deno.json", "deno.lock", "src", copy],
    cwd: REPO_ROOT,
  }).output();
  assert.ok(cp.success, "cp");
  await Deno.symlink(join(REPO_ROOT, "node_modules"), join(copy, "node_modules"));
  return copy;
}

/** jdo from the copy's main.ts. */
const run = (main: string, home: string, args: string[], env: Record<string, string>) =>
  runJdo(home, args, { main, env });

Deno.test("jdo runs the bundle, answers as the sources do, and never runs a stale one", async () => {
  await using tmp = await tempHome();
  const copy = await repoCopy(tmp.root);
  const main = join(copy, "main.ts");
  // A bundle that says it ran (on stderr, as it loads).
  const bundle = join(copy, BUNDLE_PATH);
  const marker = "BUNDLE-RAN";
  await Deno.writeTextFile(
    bundle,
    `console.error(${JSON.stringify(marker)});\n` + await Deno.readTextFile(bundle),
  );
  const trust = { JDO_FAST_BUNDLE: "" };
  const sources = { JDO_FAST_BUNDLE: "0" };
  const seed = await run(main, tmp.home, [
    "commit",
    "Send the deck",
    "--to",
    "Ana",
    "--due",
    "tomorrow",
  ], sources);
  assert.equal(seed.code, 0, seed.stderr);
  const calls = [
    ["list"],
    ["list", "--json"],
    ["list", "--all", "--json"],
    ["show", "nosuchid"],
    [],
    ["integrity", "--json"],
    ["list", "--bogus"],
  ];
  for (const args of calls) {
    const viaBundle = await run(main, tmp.home, args, trust);
    const viaSources = await run(main, tmp.home, args, sources);
    assert.ok(viaBundle.stderr.startsWith(marker + "\n"), `bundle ran for ${args.join(" ")}`);
    assert.ok(!viaSources.stderr.includes(marker));
    assert.deepEqual(
      { ...viaBundle, stderr: viaBundle.stderr.slice(marker.length + 1) },
      viaSources,
      `jdo ${args.join(" ")}`,
    );
  }
  // Not a fast command: the bundle is not even loaded.
  const edit = await run(main, tmp.home, ["review", "--json"], trust);
  assert.equal(edit.code, 0, edit.stderr);
  assert.ok(!edit.stderr.includes(marker));
  // Checked mode: fresh, it runs; after an edit to one of its sources, never.
  const check = { JDO_FAST_BUNDLE: "check" };
  assert.ok((await run(main, tmp.home, ["list"], check)).stderr.includes(marker));
  const items = join(copy, "src/cli/commands/items.ts");
  await Deno.writeTextFile(items, (await Deno.readTextFile(items)) + "\n// edited\n");
  const stale = await run(main, tmp.home, ["list"], check);
  assert.equal(stale.code, 0, stale.stderr);
  assert.ok(!stale.stderr.includes(marker), "a stale bundle ran");
  assert.ok(stale.stdout.includes("Send the deck"));
});

Deno.test("the repository's stamp check agrees with the manifest", async () => {
  // What the tests rely on (JDO_FAST_BUNDLE=check): the real bundle is fresh.
  assert.equal(await fastBundleFresh(ROOT_URL), true);
});
