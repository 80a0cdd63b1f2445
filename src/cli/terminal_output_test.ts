/**
 * What reaches the terminal: user text made safe (issue 11 item 10), one
 * confirmation rule for destructive commands (item 16), tables that fit the
 * width (item 19). jdo runs in-process on a captured Io.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { commandRunner } from "./program.ts";
import { type AppContext, createContext } from "../app/context.ts";
import { type CapturedIo, captureIo } from "../app/io.ts";
import { scriptedPrompter } from "../app/prompter.ts";
import { DEFAULT_SETTINGS, loadSettings, saveSettings } from "../config/settings.ts";
import { testClock } from "../../tests/helpers/test_clock.ts";
import { visibleWidth } from "../output/colors.ts";
import { runRepl } from "../repl/repl.ts";
import { runJdo } from "./run.ts";

interface Run {
  code: number;
  out: string;
  err: string;
}

interface World extends AsyncDisposable {
  home: string;
  /** Runs `jdo ARGS` in-process; `tty` and `columns` describe the terminal. */
  run(
    args: string[],
    options?: { tty?: boolean; columns?: number; answers?: (string | boolean)[] },
  ): Promise<Run & { asked: string[] }>;
  context(io: CapturedIo): AppContext;
}

async function world(): Promise<World> {
  const home = await Deno.makeTempDir({ prefix: "jdo-term-" });
  const context = (io: CapturedIo, answers: (string | boolean)[] = []) =>
    createContext({
      env: { JDO_HOME: home, JDO_TIMEZONE: "UTC", JDO_SYNC_AUTO: "0" },
      io,
      clock: testClock,
      prompter: scriptedPrompter(answers),
      selfCommand: [],
    });
  return {
    home,
    context,
    async run(args, options = {}) {
      const io = captureIo({ tty: options.tty ?? false, columns: options.columns });
      const prompter = scriptedPrompter(options.answers ?? []);
      const ctx = createContext({
        env: { JDO_HOME: home, JDO_TIMEZONE: "UTC", JDO_SYNC_AUTO: "0" },
        io,
        clock: testClock,
        prompter,
        selfCommand: [],
      });
      const code = await runJdo(ctx, args);
      return { code, out: io.stdout(), err: io.stderr(), asked: prompter.asked };
    },
    [Symbol.asyncDispose]: () => Deno.remove(home, { recursive: true }).catch(() => {}),
  };
}

// What must never reach a terminal from user text.
// deno-lint-ignore no-control-regex
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
const EVIL = "Pay \x1b[31mrent\x1b[0m\x07 \x1b]0;pwned\x07 \u009b2J end";
const EVIL_NAME = "Mal\x1b[2Jory";

function clean(text: string, what: string): void {
  assert.ok(!RAW_CONTROL.test(text), `${what}: raw control character in ${JSON.stringify(text)}`);
}

