import assert from "node:assert/strict";
import { join } from "node:path";
import { JdoError } from "../errors.ts";
import { getToken, loadAuth, removeToken, setToken } from "./auth_store.ts";

const POSIX = Deno.build.os !== "windows";
const NOW = new Date("2025-01-15T12:00:00Z");
const TOKEN = "eyJhbGciOiJFZERTQSJ9.secret-token-value";

async function tempDir(): Promise<{ dir: string; path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "jdo-auth-" });
  return {
    dir,
    path: join(dir, "auth.json"),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

async function entries(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

async function invalid(promise: Promise<unknown>, path: string): Promise<JdoError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof JdoError, `expected a JdoError, got ${error}`);
    assert.equal(error.code, "AUTH_STORE_INVALID");
    assert.ok(error.message.includes(path), `names the path: ${error.message}`);
    assert.ok(!error.message.includes("\n"));
    return error;
  }
  assert.fail("expected AUTH_STORE_INVALID");
}

Deno.test("auth: a missing file is empty; nothing is created by reading", async () => {
  await using t = await tempDir();
  assert.deepEqual(await loadAuth(t.path), {});
  assert.equal(await getToken(t.path, "turso"), undefined);
  assert.equal(await removeToken(t.path, "turso"), false);
  assert.deepEqual(await entries(t.dir), []);
});

Deno.test("auth: setToken → getToken round-trip under the provider key, mode 0600", async () => {
  await using t = await tempDir();
  await setToken(t.path, "turso", TOKEN, NOW);
  assert.equal(await getToken(t.path, "turso"), TOKEN);
  assert.deepEqual(JSON.parse(await Deno.readTextFile(t.path)), {
    turso: { token: TOKEN, saved_at: "2025-01-15T12:00:00.000Z" },
  });
  if (POSIX) assert.equal((await Deno.stat(t.path)).mode! & 0o777, 0o600);
  assert.deepEqual(await entries(t.dir), ["auth.json"], "no temp files left");
  // Replacing the token writes a new file (temp + rename) and keeps 0600.
  const before = await Deno.stat(t.path);
  await setToken(t.path, "turso", "second-token", new Date("2025-02-01T00:00:00Z"));
  const after = await Deno.stat(t.path);
  if (POSIX) {
    assert.notEqual(after.ino, before.ino);
    assert.equal(after.mode! & 0o777, 0o600);
  }
  assert.equal(await getToken(t.path, "turso"), "second-token");
  assert.equal((await loadAuth(t.path)).turso.saved_at, "2025-02-01T00:00:00.000Z");
});

Deno.test(
  "auth: an existing world-readable file becomes 0600 on the next save",
  { ignore: !POSIX },
  async () => {
    await using t = await tempDir();
    await Deno.writeTextFile(t.path, JSON.stringify({ other: { token: "x", saved_at: "" } }));
    await Deno.chmod(t.path, 0o644);
    await setToken(t.path, "turso", TOKEN, NOW);
    assert.equal((await Deno.stat(t.path)).mode! & 0o777, 0o600);
  },
);

Deno.test("auth: providers are independent; removeToken removes one and reports it", async () => {
  await using t = await tempDir();
  await setToken(t.path, "turso", TOKEN, NOW);
  await setToken(t.path, "other", "other-token", NOW);
  assert.equal(await getToken(t.path, "turso"), TOKEN);
  assert.equal(await getToken(t.path, "other"), "other-token");
  assert.equal(await removeToken(t.path, "turso"), true);
  assert.equal(await getToken(t.path, "turso"), undefined);
  assert.equal(await getToken(t.path, "other"), "other-token");
  assert.equal(await removeToken(t.path, "turso"), false);
  assert.ok(!(await Deno.readTextFile(t.path)).includes(TOKEN), "the token is gone from disk");
  if (POSIX) assert.equal((await Deno.stat(t.path)).mode! & 0o777, 0o600);
  assert.deepEqual(await entries(t.dir), ["auth.json"]);
});

Deno.test("auth: a saved_at that is not text is tolerated", async () => {
  await using t = await tempDir();
  await Deno.writeTextFile(t.path, JSON.stringify({ turso: { token: TOKEN, saved_at: 5 } }));
  assert.deepEqual(await loadAuth(t.path), { turso: { token: TOKEN, saved_at: "" } });
});

Deno.test("auth: a corrupt file is reported naming the path; it is never rewritten or discarded", async () => {
  await using t = await tempDir();
  const cases: [string, RegExp][] = [
    ['{"turso": {"token": "abc"', /not valid JSON/],
    ["", /not valid JSON/],
    ["\u0000\u0001binary", /not valid JSON/],
    ["[]", /not a JSON object/],
    ["null", /not a JSON object/],
    ['{"turso": {}}', /"turso" entry has no token/],
    ['{"turso": null}', /"turso" entry has no token/],
    ['{"turso": {"token": ""}}', /"turso" entry has no token/],
    ['{"turso": {"token": 42}}', /"turso" entry has no token/],
  ];
  for (const [content, why] of cases) {
    await Deno.writeTextFile(t.path, content);
    if (POSIX) await Deno.chmod(t.path, 0o600);
    const before = await Deno.stat(t.path);
    const e1 = await invalid(loadAuth(t.path), t.path);
    assert.match(e1.message, why);
    await invalid(getToken(t.path, "turso"), t.path);
    // Writes refuse too, rather than silently replacing the user's file.
    await invalid(setToken(t.path, "turso", TOKEN, NOW), t.path);
    await invalid(removeToken(t.path, "turso"), t.path);
    assert.equal(await Deno.readTextFile(t.path), content, `content unchanged for ${content}`);
    const after = await Deno.stat(t.path);
    assert.equal(after.ino, before.ino);
    assert.equal(after.mtime?.getTime(), before.mtime?.getTime());
    assert.deepEqual(await entries(t.dir), ["auth.json"]);
  }
});

Deno.test("auth: error messages never contain the token", async () => {
  await using t = await tempDir();
  await Deno.writeTextFile(t.path, `{"turso": {"token": "${TOKEN}"`);
  const e = await invalid(loadAuth(t.path), t.path);
  assert.ok(!e.message.includes(TOKEN));
  assert.ok(!String(e.cause ?? "").includes(TOKEN));
});
