/**
 * Output streams, terminal facts and colour policy, injected so tests can
 * capture what a command prints on stdout and stderr.
 */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Write without a newline to stderr (progress bars). */
  errRaw(text: string): void;
  readonly stdoutIsTty: boolean;
  readonly stderrIsTty: boolean;
  readonly stdinIsTty: boolean;
  readonly color: boolean;
  /**
   * The width output should fit in: the terminal's on a TTY, else $COLUMNS
   * when set; undefined (no limit) for a pipe without COLUMNS.
   */
  columns(): number | undefined;
  /** Reads all of stdin as text (used by --token-stdin and `import -`). */
  readStdin(): Promise<string>;
  /** Strings that must never be printed (tokens); replaced by "***". */
  readonly secrets: Set<string>;
}

export function redact(text: string, secrets: Iterable<string>): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length >= 4) result = result.split(secret).join("***");
  }
  return result;
}

const encoder = new TextEncoder();

/**
 * Thrown when the reader of stdout went away (`jdo list | head -1`): the
 * command stops and jdo exits 0 without a message, as gh does.
 */
export class OutputClosed extends Error {
  constructor(options?: { cause?: unknown }) {
    super("stdout was closed by its reader", options);
    this.name = "OutputClosed";
  }
}

function writeAll(fd: { writeSync(p: Uint8Array): number }, text: string) {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) {
    written += fd.writeSync(bytes.subarray(written));
  }
}

/** Writes to stdout; a closed pipe becomes OutputClosed. */
function writeOut(text: string) {
  try {
    writeAll(Deno.stdout, text);
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) throw new OutputClosed({ cause: error });
    throw error;
  }
}

/** Writes to stderr; nothing can be reported once stderr is closed, so that is ignored. */
function writeErr(text: string) {
  try {
    writeAll(Deno.stderr, text);
  } catch (error) {
    if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
  }
}

export function colorWanted(
  isTty: boolean,
  env: Record<string, string | undefined>,
  noColorFlag: boolean,
): boolean {
  if (noColorFlag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.TERM === "dumb") return false;
  return isTty;
}

/** $COLUMNS as a width, if it is a positive whole number. */
export function columnsFromEnv(env: Record<string, string | undefined>): number | undefined {
  const n = Number(env.COLUMNS);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

export function denoIo(
  env: Record<string, string | undefined>,
  noColorFlag: boolean,
): Io {
  const stdoutIsTty = Deno.stdout.isTerminal();
  const secrets = new Set<string>();
  return {
    out: (text) => writeOut(redact(text, secrets) + "\n"),
    err: (text) => writeErr(redact(text, secrets) + "\n"),
    errRaw: (text) => writeErr(redact(text, secrets)),
    stdoutIsTty,
    stderrIsTty: Deno.stderr.isTerminal(),
    stdinIsTty: Deno.stdin.isTerminal(),
    color: colorWanted(stdoutIsTty, env, noColorFlag),
    columns: () => {
      if (stdoutIsTty) {
        try {
          return Deno.consoleSize().columns || columnsFromEnv(env);
        } catch {
          // not a terminal after all
        }
      }
      return columnsFromEnv(env);
    },
    readStdin: async () => await new Response(Deno.stdin.readable).text(),
    secrets,
  };
}

export interface CapturedIo extends Io {
  stdout(): string;
  stderr(): string;
}

/** An Io for tests: records both streams; stdin is the given text. */
export function captureIo(
  options: { stdin?: string; tty?: boolean; columns?: number } = {},
): CapturedIo {
  const out: string[] = [];
  const err: string[] = [];
  const secrets = new Set<string>();
  const tty = options.tty ?? false;
  return {
    out: (text) => out.push(redact(text, secrets) + "\n"),
    err: (text) => err.push(redact(text, secrets) + "\n"),
    errRaw: (text) => err.push(redact(text, secrets)),
    stdoutIsTty: tty,
    stderrIsTty: tty,
    stdinIsTty: tty,
    color: false,
    columns: () => options.columns,
    readStdin: () => Promise.resolve(options.stdin ?? ""),
    secrets,
    stdout: () => out.join(""),
    stderr: () => err.join(""),
  };
}
