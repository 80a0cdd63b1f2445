import { Command, CommanderError } from "commander";
import type { AppContext } from "../app/context.ts";
import { JdoError } from "../errors.ts";
import { COMMIT, VERSION } from "../version.ts";
import { registerAddCommands } from "./commands/add.ts";
import { registerDataCommands } from "./commands/data.ts";
import { registerItemCommands } from "./commands/items.ts";
import { registerReportCommands } from "./commands/report.ts";
import { registerHome } from "./commands/home.ts";
import { registerSyncCommands } from "./commands/sync.ts";
import { registerCompletionsCommand } from "./commands/completions.ts";

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
    .showSuggestionAfterError(true);
  registerHome(program, ctx);
  registerAddCommands(program, ctx);
  registerItemCommands(program, ctx);
  registerReportCommands(program, ctx);
  registerDataCommands(program, ctx);
  registerSyncCommands(program, ctx);
  registerCompletionsCommand(program, ctx);
  return program;
}

const QUIET_EXITS = new Set(["commander.helpDisplayed", "commander.version"]);

/** Parses argv and runs the command; commander's own errors become usage errors. */
export async function runProgram(program: Command, argv: string[]): Promise<void> {
  const first = argv[0];
  if (first !== undefined && !first.startsWith("-")) {
    const known = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
    if (!known.includes(first) && first !== "help") {
      throw new JdoError("USAGE", `Unknown command "${first}" (see jdo --help)`);
    }
  }
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (QUIET_EXITS.has(error.code)) return;
    if (error.code === "commander.help") {
      throw new JdoError("USAGE", "", { cause: error }); // help already printed
    }
    throw new JdoError("USAGE", error.message.replace(/^error: /, ""), { cause: error });
  }
}
