import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO_ROOT, V8_FLAGS } from "../../scripts/compile.ts";

Deno.test("runtime flags: `deno task start` runs main.ts with the compiled binary's V8 flags", async () => {
  const config = JSON.parse(await Deno.readTextFile(join(REPO_ROOT, "deno.json")));
  const start = String(config.tasks.start).split(/\s+/);
  for (const flag of V8_FLAGS) assert.ok(start.includes(flag), `start task lacks ${flag}`);
});

Deno.test("runtime flags: this Deno accepts the V8 flags (an unknown one fails the run)", async () => {
  const run = (flags: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", ...flags, join(REPO_ROOT, "main.ts"), "--version"],
      stdout: "piped",
      stderr: "piped",
    }).output();
  const ok = await run(V8_FLAGS);
  assert.equal(ok.code, 0, new TextDecoder().decode(ok.stderr));
  assert.match(new TextDecoder().decode(ok.stdout), /^jdo /);
  const bad = await run(["--v8-flags=--no-such-v8-flag-here"]);
  assert.notEqual(bad.code, 0);
});
