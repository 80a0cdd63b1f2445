/**
 * The fast path (issue 20) answers `--version` and `--help` with exactly what
 * commander prints for the command tree jdo runs, at every width.
 */
import assert from "node:assert/strict";
import { createContext } from "../app/context.ts";
import { captureIo } from "../app/io.ts";
import { scriptedPrompter } from "../app/prompter.ts";
import { testClock } from "../../tests/helpers/test_clock.ts";
import { jdoProgram, topHelpOf } from "../../scripts/gen_top_help.ts";
import { fastAnswer, formatTopHelp, VERSION_TEXT } from "./fast_path.ts";
import { runJdo } from "./run.ts";
import { TOP_HELP } from "./top_help.ts";

Deno.test("src/cli/top_help.ts is the command tree's top-level help (else: deno task gen:help)", () => {
  assert.deepEqual(TOP_HELP, topHelpOf(jdoProgram()));
});

Deno.test("the fast help is commander's help at every terminal width", () => {
  for (const width of [20, 39, 40, 50, 60, 72, 80, 81, 100, 120, 160, 400]) {
    const program = jdoProgram().configureHelp({ helpWidth: width });
    assert.equal(formatTopHelp(TOP_HELP, width), program.helpInformation(), `width ${width}`);
  }
});

Deno.test("--version, -V, --help, -h and help: the fast answer is what commander prints", async () => {
  const home = await Deno.makeTempDir({ prefix: "jdo-fast-" });
  try {
    for (const args of [["--version"], ["-V"], ["--help"], ["-h"], ["help"]]) {
      const io = captureIo();
      const ctx = createContext({
        env: { JDO_HOME: home, JDO_TIMEZONE: "UTC", JDO_SYNC_AUTO: "0" },
        io,
        clock: testClock,
        prompter: scriptedPrompter([]),
        selfCommand: [],
      });
      assert.equal(await runJdo(ctx, args), 0);
      // A pipe: commander lays help out for 80 columns; main.ts writes answer + newline.
      assert.equal(fastAnswer(args, 80)!.trimEnd() + "\n", io.stdout(), args.join(" "));
      assert.equal(io.stderr(), "");
    }
  } finally {
    await Deno.remove(home, { recursive: true });
  }
  assert.equal(fastAnswer(["--version"], 80), VERSION_TEXT);
});

Deno.test("anything else goes to the command tree", () => {
  for (
    const args of [[], ["list"], ["--version", "list"], ["help", "list"], ["list", "--help"], [
      "--no-color",
      "--help",
    ]]
  ) {
    assert.equal(fastAnswer(args, 80), null, args.join(" "));
  }
});
