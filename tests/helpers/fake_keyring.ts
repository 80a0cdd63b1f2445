import { KeyringUnavailable, type SecretStore } from "../../src/config/secret_store.ts";

export type FakeKeyring = SecretStore & { value?: string; broken: boolean; calls: string[] };

/** A keyring in memory; `broken` makes every call fail the way a missing backend does. */
export function fakeKeyring(): FakeKeyring {
  const k = {
    name: "keyring" as const,
    value: undefined as string | undefined,
    broken: false,
    calls: [] as string[],
    check(op: string) {
      k.calls.push(op);
      if (k.broken) throw new KeyringUnavailable("Platform failure: no Secret Service");
    },
    get: async () => {
      await Promise.resolve(k.check("get"));
      return k.value;
    },
    set: async (token: string) => {
      await Promise.resolve(k.check("set"));
      k.value = token;
    },
    delete: async () => {
      await Promise.resolve(k.check("delete"));
      const had = k.value !== undefined;
      k.value = undefined;
      return had;
    },
  };
  return k;
}
