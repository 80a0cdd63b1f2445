/**
 * `jdo completions bash|zsh|fish`: shell completion scripts generated from
 * the real commander tree (commands, long flags, argument choices) plus the
 * entity kinds of `jdo list` and the statuses of `--status`, so a new command
 * or flag is completed without touching this file.
 *
 * The scripts are static (no jdo process runs on TAB) and keep to what the
 * shells ship with: the bash one runs on bash 3.2 (macOS) without the
 * bash-completion package.
 */
import { Argument, type Command, type Option } from "commander";
import type { AppContext } from "../../app/context.ts";
import { ENTITIES } from "../../db/schema.ts";
import { STAKEHOLDER_TYPES } from "../../domain/actions.ts";

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = typeof SHELLS[number];

/** What a flag's value or a positional argument completes to. */
export type ValueSpec =
  | { kind: "none" }
  | { kind: "words"; words: string[] }
  | { kind: "files" };

export interface FlagSpec {
  /** The long flag, e.g. "--due" or "--no-upload". */
  long: string;
  description: string;
  takesValue: boolean;
  values: ValueSpec;
}

export interface CompletionNode {
  /** Command names from the root, e.g. ["sync", "setup"]; [] for jdo itself. */
  path: string[];
  description: string;
  subcommands: CompletionNode[];
  /** Names (and aliases) under which each subcommand can be typed. */
  subcommandNames: string[];
  flags: FlagSpec[];
  /** One entry per positional argument. */
  args: ValueSpec[];
  /** The last positional argument takes any number of words. */
  variadic: boolean;
}

const NONE: ValueSpec = { kind: "none" };
const FILES: ValueSpec = { kind: "files" };

/** The kinds `jdo list` takes: stakeholders visions goals … inbox. */
export function entityKinds(): string[] {
  return ENTITIES.map((e) => e.plural);
}

function allStatuses(): string[] {
  const seen = new Set<string>();
  for (const def of ENTITIES) for (const s of def.statuses ?? []) seen.add(s);
  return [...seen];
}

function words(list: readonly string[]): ValueSpec {
  return { kind: "words", words: [...list] };
}

function firstLine(text: string): string {
  return text.split("\n")[0].trim();
}

function isHidden(cmd: Command): boolean {
  return (cmd as unknown as { _hidden?: boolean })._hidden === true;
}

/** Flags meant for jdo itself (e.g. `sync now --background`) are not offered. */
function isOffered(opt: Option): boolean {
  return !opt.hidden && !!opt.long && !/^internal\b/i.test(opt.description);
}

function flagValues(opt: Option): ValueSpec {
  if (opt.argChoices?.length) return words(opt.argChoices);
  if (opt.long === "--status") return words(allStatuses());
  if (opt.long === "--type") return words(STAKEHOLDER_TYPES);
  if (/<(path|file)>/.test(opt.flags)) return FILES;
  return NONE;
}

function flagSpec(opt: Option): FlagSpec {
  const takesValue = opt.required || opt.optional;
  return {
    long: opt.long!,
    description: firstLine(opt.description),
    takesValue,
    values: takesValue ? flagValues(opt) : NONE,
  };
}

function argValues(arg: Argument): ValueSpec {
  if (arg.argChoices?.length) return words(arg.argChoices);
  const name = arg.name();
  if (name === "kind") return words(entityKinds());
  if (name === "path" || name === "file") return FILES;
  return NONE;
}

const HELP_FLAG: FlagSpec = {
  long: "--help",
  description: "display help for command",
  takesValue: false,
  values: NONE,
};

