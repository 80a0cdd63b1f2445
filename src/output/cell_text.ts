import { SPACES_TO_JOIN, truncate } from "../domain/ids.ts";
import { BREAK_ANY, safeLine, UNSAFE_ANY } from "./safe_text.ts";

/**
 * What safeLine or truncate would change besides the length (a control,
 * bidi-override or line-break character, a run of white space, or white space
 * other than a plain space): their own three tests, as one.
 */
const NOT_PLAIN = new RegExp(
  [UNSAFE_ANY, BREAK_ANY, SPACES_TO_JOIN].map((r) => r.source).join("|"),
);

/**
 * User text as one table cell or line of at most `max` characters:
 * truncate(safeLine(text), max), with one test instead of three for text
 * that has nothing to make safe or join (nearly all of it; a list makes
 * thousands of cells).
 */
export function cellText(text: string, max: number): string {
  if (NOT_PLAIN.test(text)) return truncate(safeLine(text), max);
  return text.length <= max ? text : text.slice(0, max - 1) + "…";
}
