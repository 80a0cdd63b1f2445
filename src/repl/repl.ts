import type { Command } from "commander";
import { createInterface, type Interface } from "node:readline";
import { join } from "node:path";
import process from "node:process";
import type { Readable, Writable } from "node:stream";
import type { AppContext } from "../app/context.ts";
import { explainFileError } from "../app/file_errors.ts";
import { PromptCancelled } from "../app/prompter.ts";
import { ensurePrivateDir } from "../config/paths.ts";
import { ENTITIES } from "../db/schema.ts";
import { listRecords } from "../domain/records.ts";
import { describeError, errorLine, JdoError } from "../errors.ts";
import { type Style, style, truncateWidth, visibleWidth } from "../output/colors.ts";
import { safeLine } from "../output/safe_text.ts";
import { dashboardNow } from "../cli/commands/dashboard.ts";
import { History, HISTORY_MAX } from "./history.ts";
import { helpLines, moreCommands, parseSlash, SLASH_COMMANDS, type SlashAction } from "./slash.ts";
import { SyncLoop } from "./sync_loop.ts";
import type { ReplSync } from "../sync/repl_hook.ts";

/**
 * How the REPL runs a command line: the CLI's own command tree, handed in by
 * the CLI (the REPL never imports the CLI, which starts it: no import circle).
 */
export interface CommandRunner {
  /** A fresh command tree (commander keeps state between parses). */
  build(): Command;
  run(program: Command, argv: string[]): Promise<void>;
}

/** Where the REPL reads and echoes lines; tests pass streams of their own. */
export interface ReplOptions {
  input?: Readable;
  output?: Writable;
  /** Whether `input`/`output` are a terminal (line editing, arrows, Ctrl-C). */
  terminal?: boolean;
  /** Defaults to `repl_history` in the data directory. */
  historyPath?: string;
}

export const TEXT_HINT = "Type /help for commands, or /commit … to make a commitment";
export const NO_SYNC = "Sync is not set up. Run: jdo sync setup";
export const CTRL_C_AGAIN = "(press Ctrl-C again or Ctrl-D to exit)";

/** The prompt: the sync indicator (if any), then `jdo› `. */
export function promptText(indicator: string, color: boolean): string {
  const s = style(color);
  const name = s.bold(s.cyan("jdo›")) + " ";
  if (!indicator) return name;
  // Synced is green, waiting to push is yellow, anything needing attention is red.
  const painted = indicator === "✓"
    ? s.green(indicator)
    : indicator.startsWith("⇡")
    ? s.yellow(indicator)
    : indicator === "?"
    ? s.dim(indicator)
    : s.red(indicator);
  return `${painted} ${name}`;
}

/** The line under a list saying how to open one of its items ("" for none). */
export function pickHint(count: number): string {
  if (count === 0) return "";
  if (count === 1) return "/1 shows it in full";
  if (count === 2) return "/1 or /2 shows one in full";
  return `/1 … /${Math.min(count, 99)} shows one in full`;
}

/** Tab completion of slash command names (the first word only). */
export function completeSlash(line: string): [string[], string] {
  if (!line.startsWith("/") || /\s/.test(line)) return [[], line];
  const names = SLASH_COMMANDS.flatMap((c) => [c.name, ...(c.aliases ?? [])])
    .filter((name) => name.length > 1)
    .map((name) => `/${name}`);
  return [names.filter((name) => name.startsWith(line.toLowerCase())), line];
}

/**
 * The interactive jdo: dashboard, then slash commands until /exit, Ctrl-D,
 * or Ctrl-C twice on an empty line (Ctrl-C on a typed line clears it). Commands run jdo's own command tree in-process
 * with the store kept open; errors are printed on one line and never end the
 * REPL. The store is closed when the REPL ends.
 */
