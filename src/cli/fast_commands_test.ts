/**
 * The fast path (issue 20) runs a command exactly as the command tree would:
 * its grammar is the tree's, it reads argv into the very arguments commander
 * hands the action (or leaves the argv to commander), and the output, exit
 * code and database are the same on both paths.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Command } from "commander";
import { grammarOf, jdoProgram } from "../../scripts/gen_top_help.ts";
import { inProcessJdo, type InProcessResult } from "../../tests/helpers/in_process.ts";
import { COMMAND_GRAMMAR } from "./command_grammar.ts";
import { FAST_COMMANDS, fastCall } from "./fast_commands.ts";
import { runProgram } from "./program.ts";

Deno.test("src/cli/command_grammar.ts is the command tree's (else: deno task gen:help)", () => {
  assert.deepEqual(COMMAND_GRAMMAR, grammarOf(jdoProgram()));
});

/** What commander hands the action of `path` for argv (without the Command), or undefined. */
async function commanderCall(path: string, argv: string[]): Promise<unknown[] | undefined> {
  const program = jdoProgram();
  let target: Command = program;
  for (const word of path ? path.split(" ") : []) {
    target = target.commands.find((c) => c.name() === word)!;
  }
  let got: unknown[] | undefined;
  target.action((...args: unknown[]) => {
    got = args.slice(0, -1);
  });
  try {
    await runProgram(program, argv);
  } catch {
    return undefined;
  }
  return got;
}

/** Words an argv of `path` may hold: mostly its flags, values and operands, some odd ones. */
function wordsFor(path: string): fc.Arbitrary<string> {
  const grammar = COMMAND_GRAMMAR[path];
  const flags = grammar.options.flatMap((o) => [
    o.long,
    ...(o.short ? [o.short] : []),
    ...(o.value === "none" ? [`${o.long}=1`] : [`${o.long}=x`]),
  ]);
  const plain = [
    ...flags,
    "abcd",
    "Call the bank",
    "tomorrow",
    "commitments",
    "tasks",
    "help",
    "-",
  ];
  const odd = ["--", "-h", "--help", "--nope", "-x", "-5", "-jv", "--no-color", "list", "show"];
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...plain) },
    { weight: 1, arbitrary: fc.constantFrom(...odd) },
  );
}

Deno.test("the fast path reads argv into what commander hands the action, or leaves it to commander", async () => {
  const paths = Object.keys(FAST_COMMANDS);
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...paths).chain((path) =>
        fc.tuple(
          fc.constant(path),
          fc.array(wordsFor(path), { maxLength: 6 }),
        )
      ),
      async ([path, rest]) => {
        const argv = [...(path ? path.split(" ") : []), ...rest];
        const fast = fastCall(argv);
        if (!fast) return;
        const slow = await commanderCall(fast.path.join(" "), argv);
        assert.ok(slow, `fast path took what commander refuses: ${JSON.stringify(argv)}`);
        assert.equal(JSON.stringify(fast.args), JSON.stringify(slow), JSON.stringify(argv));
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("the everyday forms take the fast path; help, errors and the rest do not", () => {
  for (
    const argv of [
      [],
      ["show", "abcd"],
      ["show", "abcd", "--json"],
      ["list"],
      ["list", "--json"],
      ["list", "tasks", "--all"],
      ["list", "--status=open"],
      ["integrity"],
      ["capture", "Call", "the", "bank"],
      ["commit", "Send", "it", "--to", "Alex", "--due", "tomorrow"],
      ["commit", "--to=Alex", "Send", "--due", "friday", "--time", "3pm", "--json"],
    ]
  ) {
    assert.ok(fastCall(argv), `fast: ${argv.join(" ")}`);
  }
  for (
    const argv of [
      ["show"],
      ["show", "a", "b"],
      ["show", "--help"],
      ["show", "-h"],
      ["show", "abcd", "--jsn"],
      ["show", "abcd", "--json", "--json"],
      ["list", "--status"],
      ["list", "--status", "--json"],
      ["list", "--", "tasks"],
      ["commit", "Send", "--to", "Alex"],
      ["capture"],
      ["--no-color", "list"],
      ["help", "list"],
      ["edit", "abcd", "--title", "x"],
      ["sync", "now"],
      ["lst"],
      ["-V"],
    ]
  ) {
    assert.equal(fastCall(argv), null, `command tree: ${argv.join(" ")}`);
  }
});

/** A result with every id (8+ hex digits, as printed) replaced, for runs that create rows. */
function masked(r: InProcessResult) {
  const mask = (s: string) => s.replace(/\b[0-9a-f]{6,}(-[0-9a-f-]+)?\b/g, "<id>");
  return { code: r.code, stdout: mask(r.stdout), stderr: mask(r.stderr) };
}

Deno.test("fast path and command tree: the same output, exit code and data", async () => {
  await using fastJdo = await inProcessJdo("2026-06-15T12:00:00Z", "America/New_York");
  await using treeJdo = await inProcessJdo("2026-06-15T12:00:00Z", "America/New_York");
  let minute = 0;
  const both = async (argv: string[], wantFast = true) => {
    // One minute per command on both sides: rows made by different commands sort apart.
    minute++;
    for (const jdo of [fastJdo, treeJdo]) {
      jdo.clock.set(Date.parse("2026-06-15T12:00:00Z") + minute * 60_000);
    }
    const fast = await fastJdo.run(argv, { fast: true });
    const tree = await treeJdo.run(argv);
    assert.equal(fast.ranFast, wantFast, `${argv.join(" ")}: fast path taken`);
    assert.deepEqual(masked(fast), masked(tree), argv.join(" "));
    return fast;
  };
  await both(["commit", "Send", "the", "report", "--to", "Alex", "--due", "2026-06-20"]);
  await both(["commit", "Call", "Sam", "--to", "sam", "--due", "tomorrow", "--time", "3pm"]);
  await both(["commit", "Late", "--to", "Alex", "--due", "2026-06-01", "--json"]);
  await both(["capture", "Buy", "milk"]);
  await both(["capture", "--json", "Ring", "the", "bank"]);
  await both([]);
  await both(["list"]);
  await both(["list", "--json"]);
  await both(["list", "inbox"]);
  await both(["list", "--all", "--status", "pending"]);
  await both(["list", "nope"]);
  await both(["list", "--status", "nope"]);
  await both(["integrity"]);
  await both(["integrity", "--json"]);
  await both(["show", "zzzz"]);
  await both(["show", "abc"]);
  const listed = JSON.parse((await fastJdo.run(["list", "--json"], { fast: true })).stdout);
  const prefix = (id: string) => id.slice(0, 8);
  // Same rows, made on each side: show the n-th of each.
  const treeListed = JSON.parse((await treeJdo.run(["list", "--json"])).stdout);
  for (let i = 0; i < listed.length; i++) {
    for (const flags of [[], ["--json"]]) {
      const fast = await fastJdo.run(["show", prefix(listed[i].id), ...flags], { fast: true });
      const tree = await treeJdo.run(["show", prefix(treeListed[i].id), ...flags]);
      assert.ok(fast.ranFast);
      assert.deepEqual(masked(fast), masked(tree), `show #${i} ${flags.join(" ")}`);
    }
  }
  // Errors commander reports are the command tree's, word for word.
  await both(["show"], false);
  await both(["show", "abcd", "--jsn"], false);
  await both(["commit", "Send", "--to", "Alex"], false);
});