Deno.test("control characters in user text are shown escaped in list, show, the dashboard, messages, errors and prompts; JSON keeps them", async () => {
  await using w = await world();
  const made = await w.run(["commit", EVIL, "--to", EVIL_NAME, "--due", "2030-01-01", "--json"]);
  assert.equal(made.code, 0, made.err);
  const id = String(JSON.parse(made.out).id);
  // Text that arrives from elsewhere (an import, or another device's sync) is shown the same way.
  const doc = JSON.stringify([{
    deliverable: "Synced \x1b[5mblink\x1b[0m\ttab\nline",
    stakeholder: "Remote\x07Bob",
    due_date: "2030-02-01",
  }]);
  await Deno.writeTextFile(join(w.home, "in.json"), doc);
  assert.equal((await w.run(["import", join(w.home, "in.json")])).code, 0);
  const task = await w.run(["task", "add", id, "Step \x1b[1mone\x1b[0m"]);
  assert.equal(task.code, 0, task.err);
  clean(task.out, "task add message");

  const human: [string, string[]][] = [
    ["commit message", ["commit", "Again \x1b[31mx", "--to", "Al\x07", "--due", "2030-01-02"]],
    ["list", ["list"]],
    ["list tasks", ["list", "tasks"]],
    ["list stakeholders", ["list", "stakeholders"]],
    ["show", ["show", id]],
    ["dashboard", []],
    ["error naming user input", ["list", "\x1b[31mgoals"]],
  ];
  for (const [what, args] of human) {
    const r = await w.run(args);
    clean(r.out, `${what} stdout`);
    clean(r.err, `${what} stderr`);
  }
  const list = (await w.run(["list"])).out;
  assert.match(list, /Pay \^\[\[31mrent\^\[\[0m\^G \^\[\]0;pwned\^G \\u009b2J end/);
  assert.match(list, /Mal\^\[\[2Jory/);
  assert.match(
    list,
    /Synced \^\[\[5mblink\^\[\[0m tab line/,
    "tabs and newlines are spaces in a table",
  );
  assert.match((await w.run(["list", "stakeholders"])).out, /Remote\^GBob/);
  // `show` keeps a line break of the text, indented under its field.
  const synced = JSON.parse((await w.run(["list", "--json"])).out)
    .find((c: Record<string, unknown>) => String(c.deliverable).startsWith("Synced"));
  const shown = (await w.run(["show", String(synced.id)])).out;
  assert.match(shown, / {2}Deliverable\s+Synced \^\[\[5mblink\^\[\[0m\ttab\n {15}line/);

  // JSON output keeps the data exactly.
  const json = JSON.parse((await w.run(["show", id, "--json"])).out);
  assert.equal(json.deliverable, EVIL);
  assert.equal(json.stakeholder, EVIL_NAME);

  // The delete confirmation shows the text escaped.
  const asked = await w.run(["delete", id], { tty: true, answers: [false] });
  assert.equal(asked.code, 1);
  assert.equal(asked.asked.length, 1);
  clean(asked.asked[0], "delete prompt");
  assert.match(asked.asked[0], /Delete commitment "Pay \^\[\[31mrent/);

  // The REPL: dashboard, /list and /view.
  const io = captureIo({ tty: true });
  const ctx = w.context(io);
  const input = new PassThrough();
  const output = new PassThrough();
  const done = runRepl(ctx, commandRunner(ctx), undefined, {
    input,
    output,
    terminal: false,
    historyPath: join(w.home, "history"),
  });
  input.end(`/list\n/view ${id}\n/view \x1b[31mnope\n/exit\n`);
  await done;
  clean(io.stdout(), "REPL stdout");
  clean(io.stderr(), "REPL stderr");
  assert.match(io.stdout(), /Pay \^\[\[31mrent/);
});

Deno.test("one confirmation rule: delete, db restore and sync disable refuse off a terminal without --yes, ask on one", async () => {
  await using w = await world();
  const made = await w.run(["capture", "keep me", "--json"]);
  const id = String(JSON.parse(made.out).id);
  const backup = await w.run(["db", "backup", "--out", join(w.home, "b.db")]);
  assert.equal(backup.code, 0, backup.err);
  const settings = join(w.home, "settings.json");
  await saveSettings(settings, {
    ...DEFAULT_SETTINGS,
    turso_enabled: true,
    turso_db_url: "http://127.0.0.1:9",
  });

  const destructive: [string, string[]][] = [
    ["delete", ["delete", id]],
    ["restore", ["db", "restore", join(w.home, "b.db")]],
    ["turn sync off", ["sync", "disable"]],
  ];
  for (const [action, args] of destructive) {
    const refused = await w.run(args);
    assert.equal(refused.code, 2, `${args.join(" ")} off a terminal: ${refused.err}`);
    assert.equal(
      refused.err,
      `jdo: Refusing to ${action} without --yes when not on a terminal\n`,
      args.join(" "),
    );
    assert.deepEqual(refused.asked, [], "nothing is asked off a terminal");
    const declined = await w.run(args, { tty: true, answers: [false] });
    assert.equal(declined.code, 1, `${args.join(" ")} declined: ${declined.err}`);
    assert.equal(declined.asked.length, 1, `${args.join(" ")} asks on a terminal`);
  }
  // Nothing happened.
  assert.equal((await loadSettings(settings)).turso_enabled, true, "sync is still on");
  assert.equal((await w.run(["show", id])).code, 0, "the item is still there");
});

Deno.test("tables and the dashboard fit the terminal width: no line longer than it, cut with …", async () => {
  await using w = await world();
  const long = "Prepare the quarterly infrastructure budget review for the board";
  for (const [text, to] of [[long, "Bartholomew Featherstonehaugh"], ["Short", "Al"]]) {
    const r = await w.run(["commit", text, "--to", to, "--due", "2030-01-01"]);
    assert.equal(r.code, 0, r.err);
  }
  await w.run(["goal", "add", "A goal with a very long title that needs cutting somewhere"]);
  await w.run(["capture", "An inbox item with quite a lot of words in it, more than fit"]);
  for (const columns of [40, 60, 100]) {
    for (const args of [["list"], [], ["list", "goals"], ["list", "inbox"], ["list", "--all"]]) {
      // (Off a terminal: on one, `jdo` alone would start the REPL. COLUMNS gives the width.)
      const r = await w.run(args, { columns });
      assert.equal(r.code, 0, r.err);
      for (const line of r.out.trimEnd().split("\n")) {
        assert.ok(
          visibleWidth(line) <= columns,
          `jdo ${args.join(" ")} at ${columns} columns: ${
            visibleWidth(line)
          } > ${columns}: "${line}"`,
        );
      }
      if (columns === 40) assert.match(r.out, /…/, `jdo ${args.join(" ")} cuts at 40`);
    }
  }
  // At 100 columns the dashboard keeps whom a cut deliverable is for.
  const dashboard = (await w.run([], { columns: 100 })).out;
  assert.match(dashboard, /Prepare the quarterly .*… → Bartholomew/);
  // Off a terminal without COLUMNS, a table is not cut to a width (only each column's own cap).
  const piped = (await w.run(["list"])).out;
  assert.ok(piped.includes("Prepare the quarterly infrastructure budget review for the"), piped);
  assert.ok(piped.split("\n").some((line) => visibleWidth(line) > 100), piped);
});
