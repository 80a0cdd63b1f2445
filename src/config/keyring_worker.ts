/// <reference lib="deno.worker" />
/**
 * Talks to the OS keyring (@napi-rs/keyring) on its own thread: opening the
 * Secret Service is a blocking native call that a hung D-Bus peer can hold
 * forever; here it can only hold this worker, which the caller terminates
 * when its time is up.
 */

export type KeyringRequest = {
  op: "get" | "set" | "delete";
  service: string;
  account: string;
  password?: string;
};

export type KeyringReply =
  | { ok: true; value: string | null | boolean }
  | { ok: false; message: string };

self.onmessage = async (event: MessageEvent<KeyringRequest>) => {
  const { op, service, account, password } = event.data;
  try {
    const { AsyncEntry } = await import("@napi-rs/keyring");
    // On Linux only the Secret Service keeps a secret across reboots; the
    // kernel keyring (the library's fallback) would lose the token.
    const entry = new AsyncEntry(service, account, { linux: { store: "secret-service" } });
    let value: string | null | boolean;
    if (op === "get") value = await entry.getPassword();
    else if (op === "set") {
      await entry.setPassword(password ?? "");
      value = true;
    } else value = await entry.deletePassword();
    self.postMessage({ ok: true, value } satisfies KeyringReply);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    self.postMessage({ ok: false, message: message.split("\n")[0] } satisfies KeyringReply);
  }
};
