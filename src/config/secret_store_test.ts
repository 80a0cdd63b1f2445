import assert from "node:assert/strict";
import { join } from "node:path";
import { JdoError } from "../errors.ts";
import {
  authFileStore,
  KeyringUnavailable,
  keyringWanted,
  osKeyring,
  type SecretStore,
  TokenVault,
} from "./secret_store.ts";

import { fakeKeyring } from "../../tests/helpers/fake_keyring.ts";

const NOW = new Date("2026-12-01T12:00:00Z");
const TOKEN = "eyJhbGciOiJFZERTQSJ9.keyring-test-token";

async function tempAuth(): Promise<{ path: string; file: SecretStore } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "jdo-secrets-" });
  const path = join(dir, "auth.json");
  return {
    path,
    file: authFileStore(path, "turso"),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("secrets: with a keyring the token goes there, not into auth.json", async () => {
  await using t = await tempAuth();
  const keyring = fakeKeyring();
  const vault = new TokenVault(keyring, t.file);
  assert.equal(await vault.save(TOKEN, NOW), "keyring");
  assert.equal(keyring.value, TOKEN);
  assert.equal(await t.file.get(), undefined);
  assert.deepEqual(await vault.find(), { token: TOKEN, source: "keyring" });
});

Deno.test("secrets: without a keyring (it throws) auth.json is the store, mode 0600", async () => {
  await using t = await tempAuth();
  const keyring = fakeKeyring();
  keyring.broken = true;
  const vault = new TokenVault(keyring, t.file);
  assert.equal(await vault.save(TOKEN, NOW), "auth store");
  assert.deepEqual(await vault.find(), { token: TOKEN, source: "auth store" });
  if (Deno.build.os !== "windows") assert.equal((await Deno.stat(t.path)).mode! & 0o777, 0o600);
  assert.deepEqual(await vault.remove(), { removed: ["auth store"], failed: [] });
  assert.equal(await vault.find(), undefined);
});

Deno.test("secrets: a token saved in auth.json is still found once a keyring appears; remove clears both", async () => {
  await using t = await tempAuth();
  const keyring = fakeKeyring();
  keyring.broken = true;
  await new TokenVault(keyring, t.file).save(TOKEN, NOW);
  keyring.broken = false; // e.g. the user logs into a desktop session
  const vault = new TokenVault(keyring, t.file);
  assert.deepEqual(await vault.find(), { token: TOKEN, source: "auth store" });
  keyring.value = "an-older-copy-in-the-keyring";
  const report = await vault.remove();
  assert.deepEqual(report.removed.sort(), ["auth store", "keyring"]);
  assert.equal(keyring.value, undefined);
  assert.equal(await t.file.get(), undefined);
});

Deno.test("secrets: saving into the keyring drops the copy left in auth.json", async () => {
  await using t = await tempAuth();
  await t.file.set("old-token-in-the-file", NOW);
  const keyring = fakeKeyring();
  const vault = new TokenVault(keyring, t.file);
  assert.equal(await vault.save(TOKEN, NOW), "keyring");
  assert.equal(await t.file.get(), undefined);
});

Deno.test("secrets: a corrupt auth.json is named when read, and remove says it failed", async () => {
  await using t = await tempAuth();
  await Deno.writeTextFile(t.path, "{not json", { mode: 0o600 });
  const vault = new TokenVault(undefined, t.file);
  await assert.rejects(vault.find(), (e: unknown) => {
    assert.ok(e instanceof JdoError && e.code === "AUTH_STORE_INVALID");
    assert.ok(e.message.includes(t.path));
    return true;
  });
  const report = await vault.remove();
  assert.deepEqual(report.removed, []);
  assert.equal(report.failed.length, 1);
  assert.equal(report.failed[0].store, "auth store");
  assert.equal(await Deno.readTextFile(t.path), "{not json", "left as it was");
});

Deno.test("secrets: JDO_KEYRING=0 or Linux without a D-Bus session means no keyring", () => {
  assert.equal(keyringWanted({ JDO_KEYRING: "0", DBUS_SESSION_BUS_ADDRESS: "x" }, "linux"), false);
  assert.equal(keyringWanted({ JDO_KEYRING: "0" }, "darwin"), false);
  assert.equal(keyringWanted({}, "linux"), false);
  assert.equal(keyringWanted({ DBUS_SESSION_BUS_ADDRESS: "unix:path=/run/x" }, "linux"), true);
  assert.equal(keyringWanted({}, "darwin"), true);
  assert.equal(keyringWanted({}, "windows"), true);
});

Deno.test("secrets: the real keyring binding loads under Deno; with no backend it fails fast and auth.json takes over", async () => {
  await using t = await tempAuth();
  // No D-Bus session here: the Secret Service cannot answer.
  const keyring = osKeyring(`turso:${t.path}`, 10_000);
  const started = performance.now();
  if (Deno.build.os === "linux" && !Deno.env.get("DBUS_SESSION_BUS_ADDRESS")) {
    await assert.rejects(keyring.get(), KeyringUnavailable);
    assert.ok(performance.now() - started < 5_000);
    const vault = new TokenVault(keyring, t.file);
    assert.equal(await vault.save(TOKEN, NOW), "auth store");
    assert.deepEqual(await vault.find(), { token: TOKEN, source: "auth store" });
  } else {
    // A desktop with a keyring: the binding answers (absent entry → undefined).
    assert.equal(await keyring.get(), undefined);
  }
});

Deno.test("secrets: a keyring that hangs costs its timeout once, then is not asked again", async () => {
  await using t = await tempAuth();
  const hung = osKeyring(
    "turso:hung",
    1_500,
    new URL("../../tests/helpers/hung_keyring_worker.ts", import.meta.url),
  );
  const vault = new TokenVault(hung, t.file);
  let started = performance.now();
  assert.equal(await vault.save(TOKEN, NOW), "auth store");
  const first = performance.now() - started;
  // Waits its 1.5 s once, not forever (the worker never answers)…
  assert.ok(first >= 1_400 && first < 30_000, `first call waited ${first} ms`);
  started = performance.now();
  assert.deepEqual(await vault.find(), { token: TOKEN, source: "auth store" });
  // …and not again: a second wait would take the 1.5 s once more.
  const again = performance.now() - started;
  assert.ok(again < 1_000, `asked again: waited ${again} ms`);
});