export async function runRepl(
  ctx: AppContext,
  commands: CommandRunner,
  sync?: ReplSync,
  options: ReplOptions = {},
): Promise<void> {
  const s = style(ctx.io.color);
  const fail = (message: string) => ctx.io.err(s.red(safeLine(`jdo: ${message}`)));
  const dim = (message: string) => ctx.io.out(s.dim(message));

  /** Full IDs of the items /1…/N pick from: the last dashboard or list. */
  let picks: string[] = [];
  const showDashboard = async () => {
    const dashboard = await dashboardNow(ctx);
    picks = dashboard.shown.map((record) => String(record.id));
    ctx.io.out(dashboard.text);
  };

  await showDashboard();
  const history = await openHistory(ctx, options.historyPath, fail);
  ctx.io.out("");
  dim("Type /help for commands, /exit to leave.");

  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const rl: Interface = createInterface({
    input,
    output,
    terminal: options.terminal ?? true,
    history: history.forReadline(),
    historySize: HISTORY_MAX,
    completer: completeSlash,
    prompt: promptText("", ctx.io.color),
  });

  let busy = false;
  /** The terminal is gone (Ctrl-D, Ctrl-C, /exit): no more prompts. */
  let closed = false;
  /** /exit was typed: lines queued after it are dropped. */
  let exited = false;
  /** False when Ctrl-D ends the REPL with the cursor still after the prompt. */
  let atLineStart = false;
  /** Ctrl-C was just pressed on an empty line: another one leaves. */
  let interrupted = false;
  /** Set while /sync waits, so Ctrl-C can stop waiting. */
  let stopWaiting: (() => void) | undefined;

  const setIndicator = (indicator: string) => {
    if (closed) return;
    rl.setPrompt(promptText(indicator, ctx.io.color));
    // Redraw only an empty prompt: never disturb a line being typed or a
    // command's output.
    if (!busy && rl.line === "") rl.prompt(true);
  };
  const loop = sync ? new SyncLoop(sync, setIndicator) : undefined;

  /** Runs `jdo ARGV…` in-process; returns false when it failed (already reported). */
  const runCommand = async (argv: string[]): Promise<boolean> => {
    const program = commands.build();
    program.hook("postAction", async (_root, action) => {
      if (action.name() === "list") picks = await listedIds(ctx, action);
    });
    try {
      await commands.run(program, argv);
      return true;
    } catch (raw) {
      const error = raw instanceof PromptCancelled
        ? new JdoError("CANCELLED", "Cancelled")
        : explainFileError(raw, ctx.paths.database);
      if (ctx.env.JDO_LOG_LEVEL === "debug" && error instanceof Error) {
        ctx.io.err(error.stack ?? String(error));
      }
      const line = errorLine(error);
      if (line) fail(line);
      return false;
    }
  };

  const perform = async (action: SlashAction): Promise<void> => {
    switch (action.type) {
      case "none":
        return;
      case "text":
        dim(
          /^(exit|quit|q|bye)$/i.test(action.text)
            ? "Type /exit or press Ctrl-D to leave"
            : TEXT_HINT,
        );
        return;
      case "help":
        printHelp(ctx, s);
        return;
      case "exit":
        exited = true;
        atLineStart = true;
        rl.close();
        return;
      case "dashboard":
        await showDashboard();
        return;
      case "sync": {
        if (!loop) {
          ctx.io.out(NO_SYNC);
          return;
        }
        dim("Syncing… (Ctrl-C stops waiting)");
        const stopped = new Promise<undefined>((resolve) => {
          stopWaiting = () => resolve(undefined);
        });
        const summary = await Promise.race([loop.now(), stopped]);
        stopWaiting = undefined;
        if (summary === undefined) dim("The sync goes on in the background.");
        else if (summary) ctx.io.out(summary);
        return;
      }
      case "pick": {
        const id = picks[action.index - 1];
        if (!id) {
          fail(
            picks.length === 0
              ? "Nothing to pick from: the last list was empty"
              : `No item ${action.index} in the last list (pick 1–${picks.length})`,
          );
          return;
        }
        await runCommand(["show", id]);
        return;
      }
      case "run": {
        const ok = await runCommand(action.argv);
        const quiet = action.argv.some((a) => a === "--json" || a === "--help" || a === "-h");
        if (ok && action.list && !quiet && picks.length > 0) dim(pickHint(picks.length));
        return;
      }
      case "error":
        fail(action.message);
        return;
    }
  };

  const handleLine = async (line: string) => {
    if (exited) return;
    void history.add(line);
    busy = true;
    try {
      await perform(parseSlash(line));
    } catch (error) {
      // perform() reports command errors itself; this is a last resort.
      fail(describeError(error));
    } finally {
      busy = false;
    }
    if (closed) return;
    rl.prompt();
    // A command may have changed what is waiting to sync (⇡N): redraw when known.
    loop?.refreshIndicator();
  };

  const finished = new Promise<void>((resolve) => {
    let queue = Promise.resolve();
    rl.on("line", (line: string) => {
      interrupted = false;
      queue = queue.then(() => handleLine(line));
    });
    rl.on("SIGINT", () => {
      if (stopWaiting) {
        stopWaiting();
        return;
      }
      if (busy) return;
      if (rl.line === "") {
        // Like node and python: a second Ctrl-C in a row leaves, the first only says so.
        if (interrupted) {
          rl.close();
          return;
        }
        interrupted = true;
        output.write(`\n${s.dim(CTRL_C_AGAIN)}\n`);
        rl.prompt();
        return;
      }
      interrupted = false;
      // Clear the line being typed: to its end, then delete back to the start.
      rl.write(null, { ctrl: true, name: "e" });
      rl.write(null, { ctrl: true, name: "u" });
    });
    rl.on("close", () => {
      if (closed) return;
      closed = true;
      if (!atLineStart) output.write("\n");
      // Lines already typed still run (a /sync among them too); then stop.
      queue.then(() => {
        loop?.stop();
        return history.flush();
      }).then(() => resolve());
    });
  });

  if (sync) {
    // Show the indicator in the first prompt if it comes quickly; never wait long.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const quick = await Promise.race([
      Promise.resolve().then(() => sync.indicator()).catch(() => ""),
      new Promise<string>((resolve) => timer = setTimeout(() => resolve(""), 150)),
    ]);
    clearTimeout(timer);
    rl.setPrompt(promptText(String(quick ?? ""), ctx.io.color));
  }
  rl.prompt();
  loop?.start();
  await finished;
  await ctx.close();
}

