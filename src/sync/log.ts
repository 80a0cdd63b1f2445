import { dirname } from "node:path";
import { ensurePrivateDir } from "../config/paths.ts";
import { redact } from "../app/io.ts";

const MAX_BYTES = 1024 * 1024;

/**
 * Appends lines to logs/jdo.log, rotating to jdo.log.1 past 1 MiB. Secrets
 * are redacted; logging never fails a command.
 */
export async function appendLog(
  path: string,
  level: "INFO" | "WARN" | "ERROR",
  lines: string[],
  secrets: Iterable<string>,
  now: Date = new Date(),
): Promise<void> {
  if (lines.length === 0) return;
  try {
    await ensurePrivateDir(dirname(path));
    const size = await Deno.stat(path).then((s) => s.size, () => 0);
    if (size > MAX_BYTES) await Deno.rename(path, `${path}.1`);
    const text = lines.map((l) => `${now.toISOString()} ${level} ${redact(l, secrets)}\n`).join("");
    await Deno.writeTextFile(path, text, { append: true, mode: 0o600 });
  } catch {
    // A log that cannot be written must not break sync or a command.
  }
}
