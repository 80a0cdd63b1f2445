/**
 * Where the cloud token is kept: the OS keyring when one answers (macOS
 * Keychain, Windows Credential Manager, Linux Secret Service), otherwise
 * auth.json (mode 0600). Both sit behind one small interface so tests can
 * put a fake keyring in the AppContext.
 */
import { getToken, removeToken, setToken } from "./auth_store.ts";
import type { KeyringReply, KeyringRequest } from "./keyring_worker.ts";
import { lazyModuleUrl } from "../lazy_module.ts";

/** auth.json's key for the cloud token. */
export const TURSO_PROVIDER = "turso";
/** auth.json's key for the end-to-end data key (its recovery phrase). */
export const SYNC_KEY_PROVIDER = "sync_key";

export type SecretStoreName = "keyring" | "auth store";

export interface SecretStore {
  readonly name: SecretStoreName;
  /** The token, or undefined when this store has none. */
  get(): Promise<string | undefined>;
  set(token: string, now: Date): Promise<void>;
  /** Removes the token; whether there was one. */
  delete(): Promise<boolean>;
}

/** The keyring cannot be used here (no backend, locked, no answer in time). */
export class KeyringUnavailable extends Error {}

/** auth.json, under the provider's key. */
export function authFileStore(path: string, provider: string): SecretStore {
  return {
    name: "auth store",
    get: () => getToken(path, provider),
    set: (token, now) => setToken(path, provider, token, now),
    delete: () => removeToken(path, provider),
  };
}

export const KEYRING_SERVICE = "jdo";
export const KEYRING_TIMEOUT_MS = 5_000;

/**
 * The OS keyring through @napi-rs/keyring, each call in a fresh worker that
 * is terminated after `timeoutMs`: a keyring that hangs costs that long once,
 * never hangs jdo. The native module is loaded only when a call is made.
 */
export function osKeyring(
  account: string,
  timeoutMs = KEYRING_TIMEOUT_MS,
  workerUrl: URL = new URL(lazyModuleUrl("config/keyring_worker.ts")),
): SecretStore {
  let silent: string | undefined; // once it did not answer, it is not asked again
  const call = (op: KeyringRequest["op"], password?: string) =>
    new Promise<string | null | boolean>((resolve, reject) => {
      if (silent) return reject(new KeyringUnavailable(silent));
      const worker = new Worker(workerUrl, { type: "module" });
      const done = (action: () => void) => {
        clearTimeout(timer);
        worker.terminate();
        action();
      };
      const timer = setTimeout(
        () =>
          done(() => {
            silent = `the keyring did not answer within ${timeoutMs} ms`;
            reject(new KeyringUnavailable(silent));
          }),
        timeoutMs,
      );
      worker.onmessage = (event: MessageEvent<KeyringReply>) => {
        const reply = event.data;
        done(() => reply.ok ? resolve(reply.value) : reject(new KeyringUnavailable(reply.message)));
      };
      worker.onerror = (event) => {
        event.preventDefault();
        done(() => reject(new KeyringUnavailable(event.message ?? "the keyring failed")));
      };
      worker.postMessage(
        { op, service: KEYRING_SERVICE, account, password } satisfies KeyringRequest,
      );
    });
  return {
    name: "keyring",
    get: async () => (await call("get") as string | null) ?? undefined,
    set: async (token) => {
      await call("set", token);
    },
    delete: async () => Boolean(await call("delete")),
  };
}

/**
 * Whether to try the OS keyring at all: not when JDO_KEYRING=0 (tests, CI,
 * or a user who wants the file), and not on Linux without a D-Bus session,
 * where no Secret Service can answer (headless machines, containers).
 */
export function keyringWanted(env: Record<string, string | undefined>, os = Deno.build.os) {
  if (env.JDO_KEYRING === "0") return false;
  if (os === "linux" && !env.DBUS_SESSION_BUS_ADDRESS) return false;
  return true;
}

export interface FoundToken {
  token: string;
  source: SecretStoreName;
}

export interface RemovalReport {
  /** Stores that held the token and no longer do. */
  removed: SecretStoreName[];
  /** Stores whose token could not be removed, with the reason. */
  failed: { store: SecretStoreName; error: unknown }[];
}

async function quietly(action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch {
    // best effort
  }
}

/**
 * The keyring first, auth.json as the fallback. A token written before a
 * keyring appeared is still found in auth.json; removing clears both.
 */
export class TokenVault {
  /** What find() answered, kept for the process (the REPL asks often; a keyring call is a worker). */
  #found?: Promise<FoundToken | undefined>;

  constructor(readonly keyring: SecretStore | undefined, readonly file: SecretStore) {}

  /** Where a token was found. A corrupt auth.json throws (it is named, never ignored). */
  find(): Promise<FoundToken | undefined> {
    const found = this.#found ??= this.#find();
    found.catch(() => { // a failure is not remembered
      if (this.#found === found) this.#found = undefined;
    });
    return found;
  }

  async #find(): Promise<FoundToken | undefined> {
    if (this.keyring) {
      try {
        const token = await this.keyring.get();
        if (token) return { token, source: "keyring" };
      } catch {
        // No keyring here: auth.json is the store.
      }
    }
    const token = await this.file.get();
    return token ? { token, source: "auth store" } : undefined;
  }

  /**
   * Saves the token in the keyring when it takes it (and drops a copy left
   * in auth.json), else in auth.json. Returns where it went.
   */
  async save(token: string, now: Date): Promise<SecretStoreName> {
    this.#found = undefined;
    if (this.keyring) {
      try {
        await this.keyring.set(token, now);
        if (await this.keyring.get() === token) {
          await quietly(() => this.file.delete());
          return "keyring";
        }
      } catch {
        // Fall back to the file.
      }
    }
    await this.file.set(token, now);
    // An older token left in the keyring would shadow the new one.
    if (this.keyring) await quietly(() => this.keyring!.delete());
    return "auth store";
  }

  /** Removes the token from every store, doing what it can and saying what failed. */
  async remove(): Promise<RemovalReport> {
    this.#found = undefined;
    const report: RemovalReport = { removed: [], failed: [] };
    for (const store of [this.keyring, this.file]) {
      if (!store) continue;
      try {
        if (await store.delete()) report.removed.push(store.name);
      } catch (error) {
        // A keyring that is not there holds nothing to remove.
        if (store === this.keyring && error instanceof KeyringUnavailable) continue;
        report.failed.push({ store: store.name, error });
      }
    }
    return report;
  }
}
