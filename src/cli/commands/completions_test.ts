import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type AppContext, createContext } from "../../app/context.ts";
import { type CapturedIo, captureIo } from "../../app/io.ts";
import { scriptedPrompter } from "../../app/prompter.ts";
import { ENTITIES } from "../../db/schema.ts";
import { testClock } from "../../../tests/helpers/test_clock.ts";
import { buildProgram } from "../program.ts";
import { runJdo } from "../run.ts";
import {
  bashCompletion,
  completionTree,
  entityKinds,
  fishCompletion,
  zshCompletion,
} from "./completions.ts";

function includes(text: string, part: string): void {
  assert.ok(text.includes(part), `expected ${JSON.stringify(part)} in:\n${text}`);
}

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

function testContext(): { ctx: AppContext; io: CapturedIo } {
  const io = captureIo();
  // Completions never open the data directory; it does not even exist.
  const ctx = createContext({
    env: { JDO_HOME: join(tmpdir(), "jdo-completions-test-never-created"), JDO_TIMEZONE: "UTC" },
    io,
    clock: testClock,
    prompter: scriptedPrompter([]),
    selfCommand: [],
  });
  return { ctx, io };
}

function program() {
  return buildProgram(testContext().ctx);
}

async function hasShell(name: string): Promise<boolean> {
  try {
    const out = await new Deno.Command("sh", {
      args: ["-c", `command -v ${name}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

async function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

async function writeTemp(text: string, suffix: string): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "jdo-completions-", suffix });
  await Deno.writeTextFile(path, text);
  return path;
}

const GENERATORS = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion };
const TOP_LEVEL = program().commands.map((c) => c.name());

Deno.test("completion tree mirrors commander: every command, flag and list kind", () => {
  const tree = completionTree(program());
  assert.deepStrictEqual(tree.subcommands.map((n) => n.path[0]), TOP_LEVEL);
  for (
    const name of ["capture", "commit", "list", "sync", "db", "goal", "completions", "integrity"]
  ) {
    assert(TOP_LEVEL.includes(name), `missing top-level command ${name}`);
  }
  const commit = tree.subcommands.find((n) => n.path[0] === "commit")!;
  for (const flag of ["--to", "--due", "--time", "--goal", "--json", "--help"]) {
    assert(commit.flags.some((f) => f.long === flag), `commit lacks ${flag}`);
  }
  assert(commit.flags.find((f) => f.long === "--due")!.takesValue);
  const sync = tree.subcommands.find((n) => n.path[0] === "sync")!;
  assert.deepStrictEqual(sync.subcommands.map((n) => n.path.join(" ")), [
    "sync setup",
    "sync status",
    "sync now",
    "sync disable",
    "sync repair",
    "sync encrypt",
    "sync key",
    "sync devices",
    "sync conflicts",
  ]);
  const devices = sync.subcommands.find((n) => n.path[1] === "devices")!;
  assert.deepStrictEqual(devices.subcommands.map((n) => n.path.join(" ")), [
    "sync devices forget",
    "sync devices rename",
  ]);
  assert(devices.flags.some((f) => f.long === "--json"), "sync devices lacks --json");
  const repair = sync.subcommands.find((n) => n.path[1] === "repair")!;
  for (const flag of ["--json", "--yes"]) {
    assert(repair.flags.some((f) => f.long === flag), `sync repair lacks ${flag}`);
  }
  const setup = sync.subcommands.find((n) => n.path[1] === "setup")!;
  assert(!setup.flags.some((f) => f.long === "--token"), "the refused --token is not offered");
  for (const flag of ["--url", "--token-stdin", "--no-upload", "--no-backup", "--yes", "--name"]) {
    assert(setup.flags.some((f) => f.long === flag), `sync setup lacks ${flag}`);
  }
  // The internal flag of the background sync is not offered.
  const now = sync.subcommands.find((n) => n.path[1] === "now")!;
  assert(!now.flags.some((f) => f.long === "--background"));
  const list = tree.subcommands.find((n) => n.path[0] === "list")!;
  assert.deepStrictEqual(list.args[0], { kind: "words", words: ENTITIES.map((e) => e.plural) });
  assert.deepStrictEqual(entityKinds(), [
    "stakeholders",
    "visions",
    "goals",
    "milestones",
    "recurring",
    "commitments",
    "tasks",
    "cleanup-plans",
    "task-history",
    "inbox",
  ]);
});

for (const [shell, generate] of Object.entries(GENERATORS)) {
  Deno.test(`${shell} script names every top-level command, --due, and the list kinds`, () => {
    const script = generate(program());
    for (const name of TOP_LEVEL) assert.match(script, new RegExp(`\\b${name}\\b`), name);
    includes(script, shell === "fish" ? "-l 'due'" : "--due");
    includes(
      script,
      "stakeholders visions goals milestones recurring commitments tasks cleanup-plans task-history inbox",
    );
  });
}

Deno.test("jdo completions bash prints the script on stdout and exits 0", async () => {
  const { ctx, io } = testContext();
  const code = await runJdo(ctx, ["completions", "bash"]);
  assert.deepStrictEqual(code, 0);
  includes(io.stdout(), "complete -F _jdo jdo");
  assert.deepStrictEqual(io.stderr(), "");
});

Deno.test("jdo completions with an unknown shell is a usage error (exit 2)", async () => {
  const { ctx, io } = testContext();
  assert.deepStrictEqual(await runJdo(ctx, ["completions", "tcsh"]), 2);
  includes(io.stderr(), "bash, zsh, fish");
  assert.deepStrictEqual(io.stdout(), "");
  const missing = testContext();
  assert.deepStrictEqual(await runJdo(missing.ctx, ["completions"]), 2);
});

Deno.test("bash loads the script from the real CLI: complete -p jdo", async () => {
  const r = await run("bash", [
    "-c",
    'source <("$DENO" run -A --quiet main.ts completions bash) && complete -p jdo',
  ], { cwd: REPO_ROOT, env: { DENO: Deno.execPath() } });
  assert.deepStrictEqual(r.stderr, "");
  assert.deepStrictEqual(r.code, 0);
  assert.deepStrictEqual(r.stdout.trim(), "complete -F _jdo jdo");
});

Deno.test("bash completes commands, subcommands, flags, flag values and list kinds", async () => {
  const script = await writeTemp(bashCompletion(program()), ".bash");
  const files = await Deno.makeTempDir({ prefix: "jdo-completions-files-" });
  await Deno.writeTextFile(join(files, "backup-1.db"), "");
  const cases: [string[], string][] = [
    [["jdo", "sync", "s"], "setup status"],
    [["jdo", "sync", ""], "setup status now disable repair encrypt key devices conflicts"],
    [["jdo", "sync", "r"], "repair"],
    [["jdo", "sync", "devices", "r"], "rename"],
    [["jdo", "sync", "devices", ""], "forget rename"],
    [["jdo", "sync", "devices", "f"], "forget"],
    [["jdo", "export", "--f"], "--force"],
    [["jdo", "sync", "repair", "--"], "--json --yes --no-color --help"],
    [["jdo", "cap"], "capture"],
    [["jdo", "comp"], "complete completions"],
    [["jdo", "commit", "Report", "--d"], "--due"],
    [["jdo", "commit", "--to", ""], ""], // any name: nothing to offer
    [
      ["jdo", "list", ""],
      "stakeholders visions goals milestones recurring commitments tasks cleanup-plans task-history inbox",
    ],
    [["jdo", "list", "goals", ""], ""],
    [["jdo", "list", "--json", "co"], "commitments"],
    [["jdo", "list", "--status", "at"], "at_risk"],
    [["jdo", "stakeholder", "add", "Bob", "--type", ""], "person team organization self"],
    [["jdo", "--no-color", "sync", "n"], "now"],
    [["jdo", "sync", "setup", "--no-"], "--no-upload --no-backup --no-color"],
    [["jdo", "completions", ""], "bash zsh fish"],
    [["jdo", "db", "restore", join(files, "back")], join(files, "backup-1.db")],
    [["jdo", "export", "--out", "=", join(files, "b")], join(files, "backup-1.db")],
  ];
  const driver = [
    `source ${JSON.stringify(script)}`,
    ...cases.map(([words]) =>
      `COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(" ")}); ` +
      `COMP_CWORD=${words.length - 1}; COMPREPLY=(); _jdo; echo "\${COMPREPLY[*]}"`
    ),
  ].join("\n");
  const r = await run("bash", ["-c", driver]);
  assert.deepStrictEqual(r.stderr, "");
  assert.deepStrictEqual(r.code, 0);
  const lines = r.stdout.split("\n");
  cases.forEach(([words, expected], i) => {
    assert.deepStrictEqual(lines[i], expected, `jdo ${words.slice(1).join(" ")}<TAB>`);
  });
  await Deno.remove(script);
  await Deno.remove(files, { recursive: true });
});

const ZSH = await hasShell("zsh");
Deno.test({
  name: ZSH
    ? "zsh accepts the script (zsh -n)"
    : "zsh accepts the script (zsh -n) (skipped: zsh not installed)",
  ignore: !ZSH,
  async fn() {
    const script = await writeTemp(zshCompletion(program()), ".zsh");
    const r = await run("zsh", ["-n", script]);
    assert.deepStrictEqual(r.stderr, "");
    assert.deepStrictEqual(r.code, 0);
    await Deno.remove(script);
  },
});

const FISH = await hasShell("fish");
Deno.test({
  name: FISH
    ? "fish accepts the script (fish -n) and completes with it"
    : "fish accepts the script (fish -n) (skipped: fish not installed)",
  ignore: !FISH,
  async fn() {
    const script = await writeTemp(fishCompletion(program()), ".fish");
    const syntax = await run("fish", ["-n", script]);
    assert.deepStrictEqual(syntax.stderr, "");
    assert.deepStrictEqual(syntax.code, 0);
    const cases: [string, string[]][] = [
      ["jdo sync s", ["setup", "status"]],
      ["jdo list ", [
        "cleanup-plans",
        "commitments",
        "goals",
        "inbox",
        "milestones",
        "recurring",
        "stakeholders",
        "tasks",
        "task-history",
        "visions",
      ]],
      ["jdo list goals ", []],
      ["jdo stakeholder add Bob --type ", ["organization", "person", "self", "team"]],
      ["jdo completions ", ["bash", "fish", "zsh"]],
    ];
    const driver = [
      `source ${JSON.stringify(script)}`,
      ...cases.map(([line]) =>
        `set -l got (complete -C ${
          JSON.stringify(line)
        } | string replace -r '\\t.*' ''); echo "$got"`
      ),
    ].join("\n");
    const r = await run("fish", ["--no-config", "-c", driver]);
    assert.deepStrictEqual(r.stderr, "");
    const lines = r.stdout.split("\n");
    cases.forEach(([line, expected], i) => {
      assert.deepStrictEqual(lines[i].trim(), expected.join(" "), `${line}<TAB>`);
    });
    await Deno.remove(script);
  },
});

Deno.test("a command or flag added to the tree is completed by every shell, no generator edited", () => {
  const tree = program();
  const gadget = tree.command("gadget").description("a command no generator knows of");
  gadget.command("polish").description("a subcommand").option("--sheen <level>", "how shiny");
  for (const [shell, generate] of Object.entries(GENERATORS)) {
    const before = generate(program());
    const script = generate(tree);
    for (const word of ["gadget", "polish", "sheen"]) {
      assert.ok(!before.includes(word), `${shell}: ${word} before it was added`);
      assert.ok(script.includes(word), `${shell}: ${word} is completed once added`);
    }
  }
});
