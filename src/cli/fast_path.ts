/**
 * `jdo --version` and `jdo --help` answered before anything else loads
 * (issue 20): no commander, no command modules, no database. The top-level
 * help is commander's own text, kept as data (src/cli/top_help.ts, written by
 * `deno task gen:help` from the command tree) and laid out here the way
 * commander 14's Help does at the terminal's width; src/cli/fast_path_test.ts
 * and tests/e2e/performance_test.ts compare both answers with commander's.
 */
import { COMMIT, VERSION } from "../version.ts";
import { TOP_HELP, type TopHelp } from "./top_help.ts";
import { HELP_ARGS, VERSION_ARGS } from "../app/fast_bundle.ts";

/** What `jdo --version` prints (commander's `.version()` text too). */
export const VERSION_TEXT = `jdo ${VERSION} (${COMMIT})`;

/**
 * The text for an argv that needs no command tree, or null. `helpWidth` is
 * the width commander would use: the terminal's columns, 80 for a pipe.
 */
export function fastAnswer(argv: readonly string[], helpWidth: number): string | null {
  if (argv.length !== 1) return null;
  if (VERSION_ARGS.has(argv[0])) return VERSION_TEXT;
  if (HELP_ARGS.has(argv[0])) return formatTopHelp(TOP_HELP, helpWidth);
  return null;
}

// Commander 14's Help: items indented 2, term and description 2 apart,
// descriptions wrapped at whitespace when at least 40 columns remain.
const ITEM_INDENT = 2;
const SPACER = 2;
const MIN_WIDTH_TO_WRAP = 40;

/** The help commander prints for the top-level command, at `helpWidth`. */
export function formatTopHelp(help: TopHelp, helpWidth: number): string {
  const termWidth = Math.max(...help.sections.flatMap((s) => s.items.map(([term]) => term.length)));
  const output = [`Usage: ${help.usage}`, ""];
  if (help.description) output.push(boxWrap(help.description, helpWidth), "");
  for (const section of help.sections) {
    if (!section.items.length) continue;
    output.push(section.title);
    for (const [term, description] of section.items) {
      output.push(formatItem(term, termWidth, description, helpWidth));
    }
    output.push("");
  }
  return output.join("\n");
}

function formatItem(term: string, termWidth: number, description: string, helpWidth: number) {
  const indent = " ".repeat(ITEM_INDENT);
  if (!description) return indent + term;
  const remaining = helpWidth - termWidth - SPACER - ITEM_INDENT;
  const text = remaining < MIN_WIDTH_TO_WRAP || /\n[^\S\r\n]/.test(description)
    ? description
    : boxWrap(description, remaining).replace(/\n/g, "\n" + " ".repeat(termWidth + SPACER));
  return indent + term.padEnd(termWidth) + " ".repeat(SPACER) + text.replace(/\n/g, `\n${indent}`);
}

function boxWrap(text: string, width: number): string {
  if (width < MIN_WIDTH_TO_WRAP) return text;
  const lines: string[] = [];
  for (const line of text.split(/\r\n|\n/)) {
    const chunks = line.match(/[\s]*[^\s]+/g);
    if (chunks === null) {
      lines.push("");
      continue;
    }
    let current = [chunks.shift()!];
    let currentWidth = current[0].length;
    for (const chunk of chunks) {
      if (currentWidth + chunk.length <= width) {
        current.push(chunk);
        currentWidth += chunk.length;
        continue;
      }
      lines.push(current.join(""));
      const next = chunk.trimStart();
      current = [next];
      currentWidth = next.length;
    }
    lines.push(current.join(""));
  }
  return lines.join("\n");
}
