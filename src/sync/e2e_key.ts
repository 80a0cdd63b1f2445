/**
 * The data key of an end-to-end encrypted cloud: 32 random bytes, shown to
 * the user once as a 24-word BIP39 recovery phrase (the wordlist's checksum
 * catches a misspelt or missing word), with sub-keys derived by HKDF-SHA256
 * so the row cipher, the check record and the public key id never share key
 * material.
 */
import { hkdfSync, randomBytes } from "node:crypto";
import { entropyToMnemonic, mnemonicToEntropy, validateMnemonic } from "@scure/bip39";
import { wordlist } from "@scure/bip39/wordlists/english.js";
import { JdoError } from "../errors.ts";

export const KEY_BYTES = 32;

/** A data key and what is derived from it. */
export interface DataKey {
  /** Sub-key of every row, conflict record and device name. */
  readonly rows: Uint8Array;
  /** Sub-key of the check record only. */
  readonly check: Uint8Array;
  /** 16 hex digits that name the key in clear (the cloud's check record, `sync status`). */
  readonly id: string;
  /** The 24-word recovery phrase (the key itself, in words). */
  readonly phrase: string;
}

function derive(master: Uint8Array, info: string, length: number): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", master, new Uint8Array(0), info, length));
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The key whose raw bytes are `master`. */
export function dataKeyOf(master: Uint8Array): DataKey {
  if (master.length !== KEY_BYTES) throw new Error(`A data key has ${KEY_BYTES} bytes`);
  return {
    rows: derive(master, "jdo e2e rows v1", 32),
    check: derive(master, "jdo e2e check v1", 32),
    id: hex(derive(master, "jdo e2e key id v1", 8)),
    phrase: entropyToMnemonic(master, wordlist),
  };
}

/** A new random key (only ever for a cloud that has none). */
export function newDataKey(): DataKey {
  return dataKeyOf(new Uint8Array(randomBytes(KEY_BYTES)));
}

/** Words as a person may type them: any case, any spacing, one per line. */
function normalizePhrase(text: string): string {
  return text.trim().toLowerCase().split(/\s+/).filter(Boolean).join(" ");
}

/**
 * The key a recovery phrase spells. A phrase that is not 24 known words with
 * a valid checksum is refused (SYNC_KEY_WRONG) with the reason.
 */
export function keyFromPhrase(text: string, source = "the recovery phrase"): DataKey {
  const phrase = normalizePhrase(text);
  const words = phrase ? phrase.split(" ") : [];
  if (words.length !== 24) {
    throw new JdoError(
      "SYNC_KEY_WRONG",
      `${source} has ${words.length} word${
        words.length === 1 ? "" : "s"
      }; a jdo recovery phrase has 24`,
    );
  }
  const unknown = words.filter((w) => !wordlist.includes(w));
  if (unknown.length > 0) {
    throw new JdoError(
      "SYNC_KEY_WRONG",
      `${source} has word${unknown.length === 1 ? "" : "s"} not in the recovery wordlist: ${
        unknown.slice(0, 3).join(", ")
      }`,
    );
  }
  if (!validateMnemonic(phrase, wordlist)) {
    throw new JdoError(
      "SYNC_KEY_WRONG",
      `${source} fails its checksum: a word is wrong or two are swapped`,
    );
  }
  return dataKeyOf(mnemonicToEntropy(phrase, wordlist));
}

/** "3f9a…" as `sync status` shows a key id. */
export function shortKeyId(id: string): string {
  return `${id.slice(0, 4)}…`;
}
