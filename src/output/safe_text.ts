/**
 * User text (typed here, imported, or synced from another device) is made
 * safe before it reaches the terminal: control characters could move the
 * cursor, retitle the window, ring the bell or fake jdo's own output. JSON
 * output is not passed through here: it keeps the data exactly.
 */

// C0 controls (but tab and newline), DEL, C1 controls, and the bidi overrides
// that reorder text on screen.
// deno-lint-ignore no-control-regex
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

/** Whether a text holds anything safeText would show another way. */
// deno-lint-ignore no-control-regex
export const UNSAFE_ANY = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;
/** Line breaks and tabs (safeLine makes them spaces). */
const BREAKS = /\r\n|[\t\n\r\v\f]/g;
export const BREAK_ANY = /[\t\n\r\v\f]/;

/** How an unsafe character is shown: caret notation (^[, ^G, ^?) or \uXXXX. */
function visible(ch: string): string {
  const code = ch.charCodeAt(0);
  if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
  if (code === 0x7f) return "^?";
  return `\\u${code.toString(16).padStart(4, "0")}`;
}

/** Text that may span lines (`show`): tabs and newlines stay, every other control is shown. */
export function safeText(text: string): string {
  return UNSAFE_ANY.test(text) ? text.replace(UNSAFE, visible) : text;
}

/** Text on one line (table cells, messages, prompts): line breaks and tabs become spaces. */
export function safeLine(text: string): string {
  return safeText(BREAK_ANY.test(text) ? text.replace(BREAKS, " ") : text);
}
