import type { DataKey } from "./e2e_key.ts";
import type { KeySource } from "./e2e_keys.ts";
import type { AppContext } from "../app/context.ts";
import type { SecretStoreName } from "../config/secret_store.ts";
import { JdoError } from "../errors.ts";

export { TURSO_PROVIDER } from "../config/secret_store.ts";

/** `sync status --json`'s `token_source`. */
export type TokenSource = "keyring" | "auth_store" | "env" | "none";

const SOURCE_OF_STORE: Record<SecretStoreName, TokenSource> = {
  keyring: "keyring",
  "auth store": "auth_store",
};

export function tokenSourceOf(store: SecretStoreName): TokenSource {
  return SOURCE_OF_STORE[store];
}

export interface SyncConfig {
  enabled: boolean;
  url: string | null;
  urlSource: "settings" | "env" | "none";
  token: string | null;
  tokenSource: TokenSource;
  auto: boolean;
  intervalSeconds: number;
  /** This device's end-to-end key (read by requireEnabled and status; setup holds a new one). */
  key?: DataKey;
  keySource?: KeySource;
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

function isLoopback(hostname: string): boolean {
  return LOOPBACK.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * The URL every client of the cloud uses. The remote client takes ws(s)://
 * but the embedded replica does not ("unsupported scheme ws"); both speak
 * HTTP to the same server, so ws:// becomes http:// and wss:// https://.
 */
export function canonicalUrl(url: string): string {
  return url.replace(/^ws:\/\//i, "http://").replace(/^wss:\/\//i, "https://");
}

/** For a URL typed without its scheme: the one it most likely needs. */
function schemeHint(text: string): string {
  if (text.includes("://") || !text) return "";
  const host = text.split(/[/:]/, 1)[0];
  const scheme = isLoopback(host) || host === "[" ? "http" : "libsql";
  return ` — the URL needs a scheme: did you mean ${scheme}://${text}?`;
}

/**
 * Checks a database URL: libsql://, https:// and wss:// anywhere; http:// and
 * ws:// only on loopback. Credentials in the URL are refused (the token goes
 * through --token-stdin or the prompt, never the URL). Returns the canonical
 * form (ws:// → http://, wss:// → https://): what is checked is what is saved.
 */
export function validateCloudUrl(input: string): string {
  const text = input.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new JdoError("USAGE", `Not a database URL: "${displayUrl(text)}"${schemeHint(text)}`);
  }
  const scheme = url.protocol.replace(/:$/, "");
  // "localhost:8080" parses as the scheme "localhost:".
  if (!text.includes("://") && !["libsql", "https", "wss", "http", "ws"].includes(scheme)) {
    throw new JdoError("USAGE", `Not a database URL: "${displayUrl(text)}"${schemeHint(text)}`);
  }
  if (!["libsql", "https", "wss", "http", "ws"].includes(scheme)) {
    throw new JdoError(
      "USAGE",
      `Unsupported URL scheme "${scheme}://" (use libsql://, https:// or wss://)`,
    );
  }
  if ((scheme === "http" || scheme === "ws") && !isLoopback(url.hostname)) {
    throw new JdoError(
      "USAGE",
      `${scheme}:// is only allowed for a server on this machine (localhost); use libsql:// or https://`,
    );
  }
  if (!url.hostname) throw new JdoError("USAGE", `The URL has no host: "${displayUrl(text)}"`);
  if (url.username || url.password || url.searchParams.has("authToken")) {
    throw new JdoError(
      "USAGE",
      "Put the token in --token-stdin or the prompt, not in the URL",
    );
  }
  url.hash = "";
  return canonicalUrl(url.toString().replace(/\/$/, ""));
}

/** The URL without credentials or query: safe to print and log. */
export function displayUrl(input: string): string {
  try {
    const url = new URL(input);
    return `${url.protocol}//${url.host}${url.pathname === "/" ? "" : url.pathname}`;
  } catch {
    return input.replace(/[?#].*$/, "").replace(/\/\/[^@/]*@/, "//");
  }
}

/** The host part of a URL, for messages. */
export function hostOf(input: string): string {
  try {
    return new URL(input).host;
  } catch {
    return displayUrl(input);
  }
}

/**
 * jdo's own environment variables for the cloud. The generic
 * TURSO_DATABASE_URL / TURSO_AUTH_TOKEN, which many people keep set for other
 * apps, are never read: they would point jdo at another app's database.
 */
export const ENV_URL = "JDO_TURSO_DB_URL";
export const ENV_TOKEN = "JDO_TURSO_AUTH_TOKEN";

export function envCloudUrl(env: AppContext["env"]): string | undefined {
  return env[ENV_URL] || undefined;
}

export function envCloudToken(env: AppContext["env"]): string | undefined {
  return env[ENV_TOKEN] || undefined;
}

/**
 * Settings and credentials resolved once; environment variables win over
 * files. With `token: false` the token stores are not read (commands that
 * only need to know whether sync is on never wait on a keyring).
 */
export async function resolveSyncConfig(
  ctx: AppContext,
  options: { token?: boolean } = {},
): Promise<SyncConfig> {
  const settings = await ctx.settings();
  const env = ctx.env;
  const envUrl = envCloudUrl(env);
  const envToken = envCloudToken(env);
  let token: string | null = null;
  let tokenSource: TokenSource = "none";
  if (envToken) {
    token = envToken;
    tokenSource = "env";
  } else if (settings.turso_enabled && options.token !== false) {
    const found = await ctx.tokens.find();
    if (found) {
      token = found.token;
      tokenSource = tokenSourceOf(found.source);
    }
  }
  if (token) ctx.io.secrets.add(token);
  const rawUrl = envUrl || settings.turso_db_url;
  const autoEnv = env.JDO_SYNC_AUTO;
  const interval = Number(env.JDO_SYNC_INTERVAL);
  return {
    enabled: settings.turso_enabled,
    url: rawUrl ? canonicalUrl(rawUrl) : null,
    urlSource: envUrl ? "env" : settings.turso_db_url ? "settings" : "none",
    token,
    tokenSource,
    auto: autoEnv === undefined || autoEnv === "" ? settings.sync_auto : autoEnv !== "0",
    intervalSeconds: Number.isFinite(interval) && interval >= 5
      ? interval
      : settings.sync_interval_seconds,
  };
}
