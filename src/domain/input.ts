/** What every domain action takes in: the store and "now", and text checked the same way. */
import type { Store } from "../db/store.ts";
import { JdoError } from "../errors.ts";
import type { DateContext } from "./dates.ts";

const MAX_TEXT = 20_000;

/** What the domain needs from the outside world: the store and "now". */
export interface Domain {
  store: Store;
  dates(): DateContext;
}

export function requireText(value: string | undefined, what: string): string {
  const text = (value ?? "").trim();
  if (text === "") {
    throw new JdoError("INVALID_INPUT", `The ${what} cannot be empty`);
  }
  if (text.length > MAX_TEXT) {
    throw new JdoError(
      "INVALID_INPUT",
      `The ${what} is too long (${text.length} characters; at most ${MAX_TEXT})`,
    );
  }
  return text;
}

export function optionalText(value: string | undefined, what: string): string | null {
  if (value === undefined) return null;
  const text = value.trim();
  return text === "" ? null : requireText(text, what);
}
