import assert from "node:assert/strict";
import { join } from "node:path";
import { createContext } from "../../app/context.ts";
import { captureIo } from "../../app/io.ts";
import { scriptedPrompter } from "../../app/prompter.ts";
import { testClock } from "../../../tests/helpers/test_clock.ts";
import { runJdo } from "../run.ts";
import { validDeviceName } from "./sync_maintenance.ts";

async function jdo(args: string[], options: { tty: boolean; answers?: boolean[] }) {
  const home = await Deno.makeTempDir({ prefix: "jdo-maint-" });
  const io = captureIo({ tty: options.tty });
  const prompter = scriptedPrompter(options.answers ?? []);
  const ctx = createContext({
    env: { JDO_HOME: join(home, "home"), JDO_TIMEZONE: "UTC", JDO_SYNC_AUTO: "0" },
    io,
    clock: testClock,
    prompter,
    selfCommand: [],
  });
  try {
    const code = await runJdo(ctx, args);
    return { code, stdout: io.stdout(), stderr: io.stderr(), asked: prompter.asked };
  } finally {
    ctx.close();
    await Deno.remove(home, { recursive: true });
  }
}

Deno.test("sync repair asks on a terminal; no is a cancel and touches nothing", async () => {
  const no = await jdo(["sync", "repair"], { tty: true, answers: [false] });
  assert.equal(no.asked.length, 1);
  assert.match(no.asked[0], /No data is deleted/);
  assert.match(no.stderr, /Nothing was repaired/);
  assert.notEqual(no.code, 0);
  // Yes goes on (here to "sync is not set up").
  const yes = await jdo(["sync", "repair"], { tty: true, answers: [true] });
  assert.match(yes.stderr, /Sync is not set up/);
  // --yes does not ask; off a terminal without it is a usage error.
  const given = await jdo(["sync", "repair", "--yes"], { tty: true });
  assert.deepEqual(given.asked, []);
  const refused = await jdo(["sync", "repair"], { tty: false });
  assert.equal(refused.code, 2);
  assert.deepEqual(refused.asked, []);
});

Deno.test("sync devices without sync: says so; rename is stored for the next sync", async () => {
  const list = await jdo(["sync", "devices"], { tty: false });
  assert.equal(list.code, 0);
  assert.match(list.stdout, /Sync is off/);
  const renamed = await jdo(["sync", "devices", "rename", "  work laptop "], { tty: false });
  assert.equal(renamed.code, 0, renamed.stderr);
  assert.match(renamed.stdout, /"work laptop" \(published when sync is on\)/);
});

Deno.test("device names: trimmed, 1-64 characters, no control characters", () => {
  assert.equal(validDeviceName("  phone "), "phone");
  for (const bad of ["", "   ", "x".repeat(65), "a\nb", "tab\there"]) {
    assert.throws(() => validDeviceName(bad), /device name/, JSON.stringify(bad));
  }
  assert.equal(validDeviceName("é".repeat(64)).length, 64);
});