/** Walks commander's tree (commands, options, arguments) recursively. */
export function completionTree(program: Command): CompletionNode {
  // Program-wide flags (--no-color) work after any subcommand too.
  const global = program.options.filter((o) => isOffered(o) && o.long !== "--version").map(
    flagSpec,
  );
  const walk = (cmd: Command, path: string[]): CompletionNode => {
    const own = cmd.options.filter(isOffered).map(flagSpec);
    const flags = path.length === 0 ? own : [...own, ...global];
    const seen = new Set<string>();
    const unique = [...flags, HELP_FLAG].filter((f) => !seen.has(f.long) && seen.add(f.long));
    const children = cmd.commands.filter((c) => !isHidden(c));
    return {
      path,
      description: firstLine(cmd.description()),
      subcommands: children.map((c) => walk(c, [...path, c.name()])),
      subcommandNames: children.flatMap((c) => [c.name(), ...c.aliases()]),
      flags: unique,
      args: cmd.registeredArguments.map(argValues),
      variadic: cmd.registeredArguments.at(-1)?.variadic ?? false,
    };
  };
  return walk(program, []);
}

function nodes(root: CompletionNode): CompletionNode[] {
  return [root, ...root.subcommands.flatMap(nodes)];
}

/** A word safe to place unquoted in any of the three shells. */
function assertPlain(word: string): string {
  if (!/^[A-Za-z0-9_.+-]+$/.test(word)) {
    throw new Error(`Cannot complete "${word}": not a plain word`);
  }
  return word;
}

function key(node: CompletionNode): string {
  return node.path.map(assertPlain).join(" ");
}

// ------------------------------------------------------------------- bash

