import assert from "node:assert/strict";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { commandRunner } from "../cli/program.ts";
import { type AppContext, createContext } from "../app/context.ts";
import { type CapturedIo, captureIo } from "../app/io.ts";
import { scriptedPrompter } from "../app/prompter.ts";
import { testClock, testNow } from "../../tests/helpers/test_clock.ts";
import { inProcessJdo } from "../../tests/helpers/in_process.ts";
import { visibleWidth } from "../output/colors.ts";
import { completeSlash, NO_SYNC, pickHint, promptText, runRepl, TEXT_HINT } from "./repl.ts";
import type { ReplSync } from "../sync/repl_hook.ts";

interface Session {
  ctx: AppContext;
  io: CapturedIo;
  home: string;
  /** What readline echoed: prompts. */
  screen(): string;
}

/** Runs the REPL in-process on the given lines (then end of input). */
async function session(
  lines: string[],
  sync?: ReplSync,
  beforeEnd?: (io: CapturedIo) => Promise<void>,
  existingHome?: string,
): Promise<Session> {
  const home = existingHome ?? await Deno.makeTempDir({ prefix: "jdo-repl-" });
  const io = captureIo({ tty: true });
  const ctx = createContext({
    env: { JDO_HOME: home, JDO_TIMEZONE: "UTC" },
    io,
    clock: testClock,
    prompter: scriptedPrompter([]),
    selfCommand: [],
  });
  const input = new PassThrough();
  const output = new PassThrough();
  let screen = "";
  output.on("data", (chunk) => screen += String(chunk));
  const done = runRepl(ctx, commandRunner(ctx), sync, { input, output, terminal: false });
  input.write(lines.map((line) => line + "\n").join(""));
  await beforeEnd?.(io);
  input.end();
  await done;
  return { ctx, io, home, screen: () => screen };
}

async function cleanup(s: Session) {
  await s.ctx.close();
  await Deno.remove(s.home, { recursive: true });
}

Deno.test("runRepl: dashboard, /commit, /list, /N, hints and errors, then /exit", async () => {
  const s = await session([
    "/commit Ship report --to Alice --due tomorrow",
    '/commit "Second thing" --to Bob --due "in 3 days"',
    "/list",
    "/2",
    "buy milk",
    "/bogus",
    "/view nope",
    "/9",
    "/sync",
    "/exit",
    "/commit Never --to Nobody --due tomorrow",
  ]);
  try {
    const out = s.io.stdout();
    const err = s.io.stderr();
    assert.match(out, /0 active commitments/, "the dashboard comes first");
    assert.match(out, /Committed [0-9a-f]{6}: "Ship report" to Alice/);
    assert.match(out, /Committed [0-9a-f]{6}: "Second thing" to Bob/);
    assert.match(out, /Ship report[\s\S]*Second thing/, "/list shows both, soonest first");
    assert.match(out, new RegExp(pickHint(2).replace(/[/…]/g, ".")));
    assert.match(out, /Deliverable\s+Second thing/, "/2 shows the second listed commitment");
    assert.ok(out.includes(TEXT_HINT));
    assert.ok(out.includes(NO_SYNC));
    assert.doesNotMatch(out, /Never/, "lines after /exit are not run");
    assert.match(err, /^jdo: Unknown command "\/bogus"/m);
    assert.match(err, /^jdo: No item matches "nope"|^jdo: .*nope/m);
    assert.match(err, /^jdo: No item 9 in the last list \(pick 1–2\)/m);
    assert.doesNotMatch(err, /\n\s+at /, "no stack traces");
    for (const line of err.trimEnd().split("\n")) assert.match(line, /^jdo: /);
    assert.equal(s.ctx.openedStore(), undefined, "the store is closed at exit");
    assert.match(s.screen(), /jdo› /);
    const history = await Deno.readTextFile(join(s.home, "repl_history"));
    assert.equal(history.split("\n")[0], "/commit Ship report --to Alice --due tomorrow");
    assert.ok(history.includes("/bogus\n"));
    if (Deno.build.os !== "windows") {
      assert.equal((await Deno.stat(join(s.home, "repl_history"))).mode! & 0o777, 0o600);
    }
  } finally {
    await cleanup(s);
  }
});

Deno.test("runRepl: text without a slash is never captured", async () => {
  const s = await session(["remember the milk", "/list inbox"]);
  try {
    assert.ok(s.io.stdout().includes(TEXT_HINT));
    assert.match(s.io.stdout(), /No inbox items to show/);
  } finally {
    await cleanup(s);
  }
});

Deno.test("runRepl: /1 picks from the dashboard; end of input runs queued lines, then ends", async () => {
  const s = await session([
    "/commit Ship report --to Alice --due tomorrow",
    "/dashboard",
    "/1",
    "/complete bogus-id",
    "/help",
  ]);
  try {
    const out = s.io.stdout();
    assert.match(out, /1 active commitment /);
    assert.match(out, /Deliverable\s+Ship report/);
    assert.match(out, /\/commit TEXT/, "/help ran after an error");
    assert.match(s.io.stderr(), /^jdo: /m);
  } finally {
    await cleanup(s);
  }
});

Deno.test("runRepl: with a sync hook, syncs at start, shows the indicator, /sync prints", async () => {
  let calls = 0;
  const sync: ReplSync = {
    intervalSeconds: 3600,
    indicator: () => Promise.resolve(calls > 0 ? "✓" : "⇡2"),
    syncNow: async () => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return `Synced: pushed 2, pulled 0 (#${calls})`;
    },
  };
  const s = await session(["/sync"], sync, async (io) => {
    // Keep the terminal open until /sync has answered and the prompt is redrawn.
    for (let i = 0; i < 200 && !io.stdout().includes("(#2)"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
  });
  try {
    assert.equal(calls, 2, "one sync at start, one for /sync");
    assert.match(s.io.stdout(), /Synced: pushed 2, pulled 0 \(#2\)/);
    assert.match(s.screen(), /^⇡2 jdo› [\s\S]*✓ jdo› /, "indicator before and after");
  } finally {
    await cleanup(s);
  }
});

Deno.test("runRepl: the dashboard generates the recurring instances now due, as list does", async () => {
  await using j = await inProcessJdo(testNow());
  const template = await j.json(["recurring", "add", "Standup", "--to", "Team", "--every", "day"]);
  const first = String(template.first_instance_id);
  assert.equal((await j.run(["delete", first, "--yes"])).code, 0);
  // No open instance now: the next occurrence is due to be generated.
  const s = await session(["/exit"], undefined, undefined, j.home);
  try {
    assert.match(s.io.stdout(), /Standup/, "the REPL's dashboard shows the generated instance");
  } finally {
    await s.ctx.close();
  }
});

Deno.test("promptText: indicator before the name, nothing when sync is off", () => {
  assert.equal(promptText("", false), "jdo› ");
  assert.equal(promptText("✓", false), "✓ jdo› ");
  assert.equal(promptText("⇡3", false), "⇡3 jdo› ");
  const colored = promptText("offline", true);
  assert.ok(colored.startsWith("\x1b[31moffline"), "problems are red");
  assert.equal(visibleWidth(colored), visibleWidth("offline jdo› "));
});

Deno.test("completeSlash: completes command names only", () => {
  assert.deepEqual(completeSlash("/com")[0].sort(), ["/commit", "/complete"]);
  assert.deepEqual(completeSlash("/li")[0], ["/list"]);
  assert.deepEqual(completeSlash("/list go")[0], []);
  assert.deepEqual(completeSlash("hello")[0], []);
});
