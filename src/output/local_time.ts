import { wallTimeIn } from "../domain/dates.ts";
import { safeLine } from "./safe_text.ts";

/** An ISO instant on the viewer's clock: "2026-06-15 21:00" (anything else as it is). */
export function localTime(iso: unknown, timeZone: string): string {
  const ms = Date.parse(String(iso));
  if (Number.isNaN(ms)) return safeLine(String(iso));
  const at = wallTimeIn(ms, timeZone);
  return `${at.date} ${at.time}`;
}
