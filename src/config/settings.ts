import { JdoError } from "../errors.ts";
import { readTextIfExists, writeFileAtomic } from "./atomic_file.ts";

export interface Settings {
  turso_enabled: boolean;
  turso_db_url: string | null;
  device_id: string | null;
  /** Automatic background sync after writes (JDO_SYNC_AUTO overrides). */
  sync_auto: boolean;
  /** REPL background sync interval in seconds (JDO_SYNC_INTERVAL overrides). */
  sync_interval_seconds: number;
}

export const DEFAULT_SETTINGS: Settings = {
  turso_enabled: false,
  turso_db_url: null,
  device_id: null,
  sync_auto: true,
  sync_interval_seconds: 60,
};

function invalid(path: string, why: string): JdoError {
  return new JdoError(
    "CONFIG_INVALID",
    `Cannot read ${path}: ${why} (the file was left as it is; fix or remove it)`,
  );
}

export async function loadSettings(path: string): Promise<Settings> {
  const text = await readTextIfExists(path);
  if (text === undefined) return { ...DEFAULT_SETTINGS };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid(path, "it is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw invalid(path, "it is not a JSON object");
  }
  const raw = parsed as Record<string, unknown>;
  const settings = { ...DEFAULT_SETTINGS };
  if (raw.turso_enabled !== undefined) {
    if (typeof raw.turso_enabled !== "boolean") {
      throw invalid(path, "turso_enabled must be true or false");
    }
    settings.turso_enabled = raw.turso_enabled;
  }
  for (const key of ["turso_db_url", "device_id"] as const) {
    const value = raw[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== "string") throw invalid(path, `${key} must be a string`);
    settings[key] = value;
  }
  if (raw.sync_auto !== undefined) {
    if (typeof raw.sync_auto !== "boolean") {
      throw invalid(path, "sync_auto must be true or false");
    }
    settings.sync_auto = raw.sync_auto;
  }
  if (raw.sync_interval_seconds !== undefined) {
    const n = raw.sync_interval_seconds;
    if (typeof n !== "number" || !Number.isFinite(n) || n < 5) {
      throw invalid(path, "sync_interval_seconds must be a number ≥ 5");
    }
    settings.sync_interval_seconds = n;
  }
  return settings;
}

export async function saveSettings(
  path: string,
  settings: Settings,
): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(settings, null, 2) + "\n", 0o600);
}
