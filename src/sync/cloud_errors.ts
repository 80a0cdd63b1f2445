import { JdoError } from "../errors.ts";

function statusOf(error: unknown): number | undefined {
  const cause = (error as { cause?: { status?: unknown } })?.cause;
  if (typeof cause?.status === "number") return cause.status;
  const match = /HTTP status (\d{3})/.exec(String((error as Error)?.message ?? error));
  return match ? Number(match[1]) : undefined;
}

function detail(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    parts.push(String((current as Error).message ?? current));
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join(" | ");
}

/** What fetch or the client says when an open connection stops mid-request. */
const CONNECTION_CUT =
  /connection (closed|reset)|broken pipe|EOF|fetch failed|error sending request|error reading a body/i;

/**
 * Whether a request failed because its connection was cut (not refused, not
 * timed out, not answered with an error): a connection kept alive from an
 * earlier request may have died while idle, and a new one may work.
 */
export function connectionCut(error: unknown): boolean {
  if (error instanceof JdoError || statusOf(error) !== undefined) return false;
  if (error instanceof DOMException) return false; // a timeout or an abort
  const text = detail(error);
  return CONNECTION_CUT.test(text) && !/Connection refused|timed out|certificate|tls/i.test(text);
}

/**
 * Turns whatever @libsql/client, fetch or the native replica threw into a
 * JdoError with a stable code and a sentence that says what is wrong.
 */
export function classifyCloudError(error: unknown, host: string, action: string): JdoError {
  if (error instanceof JdoError) return error;
  const status = statusOf(error);
  const text = detail(error);
  if (/jdo: encryption was turned off/.test(text)) {
    return new JdoError(
      "SYNC_FAILED",
      `End-to-end encryption was turned off for ${host} meanwhile; the next sync sends the rows in the clear`,
      { cause: error },
    );
  }
  if (/jdo: rows sealed under another key/.test(text)) {
    // The key was rotated between this device's check of the record and its push.
    return new JdoError(
      "SYNC_KEY_WRONG",
      `The key of the cloud database at ${host} was changed meanwhile; this device's key no longer opens it and nothing was pushed`,
      { cause: error },
    );
  }
  if (/jdo: end-to-end encrypted/.test(text)) {
    // The cloud's triggers refused plain rows: another device turned encryption on.
    return new JdoError(
      "SYNC_KEY_MISSING",
      `The cloud database at ${host} is end-to-end encrypted and this device has no key for it; nothing was pushed`,
      { cause: error },
    );
  }
  if (status === 401 || /Unauthorized|JWT|PrimaryHandshakeTimeout|authenticat/i.test(text)) {
    return new JdoError(
      "SYNC_AUTH",
      `The cloud database at ${host} rejected the token: it is invalid or expired`,
      { cause: error },
    );
  }
  if (status === 403) {
    return new JdoError(
      "SYNC_READ_ONLY",
      `The token for ${host} is read-only; jdo needs a token that can write`,
      { cause: error },
    );
  }
  if (
    error instanceof DOMException && (error.name === "TimeoutError" || error.name === "AbortError")
  ) {
    return new JdoError("SYNC_UNREACHABLE", `Cannot reach ${host}: no answer in time`, {
      cause: error,
    });
  }
  const network: [RegExp, string, string?][] = [
    [/Connection refused/i, `connection refused: nothing is listening at ${host}`],
    [/dns error|failed to lookup|Name or service not known/i, "unknown host"],
    [/timed out|TimeoutError|deadline/i, "no answer in time"],
    [
      /UnknownIssuer|self[- ]signed certificate|unable to get local issuer certificate/i,
      "its TLS certificate is not trusted by this machine",
      "for a private CA, set DENO_CERT and SSL_CERT_FILE to its PEM file",
    ],
    [/certificate|tls|ssl/i, "TLS/certificate error"],
    [CONNECTION_CUT, "the connection was cut"],
  ];
  for (const [re, why, hint] of network) {
    if (re.test(text)) {
      return new JdoError("SYNC_UNREACHABLE", `Cannot reach ${host}: ${why}`, {
        cause: error,
        hint,
      });
    }
  }
  if (status !== undefined || error instanceof SyntaxError || /Unexpected token|JSON/i.test(text)) {
    return new JdoError(
      "SYNC_NOT_LIBSQL",
      `The server at ${host} does not answer like a libSQL database${
        status ? ` (HTTP ${status})` : ""
      }; check the URL`,
      { cause: error },
    );
  }
  return new JdoError("SYNC_FAILED", `Cannot ${action} at ${host}: ${text.split("\n")[0]}`, {
    cause: error,
  });
}
