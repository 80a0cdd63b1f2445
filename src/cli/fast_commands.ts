/**
 * The fast path (issue 20): the commands people type all day run without
 * commander and with only their own modules loaded. Each entry names the
 * module that holds the command's action and the action's export; argv is
 * read with the command's grammar, which `deno task gen:help` writes from the
 * commander tree (src/cli/command_grammar.ts, checked by
 * src/cli/fast_commands_test.ts). Anything the grammar does not cover plainly
 * — help, an unknown or repeated option, a missing argument, `--`, combined
 * short flags — goes to the whole command tree (src/cli/run.ts), so errors,
 * suggestions and help are commander's, word for word.
 *
 * A process on the fast path that does not sync in-process (sync off, or
 * JDO_SYNC_AUTO=0) opens jdo.db with node:sqlite; with automatic sync on it
 * keeps libSQL, since the catch-up before the command pulls in-process
 * (src/sync/freshness.ts) and two SQLite engines must never share a file in
 * one process.
 *
 * Adding a command (docs/DESIGN.md, "Adding a command"): export its action
 * as `(ctx, ...arguments, options) => Promise<void>` from its module, call it
 * from the commander definition, add a line here, run `deno task gen:help`.
 */
import type { AppContext } from "../app/context.ts";
import { resolveSyncConfig } from "../sync/config.ts";
import { catchUpIfStale } from "../sync/freshness.ts";
import { COMMAND_GRAMMAR, type CommandGrammar } from "./command_grammar.ts";
import { settle } from "./outcome.ts";
import { viewStampFresh } from "../sync/view_stamp.ts";

export interface FastCommand {
  /** The module holding the action, relative to this file. */
  module: string;
  /** Its export: `(ctx, ...arguments, options) => Promise<void>`. */
  action: string;
}

/** Command path (words joined by spaces; "" is `jdo` alone, off a terminal) → action. */
export const FAST_COMMANDS: Record<string, FastCommand> = {
  "": { module: "./commands/dashboard.ts", action: "printDashboard" },
  capture: { module: "./commands/add.ts", action: "captureAction" },
  commit: { module: "./commands/add.ts", action: "commitAction" },
  integrity: { module: "./commands/report.ts", action: "integrityAction" },
  list: { module: "./commands/items.ts", action: "listAction" },
  show: { module: "./commands/items.ts", action: "showAction" },
};

type Action = (ctx: AppContext, ...args: unknown[]) => Promise<void>;

/** A fast command's module, by its FAST_COMMANDS name. */
export type ModuleLoader = (module: string) => Promise<Record<string, unknown>>;

export interface FastOptions {
  /** How modules are loaded (default: import() from this directory; the bundle has its own). */
  load?: ModuleLoader;
  /**
   * Only commands that need no sync in this process (they open jdo.db with
   * node:sqlite): null, with nothing run or opened, for the others. The
   * bundle (src/app/fast_main.ts) leaves those to the sources, so that the
   * sync engine is never loaded next to a second copy of jdo's modules.
   */
  localOnly?: boolean;
}

// A variable specifier: Deno prepares every module a literal import() names
// before the first line runs (scripts/compile.ts --includes them).
const importHere: ModuleLoader = (module) => import(new URL(module, import.meta.url).href);

export interface FastCall {
  path: string[];
  /** The command's arguments then its options, as commander hands them to the action. */
  args: unknown[];
}

/** The fast call for argv, or null when the whole command tree must answer. */
export function fastCall(
  argv: readonly string[],
  grammars: Record<string, CommandGrammar> = COMMAND_GRAMMAR,
): FastCall | null {
  for (let words = Math.min(argv.length, 3); words >= 0; words--) {
    const key = argv.slice(0, words).join(" ");
    const grammar = grammars[key];
    if (!grammar || !(key in FAST_COMMANDS)) continue;
    const args = parseWithGrammar(grammar, argv.slice(words));
    return args ? { path: argv.slice(0, words), args } : null;
  }
  return null;
}

/**
 * Runs argv on the fast path and returns the exit code, or null (nothing
 * run, nothing opened) when it is not a fast command.
 */
export async function runFast(
  ctx: AppContext,
  argv: readonly string[],
  options: FastOptions = {},
): Promise<number | null> {
  const call = fastCall(argv);
  if (!call) return null;
  // `jdo` alone on a terminal is the REPL: the command tree's.
  if (call.path.length === 0 && ctx.io.stdinIsTty && ctx.io.stdoutIsTty) return null;
  const entry = FAST_COMMANDS[call.path.join(" ")];
  const syncs = await syncsInProcess(ctx);
  if (syncs && options.localOnly) return null;
  return await settle(ctx, async () => {
    if (syncs) await catchUpIfStale(ctx, call.path);
    else ctx.useSqliteEngine("node");
    const module = await (options.load ?? importHere)(entry.module);
    await (module[entry.action] as Action)(ctx, ...call.args);
  });
}

/**
 * Whether the catch-up before a command may pull from the cloud in this
 * process: automatic sync on, and a view of the cloud that is not fresh
 * (a fresh one, as cloud/view.json records it, means no catch-up:
 * src/sync/view_stamp.ts).
 */
async function syncsInProcess(ctx: AppContext): Promise<boolean> {
  try {
    const config = await resolveSyncConfig(ctx, { token: false });
    return Boolean(config.enabled && config.auto && config.url) && !viewStampFresh(ctx);
  } catch {
    // A broken configuration: the catch-up says nothing, as on the full path.
    return true;
  }
}

/**
 * Reads a leaf command's argv as commander does, for the plain cases only:
 * long and short flags, `--opt value`, `--opt=value`, options among the
 * arguments, defaults, `--no-` flags. Null for anything else.
 */
export function parseWithGrammar(grammar: CommandGrammar, argv: readonly string[]) {
  const opts: Record<string, unknown> = {};
  for (const option of grammar.options) {
    if (option.default !== undefined) opts[option.attribute] = option.default;
    else if (option.negate) opts[option.attribute] = true;
  }
  const seen = new Set<string>();
  const operands: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === "--") return null;
    if (!word.startsWith("-") || word === "-") {
      operands.push(word);
      continue;
    }
    const eq = word.startsWith("--") ? word.indexOf("=") : -1;
    const flag = eq === -1 ? word : word.slice(0, eq);
    if (!flag.startsWith("--") && flag.length !== 2) return null; // -abc, -5
    const option = grammar.options.find((o) => o.long === flag || o.short === flag);
    if (!option || option.custom || seen.has(option.attribute)) return null;
    seen.add(option.attribute);
    if (option.value === "none") {
      if (eq !== -1) return null;
      opts[option.attribute] = !option.negate;
    } else if (option.value === "required") {
      const value = eq === -1 ? argv[++i] : word.slice(eq + 1);
      if (value === undefined || (eq === -1 && value.startsWith("-"))) return null;
      opts[option.attribute] = value;
    } else return null;
  }
  if (grammar.options.some((o) => o.mandatory && opts[o.attribute] === undefined)) return null;
  const args: unknown[] = [];
  for (const [index, argument] of grammar.args.entries()) {
    if (argument.variadic) {
      const rest = operands.slice(index);
      if (rest.length === 0) return null;
      args.push(rest);
      continue;
    }
    const value = operands[index];
    if (value === undefined) {
      if (argument.required || argument.default === undefined) return null;
      args.push(argument.default);
    } else args.push(value);
  }
  const variadic = grammar.args.at(-1)?.variadic ?? false;
  if (!variadic && operands.length > grammar.args.length) return null;
  args.push(opts);
  return args;
}