/** Single-quoted for bash and zsh. */
function sq(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

function valueWords(spec: ValueSpec): string {
  if (spec.kind === "files") return "@files";
  if (spec.kind === "words") return spec.words.map(assertPlain).join(" ");
  return "";
}

function caseLines(entries: [string, string][], indent = "    "): string {
  return entries.filter(([, body]) => body !== "")
    .map(([pattern, body]) => `${indent}${sq(pattern)}) printf '%s\\n' ${body} ;;`)
    .join("\n");
}

/** Shared by bash and zsh: the tree as case tables keyed by command path. */
function dataFunctions(root: CompletionNode): string {
  const all = nodes(root);
  const subcommands = caseLines(
    all.map((n) => [key(n), n.subcommandNames.map(assertPlain).join(" ")]),
  );
  const flags = caseLines(
    all.map((n) => [key(n), n.flags.map((f) => assertPlain(f.long)).join(" ")]),
  );
  const valueFlags = caseLines(
    all.map((n) => [
      key(n),
      n.flags.filter((f) => f.takesValue).map((f) => f.long).join(" "),
    ]),
  );
  const flagValues = caseLines(
    all.flatMap((n) =>
      n.flags.filter((f) => f.takesValue).map((f): [string, string] => [
        `${key(n)}|${f.long}`,
        valueWords(f.values),
      ])
    ),
  );
  const argValues = caseLines(
    all.flatMap((n) =>
      n.args.map((spec, i): [string, string] => [`${key(n)}|${i}`, valueWords(spec)])
    ),
  );
  return `# Subcommands of a command path ('' is jdo itself).
_jdo_subcommands() {
  case "$1" in
${subcommands}
  esac
}

# Long flags of a command path.
_jdo_flags() {
  case "$1" in
${flags}
  esac
}

# The flags of a command path that take a value.
_jdo_value_flags() {
  case "$1" in
${valueFlags}
  esac
}

# Values of a flag: "PATH|FLAG" (@files means file names).
_jdo_flag_values() {
  case "$1|$2" in
${flagValues}
  esac
}

# Values of the Nth positional argument: "PATH|N".
_jdo_arg_values() {
  case "$1|$2" in
${argValues}
  esac
}

_jdo_in() {
  local want="$1" item
  shift
  for item in "$@"; do
    [[ "$item" == "$want" ]] && return 0
  done
  return 1
}`;
}

/** Repeats the last argument spec of variadic commands for later positions. */
/** Shell function shared by the bash and zsh scripts: clamps a variadic argument's index. */
function clampArgFunction(root: CompletionNode): string {
  return `_jdo_clamp_arg() {
  local n="$2"
  case "$1" in
${variadicFixups(root)}
  esac
  printf '%s' "$n"
}`;
}

function variadicFixups(root: CompletionNode): string {
  return nodes(root).filter((n) => n.variadic)
    .map((n) => `    ${sq(key(n))}) (( n >= ${n.args.length} )) && n=${n.args.length - 1} ;;`)
    .join("\n");
}

function header(shell: Shell, install: string[]): string {
  return [
    `# ${shell} completion for jdo — generated by \`jdo completions ${shell}\` from jdo's own`,
    "# command tree; regenerate it after upgrading jdo.",
    ...install.map((line) => `# ${line}`),
  ].join("\n");
}

export function bashCompletion(program: Command): string {
  const root = completionTree(program);
  return `${
    header("bash", [
      "Try it:   source <(jdo completions bash)",
      "Install:  jdo completions bash > ~/.local/share/bash-completion/completions/jdo",
      "          (or add `source <(jdo completions bash)` to ~/.bashrc)",
    ])
  }

${dataFunctions(root)}

${clampArgFunction(root)}

_jdo_reply() {
  local values="$1" cur="$2"
  if [[ "$values" == "@files" ]]; then
    type compopt >/dev/null 2>&1 && compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$values" -- "$cur"))
  fi
}

_jdo() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  local cmdpath="" word="" value_flag="" npos=0 skip=0 i
  COMPREPLY=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    # bash splits "--out=FILE" into "--out" "=" "FILE".
    if [[ "$word" == "=" ]]; then skip=1; continue; fi
    if ((skip)); then skip=0; continue; fi
    case "$word" in
      --) continue ;;
      --*=*) continue ;;
      -*)
        if _jdo_in "$word" $(_jdo_value_flags "$cmdpath"); then
          skip=1
          value_flag="$word"
        fi
        continue
        ;;
    esac
    if ((npos == 0)) && _jdo_in "$word" $(_jdo_subcommands "$cmdpath"); then
      cmdpath="\${cmdpath:+$cmdpath }$word"
    else
      npos=$((npos + 1))
    fi
  done
  if ((skip)); then
    [[ "$cur" == "=" ]] && cur=""
    _jdo_reply "$(_jdo_flag_values "$cmdpath" "$value_flag")" "$cur"
    return 0
  fi
  if [[ "$cur" == -* ]]; then
    _jdo_reply "$(_jdo_flags "$cmdpath")" "$cur"
    return 0
  fi
  local subcommands
  subcommands="$(_jdo_subcommands "$cmdpath")"
  if ((npos == 0)) && [[ -n "$subcommands" ]]; then
    _jdo_reply "$subcommands" "$cur"
    return 0
  fi
  _jdo_reply "$(_jdo_arg_values "$cmdpath" "$(_jdo_clamp_arg "$cmdpath" "$npos")")" "$cur"
  return 0
}

complete -F _jdo jdo`;
}

// -------------------------------------------------------------------- zsh

function zshDescribed(items: { name: string; description: string }[]): string {
  return items.map((i) => sq(`${assertPlain(i.name)}:${i.description}`)).join(" ");
}

export function zshCompletion(program: Command): string {
  const root = completionTree(program);
  const all = nodes(root);
  const commandDescriptions = all.filter((n) => n.subcommands.length > 0).map((n) =>
    `    ${sq(key(n))}) described=(${
      zshDescribed(n.subcommands.map((c) => ({
        name: c.path[c.path.length - 1],
        description: c.description,
      })))
    }) ;;`
  ).join("\n");
  const flagDescriptions = all.map((n) =>
    `    ${sq(key(n))}) described=(${
      zshDescribed(n.flags.map((f) => ({ name: f.long, description: f.description })))
    }) ;;`
  ).join("\n");
  return `#compdef jdo
${
    header("zsh", [
      "Try it:   source <(jdo completions zsh)     (after compinit)",
      "Install:  jdo completions zsh > ~/.zfunc/_jdo",
      "          with fpath=(~/.zfunc $fpath) before compinit in ~/.zshrc",
    ])
  }

${dataFunctions(root)}

${clampArgFunction(root)}

_jdo_command_descriptions() {
  case "$1" in
${commandDescriptions}
  esac
}

_jdo_flag_descriptions() {
  case "$1" in
${flagDescriptions}
  esac
}

_jdo_values() {
  local values="$1"
  if [[ "$values" == "@files" ]]; then
    _files
  elif [[ -n "$values" ]]; then
    compadd -- \${=values}
  fi
}

_jdo() {
  local cur="\${words[CURRENT]}" cmdpath="" word="" value_flag="" npos=0 skip=0 i
  local -a described
  for ((i = 2; i < CURRENT; i++)); do
    word="\${words[i]}"
    if ((skip)); then skip=0; continue; fi
    case "$word" in
      --) continue ;;
      --*=*) continue ;;
      -*)
        if _jdo_in "$word" \${=$(_jdo_value_flags "$cmdpath")}; then
          skip=1
          value_flag="$word"
        fi
        continue
        ;;
    esac
    if ((npos == 0)) && _jdo_in "$word" \${=$(_jdo_subcommands "$cmdpath")}; then
      cmdpath="\${cmdpath:+$cmdpath }$word"
    else
      npos=$((npos + 1))
    fi
  done
  if ((skip)); then
    _jdo_values "$(_jdo_flag_values "$cmdpath" "$value_flag")"
    return
  fi
  if [[ "$cur" == --*=* ]]; then
    value_flag="\${cur%%=*}"
    compset -P '*='
    _jdo_values "$(_jdo_flag_values "$cmdpath" "$value_flag")"
    return
  fi
  if [[ "$cur" == -* ]]; then
    _jdo_flag_descriptions "$cmdpath"
    _describe -t options 'jdo option' described
    return
  fi
  if ((npos == 0)) && [[ -n "$(_jdo_subcommands "$cmdpath")" ]]; then
    _jdo_command_descriptions "$cmdpath"
    _describe -t commands 'jdo command' described
    return
  fi
  _jdo_values "$(_jdo_arg_values "$cmdpath" "$(_jdo_clamp_arg "$cmdpath" "$npos")")"
}

if [[ "\${funcstack[1]}" == "_jdo" ]]; then
  _jdo "$@"
else
  compdef _jdo jdo
fi`;
}

// ------------------------------------------------------------------- fish

/** Single-quoted for fish (only \\ and ' are special inside). */
function fq(text: string): string {
  return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

function fishSwitch(name: string, comment: string, entries: [string, string[]][]): string {
  const cases = entries.filter(([, values]) => values.length > 0)
    .map(([pattern, values]) =>
      `        case ${fq(pattern)}\n            printf '%s\\n' ${values.map(assertPlain).join(" ")}`
    ).join("\n");
  return `# ${comment}
function ${name}
    switch "$argv[1]"
${cases}
    end
end`;
}

export function fishCompletion(program: Command): string {
  const root = completionTree(program);
  const all = nodes(root);
  // Paths are prefixed with "jdo" so that the root is never an empty string.
  const fishKey = (n: CompletionNode) => ["jdo", ...n.path.map(assertPlain)].join(" ");
  const lines: string[] = [];
  for (const node of all) {
    const at = `-n ${fq(`__jdo_at ${fq(fishKey(node))}`)}`;
    for (const sub of node.subcommands) {
      const name = sub.path[sub.path.length - 1];
      lines.push(`complete -c jdo ${at} -a ${fq(name)} -d ${fq(sub.description)}`);
    }
    for (const flag of node.flags) {
      let line = `complete -c jdo ${at} -l ${fq(flag.long.replace(/^--/, ""))} -d ${
        fq(flag.description)
      }`;
      if (flag.values.kind === "files") line += " -r -F";
      else if (flag.takesValue) line += " -x"; // a value, but not a file name
      if (flag.values.kind === "words") line += ` -a ${fq(flag.values.words.join(" "))}`;
      lines.push(line);
    }
    node.args.forEach((spec, i) => {
      if (spec.kind === "none" || node.subcommands.length > 0) return;
      const last = node.variadic && i === node.args.length - 1;
      const cond = `-n ${fq(`__jdo_at ${fq(fishKey(node))} ${i}${last ? "+" : ""}`)}`;
      lines.push(
        spec.kind === "files"
          ? `complete -c jdo ${cond} -F`
          : `complete -c jdo ${cond} -a ${fq(spec.words.join(" "))}`,
      );
    });
  }
  return `${
    header("fish", [
      "Try it:   jdo completions fish | source",
      "Install:  jdo completions fish > ~/.config/fish/completions/jdo.fish",
    ])
  }

${
    fishSwitch(
      "__jdo_subcommands",
      "Subcommands of a command path.",
      all.map((n) => [fishKey(n), n.subcommandNames]),
    )
  }

${
    fishSwitch(
      "__jdo_value_flags",
      "The flags of a command path that take a value.",
      all.map((n) => [fishKey(n), n.flags.filter((f) => f.takesValue).map((f) => f.long)]),
    )
  }

# The command path typed so far (e.g. "jdo sync"), then how many positional
# arguments follow it.
function __jdo_state
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l cmdpath jdo
    set -l skip 0
    set -l positional 0
    for token in $tokens
        if test $skip = 1
            set skip 0
            continue
        end
        switch $token
            case '--'
                continue
            case '--*=*'
                continue
            case '-*'
                if contains -- $token (__jdo_value_flags "$cmdpath")
                    set skip 1
                end
                continue
        end
        if test $positional = 0; and contains -- $token (__jdo_subcommands "$cmdpath")
            set cmdpath "$cmdpath $token"
        else
            set positional (math $positional + 1)
        end
    end
    printf '%s\n' $cmdpath $positional
end

# __jdo_at PATH [N|N+]: the command path is PATH (and N, or at least N,
# positional arguments were typed).
function __jdo_at
    set -l state (__jdo_state)
    test "$state[1]" = "$argv[1]"; or return 1
    set -q argv[2]; or return 0
    set -l n (string replace '+' '' -- $argv[2])
    if string match -q -- '*+' $argv[2]
        test $state[2] -ge $n
    else
        test $state[2] -eq $n
    end
end

complete -c jdo -f
${lines.join("\n")}`;
}

// ---------------------------------------------------------------- command

const GENERATORS: Record<Shell, (program: Command) => string> = {
  bash: bashCompletion,
  zsh: zshCompletion,
  fish: fishCompletion,
};

const INSTALL_HELP = `
Load in the current shell:
  bash:  source <(jdo completions bash)
  zsh:   source <(jdo completions zsh)        (after compinit)
  fish:  jdo completions fish | source

Install for good:
  bash:  jdo completions bash > ~/.local/share/bash-completion/completions/jdo
         (or add 'source <(jdo completions bash)' to ~/.bashrc)
  zsh:   jdo completions zsh > ~/.zfunc/_jdo
         and in ~/.zshrc, before compinit: fpath=(~/.zfunc $fpath)
  fish:  jdo completions fish > ~/.config/fish/completions/jdo.fish`;

export function registerCompletionsCommand(program: Command, ctx: AppContext): void {
  program.command("completions")
    .description("Print a shell completion script (bash, zsh or fish)")
    .addArgument(new Argument("<shell>", "bash, zsh or fish").choices(SHELLS))
    .addHelpText("after", INSTALL_HELP)
    .action((shell: Shell) => {
      ctx.io.out(GENERATORS[shell](program).trimEnd());
    });
}
