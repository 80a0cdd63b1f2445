import { Command, CommanderError, type Option } from "commander";
import type { AppContext } from "../app/context.ts";
import { ENTITIES } from "../db/schema.ts";
import { JdoError } from "../errors.ts";
import { COMMIT, VERSION } from "../version.ts";
import { registerAddCommands } from "./commands/add.ts";
import { registerDataCommands } from "./commands/data.ts";
import { registerItemCommands } from "./commands/items.ts";
import { registerReportCommands } from "./commands/report.ts";
import { registerHome } from "./commands/home.ts";
import { registerSyncCommands } from "./commands/sync.ts";
import { registerCompletionsCommand } from "./commands/completions.ts";
import { registerTriageCommand } from "./commands/triage.ts";
import { registerReviewCommand } from "./commands/review.ts";
import { registerRecurringCommand } from "./commands/recurring.ts";
import { closest } from "./suggest.ts";
import type { CommandRunner } from "../repl/repl.ts";

/** Runs command lines through this command tree (for the REPL). */
export function commandRunner(ctx: AppContext): CommandRunner {
  return { build: () => buildProgram(ctx), run: runProgram };
}

/** The whole command tree; also the source of shell completions. */
export function buildProgram(ctx: AppContext): Command {
  const program = new Command("jdo")
    .description(
      "jdo — Just Do One thing at a time: keep your commitments, local-first, synced when you want.",
    )
    .version(`jdo ${VERSION} (${COMMIT})`, "-V, --version", "print the version")
    .option("--no-color", "never use colours (also: NO_COLOR=1)")
    .configureOutput({
      writeOut: (text) => ctx.io.out(text.trimEnd()),
      writeErr: (text) => ctx.io.err(text.trimEnd()),
      outputError: () => {},
    })
    .exitOverride()
    .showSuggestionAfterError(true)
    // `jdo help [COMMAND…]` is handled by runProgram; this lists it in the help.
    .helpCommand("help [command...]", "show help for a command (also: jdo COMMAND --help)");
  registerHome(program, ctx, commandRunner(ctx));
  registerAddCommands(program, ctx);
  registerItemCommands(program, ctx);
  registerReportCommands(program, ctx);
  registerDataCommands(program, ctx);
  registerSyncCommands(program, ctx);
  registerTriageCommand(program, ctx);
  registerReviewCommand(program, ctx);
  registerRecurringCommand(program, ctx);
  registerCompletionsCommand(program, ctx);
  deferRequiredOptions(program);
  return program;
}

/** Appended to the help of each required option (src/cli/command_grammar.ts reads it). */
export const REQUIRED = " (required)";

/**
 * Marks every required option "(required)" in the help, and checks them only
 * after the positional arguments: `jdo commit` without a deliverable says so
 * first, instead of asking for `--to`. (Commander checks options first.)
 */
function deferRequiredOptions(program: Command): void {
  const required = new Map<Command, Option[]>();
  const visit = (command: Command) => {
    const options = command.options.filter((o) => o.mandatory);
    for (const option of options) {
      option.mandatory = false;
      if (!option.description.endsWith(REQUIRED)) option.description += REQUIRED;
    }
    if (options.length) required.set(command, options);
    command.commands.forEach(visit);
  };
  visit(program);
  program.hook("preAction", (_root, action) => {
    for (const option of required.get(action) ?? []) {
      if (action.getOptionValue(option.attributeName()) === undefined) {
        throw new JdoError("USAGE", `required option '${option.flags}' not specified`);
      }
    }
  });
}

const QUIET_EXITS = new Set(["commander.helpDisplayed", "commander.version"]);

/** Parses argv and runs the command; commander's own errors become usage errors. */
export async function runProgram(program: Command, argv: string[]): Promise<void> {
  const args = commandWords(program, argv);
  try {
    await program.parseAsync(args, { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (QUIET_EXITS.has(error.code)) return;
    if (error.code === "commander.help") {
      if (error.exitCode === 0) return; // help asked for, printed on stdout
      throw new JdoError("USAGE", "", { cause: error }); // help already printed on stderr
    }
    throw new JdoError("USAGE", oneLine(error.message), { cause: error });
  }
}

/** Commander's messages, on one line: "unknown option '--jsn' (did you mean --json?)". */
function oneLine(message: string): string {
  return message.replace(/^error: /, "").split("\n").map((line) => line.trim())
    .filter(Boolean).join(" ").replace("(Did you mean", "(did you mean");
}

/**
 * Walks the command words of argv. `help` in command position becomes
 * `--help` on the command after it (`jdo help goal add`, `jdo goal help add`,
 * `jdo help list`); an unknown command word is a usage error with a suggestion.
 */
function commandWords(program: Command, argv: string[]): string[] {
  let command = program;
  const path: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === "--") break;
    if (word.startsWith("-")) {
      // An option of a command that also has subcommands (`sync conflicts
      // --limit 5`) may take a value: skip it too.
      const option = command.options.find((o) => o.long === word || o.short === word);
      if (option && (option.required || option.optional) && !word.includes("=")) i++;
      continue;
    }
    if (command.commands.length === 0) break; // a command's own arguments follow
    if (word === "help" && !findSub(command, "help")) {
      const rest = argv.slice(i + 1).filter((w) => !w.startsWith("-"));
      return commandWords(program, [...path, ...rest, "--help"]);
    }
    const sub = findSub(command, word);
    if (!sub) throw unknownCommand(program, path, word);
    path.push(word);
    command = sub;
  }
  return argv;
}

function findSub(command: Command, word: string): Command | undefined {
  return command.commands.find((c) => c.name() === word || c.aliases().includes(word));
}

function unknownCommand(program: Command, path: string[], word: string): JdoError {
  const typed = [...path, word].join(" ");
  const parent = path.reduce((c, name) => findSub(c, name)!, program);
  const names = parent.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden)
    .flatMap((c) => [c.name(), ...c.aliases()]);
  let guess: string | undefined;
  const kind = path.length === 1 ? ENTITIES.find((e) => e.name === path[0]) : undefined;
  if (kind && (word === "list" || word === "ls")) guess = `jdo list ${kind.plural}`;
  else if (kind && findSub(program, word)) guess = `jdo ${word} ID`;
  else {
    const near = closest(word, [...names, "help"]);
    if (near) guess = ["jdo", ...path, near].join(" ");
  }
  const help = ["jdo", ...path, "--help"].join(" ");
  return new JdoError("USAGE", `Unknown command "${typed}"`, {
    hint: guess ? `did you mean: ${guess}? See ${help}` : `see ${help}`,
  });
}
