/**
 * `a.localeCompare(b)` without ICU where the answer is known: the first
 * localeCompare of a process loads the collator (20–30 ms, issue 20), and
 * commitments due at the same instant are ordered by created_at and id. For
 * two strings of one shape — same length, the same punctuation at the same
 * places, otherwise lowercase ASCII letters and digits (timestamps, UUIDs) —
 * the first differing character decides, and an English collator orders
 * digits and lowercase letters as their code points do (other languages may
 * not: Danish sorts "aa" after "z"). Anything else is the collator's.
 * src/domain/collate_test.ts holds it to localeCompare.
 */
export function collate(a: string, b: string): number {
  if (a === b) return 0;
  if (!collatesShapesByCodePoint() || a.length !== b.length) return a.localeCompare(b);
  for (let i = 0; i < a.length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) {
      if (!plain(x) && !punctuation(x)) return a.localeCompare(b);
      continue;
    }
    if (!plain(x) || !plain(y)) return a.localeCompare(b);
    // The rest must be of the same shape too for the first difference to decide.
    for (let j = i + 1; j < a.length; j++) {
      const p = a.charCodeAt(j);
      const q = b.charCodeAt(j);
      if (plain(p) && plain(q)) continue;
      if (p !== q || !punctuation(p)) return a.localeCompare(b);
    }
    return x < y ? -1 : 1;
  }
  return 0;
}

/** Whether the process's collator is English (cheap to ask: no collator is made). */
let english: boolean | undefined;

/**
 * Whether collate() orders any two strings of one shape (see above) as
 * their code points do, as SQLite's BINARY collation does.
 */
export function collatesShapesByCodePoint(): boolean {
  english ??= /^en(-|$)/.test(navigator.language);
  return english;
}

/** 0-9, a-z. */
function plain(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 122);
}

/** The punctuation of timestamps and ids: - : . T Z + and space are all jdo writes. */
function punctuation(c: number): boolean {
  return c === 45 || c === 58 || c === 46 || c === 84 || c === 90 || c === 43 || c === 32;
}
