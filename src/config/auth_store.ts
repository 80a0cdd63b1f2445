import { JdoError } from "../errors.ts";
import { readTextIfExists, writeFileAtomic } from "./atomic_file.ts";

/** Credentials keyed by provider; jdo's only provider today is "turso". */
export interface AuthEntry {
  token: string;
  saved_at: string;
}
export type AuthData = Record<string, AuthEntry>;

function invalid(path: string, why: string): JdoError {
  return new JdoError(
    "AUTH_STORE_INVALID",
    `Cannot read ${path}: ${why} (the file was left as it is; fix or remove it)`,
  );
}

export async function loadAuth(path: string): Promise<AuthData> {
  const text = await readTextIfExists(path);
  if (text === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid(path, "it is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw invalid(path, "it is not a JSON object");
  }
  const data: AuthData = {};
  for (const [provider, entry] of Object.entries(parsed)) {
    const token = (entry as Record<string, unknown> | null)?.token;
    if (typeof token !== "string" || token === "") {
      throw invalid(path, `the "${provider}" entry has no token`);
    }
    const savedAt = (entry as Record<string, unknown>).saved_at;
    data[provider] = {
      token,
      saved_at: typeof savedAt === "string" ? savedAt : "",
    };
  }
  return data;
}

async function saveAuth(path: string, data: AuthData): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(data, null, 2) + "\n", 0o600);
}

export async function getToken(
  path: string,
  provider: string,
): Promise<string | undefined> {
  return (await loadAuth(path))[provider]?.token;
}

export async function setToken(
  path: string,
  provider: string,
  token: string,
  now: Date,
): Promise<void> {
  const data = await loadAuth(path);
  data[provider] = { token, saved_at: now.toISOString() };
  await saveAuth(path, data);
}

/** Removes a provider's token; returns whether there was one. */
export async function removeToken(
  path: string,
  provider: string,
): Promise<boolean> {
  // A corrupt store throws here: it cannot be edited safely, so it is reported.
  const data = await loadAuth(path);
  if (!(provider in data)) return false;
  delete data[provider];
  await saveAuth(path, data);
  return true;
}
