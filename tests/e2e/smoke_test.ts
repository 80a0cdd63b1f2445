/**
 * Runs scripts/smoke.sh — the same script users' CI and the release workflow
 * run against a compiled jdo — inside `deno task test`.
 *
 * A compiled binary can only be tested where `deno compile` could build one
 * (it downloads its runtime from Deno's servers, which these machines cannot
 * reach). So the smoke flows always run against the source entry point, under
 * the binary's permissions; the compiled binary is tested only when
 * `deno task compile` built dist/jdo-<this platform> (its .build.json stamp
 * says so), and the test names say which of the two ran.
 */
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import {
  type BuildStamp,
  hostTarget,
  outputPath,
  REPO_ROOT,
  stampPath,
} from "../../scripts/compile.ts";

const SMOKE = join(REPO_ROOT, "scripts", "smoke.sh");

async function smoke(args: string[]): Promise<void> {
  const env = {
    // smoke.sh --source runs `deno`: the one running these tests.
    PATH: `${dirname(Deno.execPath())}:${Deno.env.get("PATH") ?? ""}`,
  };
  const out = await new Deno.Command("bash", {
    args: [SMOKE, ...args],
    cwd: REPO_ROOT,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  const report = `${text.decode(out.stdout)}${text.decode(out.stderr)}`;
  assert.equal(out.code, 0, `scripts/smoke.sh ${args.join(" ")} failed:\n${report}`);
  assert.match(report, /^smoke: \d+ passed, 0 failed/m, report);
}

async function builtStamp(): Promise<BuildStamp | undefined> {
  const target = hostTarget();
  if (!target) return undefined;
  try {
    await Deno.stat(outputPath(target));
    return JSON.parse(await Deno.readTextFile(stampPath(target))) as BuildStamp;
  } catch {
    return undefined; // not built here (or a leftover without a finished build)
  }
}

const host = hostTarget();
const stamp = await builtStamp();
const binary = host ? relative(REPO_ROOT, outputPath(host)) : undefined;

Deno.test({
  name: stamp
    ? "smoke script against the source entry point (the compiled binary is tested too, below)"
    : "smoke script against the source entry point (compiled binary not tested here: deno compile cannot download its runtime)",
  async fn() {
    await smoke(["--source"]);
  },
});

Deno.test({
  name: stamp
    ? `smoke script against the compiled binary ${binary} (jdo ${stamp.version} (${stamp.commit}), built ${stamp.built_at})`
    : host
    ? `smoke script against the compiled binary (skipped: no ${binary} was built by \`deno task compile\`, which needs Deno's download servers)`
    : `smoke script against the compiled binary (skipped: jdo has no compile target for ${Deno.build.target})`,
  ignore: !stamp,
  async fn() {
    await smoke([outputPath(host!)]);
  },
});
