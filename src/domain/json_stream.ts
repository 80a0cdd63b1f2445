/**
 * Reads a large JSON document a piece at a time: the top level (an object
 * or an array) and the arrays directly under a top-level object are walked
 * by this scanner; each of their elements, and every other top-level value,
 * is handed to JSON.parse on its own. So an import of a million rows never
 * holds more than one element's text and one chunk of input.
 */

export type JsonEvent =
  /** An element of the top-level array (key null) or of an array under a top-level key. */
  | { kind: "item"; key: string | null; index: number; value: unknown }
  /** A top-level key whose value is not an array. */
  | { kind: "field"; key: string; value: unknown };

export class JsonStreamError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at position ${offset}`);
    this.name = "JsonStreamError";
  }
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const DELIMITERS = new Set([0x2c, 0x5d, 0x7d, 0x20, 0x09, 0x0a, 0x0d]); // , ] } ws

class Reader {
  buf = "";
  pos = 0;
  /** Characters dropped from the front of buf. */
  dropped = 0;
  done = false;

  constructor(private readonly chunks: AsyncIterator<string>) {}

  get offset(): number {
    return this.dropped + this.pos;
  }

  async more(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.chunks.next();
    if (next.done) {
      this.done = true;
      return false;
    }
    if (this.pos > 1 << 20) {
      this.buf = this.buf.slice(this.pos);
      this.dropped += this.pos;
      this.pos = 0;
    }
    this.buf += next.value;
    return true;
  }

  /** The next non-space character code (not consumed), or -1 at the end. */
  async peek(): Promise<number> {
    for (;;) {
      while (this.pos < this.buf.length && WS.has(this.buf.charCodeAt(this.pos))) this.pos++;
      if (this.pos < this.buf.length) return this.buf.charCodeAt(this.pos);
      if (!await this.more()) return -1;
    }
  }

  async expect(char: string): Promise<void> {
    const c = await this.peek();
    if (c !== char.charCodeAt(0)) {
      throw new JsonStreamError(
        c === -1 ? `Unexpected end of JSON, expected "${char}"` : `Expected "${char}"`,
        this.offset,
      );
    }
    this.pos++;
  }

  /** Reads one complete JSON value starting at the next non-space character. */
  async value(): Promise<unknown> {
    if (await this.peek() === -1) throw new JsonStreamError("Unexpected end of JSON", this.offset);
    for (;;) {
      const start = this.pos;
      const final = this.done;
      const end = valueEnd(this.buf, start, final);
      if (end >= 0) {
        this.pos = end;
        try {
          return JSON.parse(this.buf.slice(start, end));
        } catch (error) {
          throw new JsonStreamError((error as Error).message, this.dropped + start);
        }
      }
      // Incomplete: read on (more() keeps the buffer from this.pos = start).
      if (!await this.more() && final) {
        throw new JsonStreamError("Unexpected end of JSON", this.offset);
      }
    }
  }
}

/**
 * Where the JSON value starting at `start` ends, or -1 when the buffer ends
 * first (and more input may follow). Validity is left to JSON.parse.
 */
function valueEnd(buf: string, start: number, final: boolean): number {
  const first = buf.charCodeAt(start);
  if (first === 0x7b || first === 0x5b) { // { [
    let depth = 0;
    for (let i = start; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (c === 0x22) { // "
        i = stringEnd(buf, i);
        if (i < 0) return -1;
      } else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (--depth === 0) return i + 1;
      }
    }
    return -1;
  }
  if (first === 0x22) {
    const end = stringEnd(buf, start);
    return end < 0 ? -1 : end + 1;
  }
  for (let i = start; i < buf.length; i++) {
    if (DELIMITERS.has(buf.charCodeAt(i))) return i;
  }
  return final ? buf.length : -1;
}

/** The index of the quote closing the string opened at `open`, or -1. */
function stringEnd(buf: string, open: number): number {
  let i = open + 1;
  for (;;) {
    const quote = buf.indexOf('"', i);
    if (quote < 0) return -1;
    let backslashes = 0;
    for (let j = quote - 1; j > open && buf.charCodeAt(j) === 0x5c; j--) backslashes++;
    if (backslashes % 2 === 0) return quote;
    i = quote + 1;
  }
}

async function* arrayItems(r: Reader, key: string | null): AsyncGenerator<JsonEvent> {
  await r.expect("[");
  if (await r.peek() === 0x5d) {
    r.pos++;
    return;
  }
  for (let index = 0;; index++) {
    yield { kind: "item", key, index, value: await r.value() };
    const c = await r.peek();
    if (c === 0x2c) r.pos++;
    else if (c === 0x5d) {
      r.pos++;
      return;
    } else throw new JsonStreamError('Expected "," or "]"', r.offset);
  }
}

/** The events of a document whose top level is an object or an array. */
export async function* scanJson(chunks: AsyncIterable<string>): AsyncGenerator<JsonEvent> {
  const r = new Reader(chunks[Symbol.asyncIterator]());
  const first = await r.peek();
  if (first === 0x5b) {
    yield* arrayItems(r, null);
  } else if (first === 0x7b) {
    r.pos++;
    if (await r.peek() === 0x7d) r.pos++;
    else {
      for (;;) {
        if (await r.peek() !== 0x22) throw new JsonStreamError("Expected a key", r.offset);
        const key = String(await r.value());
        await r.expect(":");
        if (await r.peek() === 0x5b) yield* arrayItems(r, key);
        else yield { kind: "field", key, value: await r.value() };
        const c = await r.peek();
        if (c === 0x2c) r.pos++;
        else if (c === 0x7d) {
          r.pos++;
          break;
        } else throw new JsonStreamError('Expected "," or "}"', r.offset);
      }
    }
  } else if (first === -1) {
    throw new JsonStreamError("Unexpected end of JSON", r.offset);
  } else {
    yield { kind: "field", key: "", value: await r.value() };
  }
  if (await r.peek() !== -1) throw new JsonStreamError("Unexpected data after JSON", r.offset);
}

/** A string as a one-chunk stream (stdin, tests). */
export async function* oneChunk(text: string): AsyncGenerator<string> {
  yield text;
}