async function openHistory(
  ctx: AppContext,
  path: string | undefined,
  warn: (message: string) => void,
): Promise<History> {
  if (!path) {
    try {
      await ensurePrivateDir(ctx.paths.home);
    } catch {
      // History.load reports the file it cannot read or write.
    }
  }
  return await History.load(path ?? join(ctx.paths.home, "repl_history"), {
    onWarning: (message) => warn(`history: ${message}`),
  });
}

/** The IDs `jdo list` just printed, in order, so /1…/N can pick from them. */
async function listedIds(ctx: AppContext, list: Command): Promise<string[]> {
  const word = String(list.processedArgs[0] ?? "commitments").toLowerCase();
  const def = ENTITIES.find((e) => e.plural === word || e.name === word);
  if (!def) return [];
  const opts = list.opts<{ all?: boolean; status?: string }>();
  const records = await listRecords(await ctx.store(), def, {
    all: opts.all,
    status: opts.status?.replace("-", "_"),
    timeZone: ctx.timeZone(),
  });
  return records.map((record) => String(record.id));
}

function printHelp(ctx: AppContext, s: Style): void {
  const rows = helpLines();
  const width = Math.max(...rows.map(([usage]) => visibleWidth(usage)));
  const columns = ctx.io.columns();
  for (const [usage, summary] of rows) {
    const line = `  ${usage}${" ".repeat(width - visibleWidth(usage))}  ${s.dim(summary)}`;
    ctx.io.out(columns === undefined ? line : truncateWidth(line, columns));
  }
  ctx.io.out("");
  ctx.io.out(`  Example: /commit "Send the report" --to Alex --due friday`);
  ctx.io.out(s.dim(`  Also: ${moreCommands().join(" ")} · /help COMMAND for its options`));
  ctx.io.out(
    s.dim(
      "  Keys: ↑/↓ history · Tab completes · Ctrl-C clears the line (twice: leaves) · Ctrl-D leaves",
    ),
  );
}
