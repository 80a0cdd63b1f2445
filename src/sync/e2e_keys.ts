/**
 * Where this device's end-to-end key comes from: `JDO_SYNC_KEY` (CI), else
 * the OS keyring, else auth.json (0600) — kept like the token, as its
 * recovery phrase. A key given at setup (--key-file, a prompt) is checked
 * against the cloud before it is saved.
 */
import type { AppContext } from "../app/context.ts";
import { JdoError } from "../errors.ts";
import { type DataKey, keyFromPhrase } from "./e2e_key.ts";

export const ENV_KEY = "JDO_SYNC_KEY";

export type KeySource = "env" | "keyring" | "auth_store" | "file" | "prompt" | "none";

export interface FoundKey {
  key?: DataKey;
  source: KeySource;
}

/** The key this device holds, and where it came from ("none": no key). */
export async function findSyncKey(ctx: AppContext): Promise<FoundKey> {
  const env = ctx.env[ENV_KEY];
  if (env) return { key: keyFromPhrase(env, ENV_KEY), source: "env" };
  const found = await ctx.syncKeys.find();
  if (!found) return { source: "none" };
  const source = found.source === "keyring" ? "keyring" : "auth_store";
  return {
    key: keyFromPhrase(found.token, `The key stored in the ${found.source}`),
    source,
  };
}

/** Saves the key (its phrase) in the keyring when it takes it, else auth.json. */
export async function saveSyncKey(ctx: AppContext, key: DataKey): Promise<string> {
  const where = await ctx.syncKeys.save(key.phrase, ctx.clock.now());
  return where === "keyring"
    ? "Encryption key saved in the OS keyring"
    : `Encryption key saved in ${ctx.paths.auth} (readable only by you)`;
}

/** A key file holds the recovery phrase (any spacing, any case). */
export async function readKeyFile(path: string): Promise<DataKey> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new JdoError(
      "USAGE",
      `Cannot read the key file ${path}: ${
        error instanceof Deno.errors.NotFound ? "no such file" : (error as Error).message
      }`,
    );
  }
  return keyFromPhrase(text, `The key file ${path}`);
}

/** A phrase typed at a terminal, hidden. */
export async function promptKey(ctx: AppContext): Promise<DataKey> {
  const text = await ctx.prompter.password("Recovery phrase (24 words, input hidden):");
  return keyFromPhrase(text, "The phrase typed");
}
