/**
 * Splits a REPL line into words the way a POSIX shell would, without any
 * expansion: whitespace separates words, 'single quotes' keep everything
 * literally, "double quotes" keep everything except that a backslash escapes
 * `"` and `\`, and outside quotes a backslash escapes any one character.
 * Quotes may join with plain text (`--to="Ann Lee"` is one word) and `""`
 * is an empty word.
 */
export class TokenizeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TokenizeError";
  }
}

const SPACE = /\s/;

export function tokenize(line: string): string[] {
  const words: string[] = [];
  let word = "";
  // True once the current word has started, even if it is still empty ("").
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const ch = line[i];
    if (SPACE.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new TokenizeError("Unterminated ' quote");
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (ch === '"') {
      i++;
      let closed = false;
      while (i < line.length) {
        const c = line[i];
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        if (c === "\\" && (line[i + 1] === '"' || line[i + 1] === "\\")) {
          word += line[i + 1];
          i += 2;
        } else {
          word += c;
          i++;
        }
      }
      if (!closed) throw new TokenizeError('Unterminated " quote');
      inWord = true;
    } else if (ch === "\\") {
      if (i + 1 >= line.length) throw new TokenizeError("Nothing to escape after \\");
      word += line[i + 1];
      inWord = true;
      i += 2;
    } else {
      word += ch;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}
