import { tokenize, TokenizeError } from "./tokenize.ts";

/** What one line typed at the REPL asks for. */
export type SlashAction =
  /** An empty line: just prompt again. */
  | { type: "none" }
  /** Text without a leading slash: answered with a hint, never captured. */
  | { type: "text"; text: string }
  | { type: "help" }
  | { type: "exit" }
  | { type: "dashboard" }
  | { type: "sync" }
  /** `/N`: show the Nth item (1-based) of the last dashboard or list. */
  | { type: "pick"; index: number }
  /** Run jdo's own command line in-process; `list` marks a listing to pick from. */
  | { type: "run"; argv: string[]; list?: boolean }
  | { type: "error"; message: string };

interface SlashCommand {
  name: string;
  aliases?: string[];
  usage: string;
  summary: string;
  /** Hidden commands work but are not listed by /help. */
  hidden?: boolean;
  parse(args: string[]): SlashAction;
}

const usage = (text: string): SlashAction => ({ type: "error", message: `Usage: ${text}` });

function noArgs(name: string, action: SlashAction): (args: string[]) => SlashAction {
  return (args) => args.length === 0 ? action : usage(`/${name}`);
}

/** A command that needs one ID first; further words are passed through as flags. */
function withId(verb: string, slash: string) {
  return (args: string[]): SlashAction =>
    args.length === 0 || (args[0].startsWith("-") && !isHelpFlag(args[0]))
      ? usage(`/${slash} ID`)
      : { type: "run", argv: [verb, ...args] };
}

const isHelpFlag = (word: string) => word === "--help" || word === "-h";

