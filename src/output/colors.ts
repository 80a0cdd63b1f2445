/** ANSI styles that collapse to plain text when colour is off. */
export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

const wrap = (open: number, close: number) => (text: string) =>
  `\x1b[${open}m${text}\x1b[${close}m`;

const COLOR: Style = {
  bold: wrap(1, 22),
  dim: wrap(2, 22),
  red: wrap(31, 39),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
  cyan: wrap(36, 39),
};

const identity = (text: string) => text;
const PLAIN: Style = {
  bold: identity,
  dim: identity,
  red: identity,
  green: identity,
  yellow: identity,
  cyan: identity,
};

export function style(color: boolean): Style {
  return color ? COLOR : PLAIN;
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
// What makes a text's printed width differ from its length: a colour code,
// a wide character (isWide's ranges in the BMP), or half of a surrogate pair
// (a code point beyond the BMP is two UTF-16 units). "…", accents, arrows and
// the like are one column, as long as they are one unit.
const NOT_NARROW =
  // deno-lint-ignore no-control-regex
  /[\x1b\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\ud800-\udfff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/;

/** Whether `text` has no colour code and nothing wider than a column: its width is its length. */
export function isNarrow(text: string): boolean {
  return !NOT_NARROW.test(text);
}

/** Printed width of a string, ignoring colour codes. */
export function visibleWidth(text: string): number {
  // Most cells: no colour code, no wide character, no surrogate pair, so
  // one column per UTF-16 unit.
  if (isNarrow(text)) return text.length;
  let width = 0;
  for (const ch of text.replace(ANSI, "")) {
    const code = ch.codePointAt(0)!;
    width += isWide(code) ? 2 : 1;
  }
  return width;
}

function isWide(code: number): boolean {
  return (code >= 0x1100 && code <= 0x115f) || (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) || (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) || (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) || (code >= 0x1f300 && code <= 0x1faff) ||
    (code >= 0x20000 && code <= 0x3fffd);
}

// deno-lint-ignore no-control-regex
const ANSI_AT_START = /^\x1b\[[0-9;]*m/;

/**
 * Cuts text to at most `max` printed columns, ending with "…" when cut.
 * Colour codes are kept (and reset after a cut) and never counted.
 */
export function truncateWidth(text: string, max: number): string {
  if (visibleWidth(text) <= max) return text;
  if (max <= 0) return "";
  let out = "";
  let width = 0;
  let colored = false;
  let rest = text;
  while (rest.length > 0) {
    const code = rest.match(ANSI_AT_START)?.[0];
    if (code) {
      out += code;
      colored = true;
      rest = rest.slice(code.length);
      continue;
    }
    const ch = String.fromCodePoint(rest.codePointAt(0)!);
    const w = isWide(ch.codePointAt(0)!) ? 2 : 1;
    if (width + w > max - 1) break;
    out += ch;
    width += w;
    rest = rest.slice(ch.length);
  }
  return out + "…" + (colored ? "\x1b[0m" : "");
}
