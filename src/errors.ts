/**
 * Every failure jdo reports carries a stable code; the exit code and the hint
 * shown to the user are derived from that code here and nowhere else.
 */
export type ErrorCode =
  | "USAGE"
  | "NOT_FOUND"
  | "AMBIGUOUS_ID"
  | "INVALID_INPUT"
  | "INVALID_DATE"
  | "CONFIG_INVALID"
  | "AUTH_STORE_INVALID"
  | "DB_TOO_NEW"
  | "DB_ERROR"
  | "IO_ERROR"
  | "CANCELLED"
  | "SYNC_DISABLED"
  | "SYNC_UNREACHABLE"
  | "SYNC_AUTH"
  | "SYNC_READ_ONLY"
  | "SYNC_NOT_LIBSQL"
  | "SYNC_WRONG_CLOUD"
  | "SYNC_SCHEMA_MISMATCH"
  | "SYNC_BUSY"
  | "SYNC_FAILED"
  | "SYNC_KEY_MISSING"
  | "SYNC_KEY_WRONG"
  | "INTERNAL";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_SYNC = 3;

const EXIT_CODES: Partial<Record<ErrorCode, number>> = {
  USAGE: EXIT_USAGE,
  INVALID_DATE: EXIT_USAGE,
  SYNC_UNREACHABLE: EXIT_SYNC,
  SYNC_AUTH: EXIT_SYNC,
  SYNC_READ_ONLY: EXIT_SYNC,
  SYNC_NOT_LIBSQL: EXIT_SYNC,
  SYNC_WRONG_CLOUD: EXIT_SYNC,
  SYNC_KEY_MISSING: EXIT_SYNC,
  SYNC_KEY_WRONG: EXIT_SYNC,
};

const HINTS: Partial<Record<ErrorCode, string>> = {
  SYNC_AUTH: "Try: jdo sync setup to store a new token",
  SYNC_READ_ONLY: "Create a token that can write: turso db tokens create <db>",
  SYNC_SCHEMA_MISMATCH: "Upgrade jdo on this device to sync with this database.",
  DB_TOO_NEW: "Upgrade jdo to open this database.",
  SYNC_DISABLED: "Try: jdo sync setup",
  SYNC_WRONG_CLOUD: "To sync with that database instead, run: jdo sync setup --url URL",
  SYNC_KEY_MISSING:
    "Add the recovery phrase: jdo sync key import --key-file PATH (or set JDO_SYNC_KEY)",
  SYNC_KEY_WRONG:
    "Use the recovery phrase shown when encryption was set up: jdo sync key import --key-file PATH",
};

export class JdoError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { hint?: string; cause?: unknown },
  ) {
    super(message, { cause: options?.cause });
    this.name = "JdoError";
    this.code = code;
    this.hint = options?.hint ?? HINTS[code];
  }
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof JdoError) return EXIT_CODES[error.code] ?? EXIT_FAILURE;
  return EXIT_FAILURE;
}

export function usageError(message: string): JdoError {
  return new JdoError("USAGE", message);
}

export function notFound(message: string): JdoError {
  return new JdoError("NOT_FOUND", message);
}

export function invalidInput(message: string): JdoError {
  return new JdoError("INVALID_INPUT", message);
}

/** One line for the user: the message of a known error, a generic sentence otherwise. */
export function describeError(error: unknown): string {
  if (error instanceof JdoError) return error.message;
  if (error instanceof Error) return `Unexpected error: ${firstLine(error.message)}`;
  return `Unexpected error: ${String(error)}`;
}

/**
 * The line shown for a failure: the message and at most one hint in
 * parentheses. Every place that prints an error composes it here.
 */
export function errorLine(error: unknown): string {
  const message = describeError(error);
  const hint = error instanceof JdoError ? error.hint : undefined;
  return message && hint ? `${message} (${hint})` : message;
}

/** The same failure with another hint in place of the code's usual one. */
export function withHint(error: JdoError, hint: string): JdoError {
  return new JdoError(error.code, error.message, { hint, cause: error.cause ?? error });
}

export function firstLine(text: string): string {
  return text.split("\n", 1)[0].trim();
}