export const SLASH_COMMANDS: readonly SlashCommand[] = [
  {
    name: "help",
    usage: "/help [COMMAND]",
    summary: "this help, or the options of a command",
    parse: (args) => {
      if (args.length === 0) return { type: "help" };
      if (args.length > 1) return usage("/help [COMMAND]");
      const name = args[0].replace(/^\//, "").toLowerCase();
      const command = findCommand(name);
      if (!command) return unknownCommand(name);
      const parsed = command.parse(["--help"]);
      return parsed.type === "run" ? parsed : { type: "help" };
    },
  },
  {
    name: "dashboard",
    aliases: ["home"],
    usage: "/dashboard",
    summary: "show the dashboard again",
    parse: noArgs("dashboard", { type: "dashboard" }),
  },
  {
    name: "list",
    aliases: ["ls"],
    usage: "/list [KIND] [--all]",
    summary: "commitments, or goals, visions, milestones, tasks, …",
    parse: (args) => ({ type: "run", argv: ["list", ...args], list: true }),
  },
  {
    name: "view",
    aliases: ["show"],
    usage: "/view ID",
    summary: "show one item (any unique ID prefix)",
    parse: withId("show", "view"),
  },
  {
    name: "commit",
    usage: "/commit TEXT …",
    summary: "make a commitment: TEXT --to NAME --due WHEN",
    parse: (args) =>
      args.length === 0
        ? usage("/commit DELIVERABLE --to NAME --due WHEN [--time HH:MM] [--notes TEXT]")
        : { type: "run", argv: ["commit", ...args] },
  },
  {
    name: "complete",
    aliases: ["done"],
    usage: "/complete ID",
    summary: "complete a commitment, task or milestone",
    parse: withId("complete", "complete"),
  },
  {
    name: "start",
    usage: "/start ID",
    summary: "mark an item as in progress",
    hidden: true,
    parse: withId("start", "start"),
  },
  {
    name: "at-risk",
    usage: "/at-risk ID",
    summary: "warn that a commitment may miss its due date",
    hidden: true,
    parse: withId("at-risk", "at-risk"),
  },
  {
    name: "abandon",
    usage: "/abandon ID",
    summary: "abandon a commitment, goal or vision",
    hidden: true,
    parse: withId("abandon", "abandon"),
  },
  {
    name: "edit",
    usage: "/edit ID --FIELD VALUE …",
    summary: "change fields of an item (the options of jdo edit)",
    hidden: true,
    parse: withId("edit", "edit"),
  },
  {
    name: "delete",
    aliases: ["rm"],
    usage: "/delete ID --yes",
    summary: "delete an item",
    hidden: true,
    parse: (args) => {
      if (args.some(isHelpFlag)) return { type: "run", argv: ["delete", "--help"] };
      const words = args.filter((a) => a !== "--yes");
      return words.length !== 1 || words[0].startsWith("-") || words.length === args.length
        ? usage("/delete ID --yes (the REPL does not ask; without --yes nothing is deleted)")
        : { type: "run", argv: ["delete", ...args] };
    },
  },
  {
    name: "capture",
    usage: "/capture TEXT",
    summary: "add an inbox item",
    hidden: true,
    parse: (args) =>
      args.length === 0 ? usage("/capture TEXT") : { type: "run", argv: ["capture", ...args] },
  },
  {
    name: "integrity",
    usage: "/integrity",
    summary: "your integrity report",
    hidden: true,
    parse: (args) => ({ type: "run", argv: ["integrity", ...args] }),
  },
  {
    name: "sync",
    usage: "/sync",
    summary: "sync with the cloud now",
    parse: noArgs("sync", { type: "sync" }),
  },
  {
    name: "exit",
    aliases: ["quit", "q"],
    usage: "/exit",
    summary: "leave (also Ctrl-D)",
    parse: noArgs("exit", { type: "exit" }),
  },
];

function findCommand(name: string): SlashCommand | undefined {
  return SLASH_COMMANDS.find((c) => c.name === name || c.aliases?.includes(name));
}

const PICK = /^[1-9][0-9]?$/;

/** Turns one line typed at the prompt into what it asks for. Never throws. */
export function parseSlash(line: string): SlashAction {
  const text = line.trim();
  if (text === "") return { type: "none" };
  if (!text.startsWith("/")) return { type: "text", text };
  let words: string[];
  try {
    words = tokenize(text.slice(1));
  } catch (error) {
    if (error instanceof TokenizeError) return { type: "error", message: error.message };
    throw error;
  }
  if (words.length === 0) return { type: "help" };
  const [first, ...args] = words;
  const name = first.toLowerCase();
  if (PICK.test(name)) {
    return args.length === 0 ? { type: "pick", index: Number(name) } : usage(`/${name}`);
  }
  const command = findCommand(name);
  if (!command) return unknownCommand(first);
  return command.parse(args);
}

function unknownCommand(name: string): SlashAction {
  const guess = suggest(name.toLowerCase());
  const hint = guess ? ` Did you mean /${guess}?` : "";
  return {
    type: "error",
    message: `Unknown command "/${name}".${hint} Type /help for commands.`,
  };
}

/** The closest command name within two edits, if any. */
export function suggest(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const command of SLASH_COMMANDS) {
    for (const candidate of [command.name, ...(command.aliases ?? [])]) {
      if (candidate.length < 3) continue;
      const distance = editDistance(name, candidate);
      const prefix = name.length >= 2 && candidate.startsWith(name);
      if (prefix || distance < bestDistance) {
        best = command.name;
        bestDistance = prefix ? 0 : distance;
      }
      if (bestDistance === 0) return best;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}

/** The /help text: one aligned line per visible command. */
export function helpLines(): string[][] {
  const lines: string[][] = [];
  for (const command of SLASH_COMMANDS) {
    if (command.hidden) continue;
    lines.push([command.usage, command.summary]);
    if (command.name === "view") {
      lines.push(["/1 … /5", "show the Nth item of the last dashboard or list"]);
    }
  }
  return lines;
}

/** Names of the commands /help leaves out, mentioned on one line. */
export function moreCommands(): string[] {
  return SLASH_COMMANDS.filter((c) => c.hidden).map((c) => `/${c.name}`);
}
