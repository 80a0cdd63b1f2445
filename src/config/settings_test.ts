import assert from "node:assert/strict";
import { join } from "node:path";
import { JdoError } from "../errors.ts";
import { readTextIfExists, writeFileAtomic } from "./atomic_file.ts";
import { DEFAULT_SETTINGS, loadSettings, saveSettings, type Settings } from "./settings.ts";

const POSIX = Deno.build.os !== "windows";

async function tempDir(): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "jdo-settings-" });
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

async function entries(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

async function loadFails(path: string): Promise<JdoError> {
  try {
    await loadSettings(path);
  } catch (error) {
    assert.ok(error instanceof JdoError, `expected a JdoError, got ${error}`);
    assert.equal(error.code, "CONFIG_INVALID");
    return error;
  }
  assert.fail("expected CONFIG_INVALID");
}

Deno.test("settings: a missing file gives the defaults (and creates nothing)", async () => {
  await using t = await tempDir();
  const path = join(t.dir, "settings.json");
  assert.deepEqual(await loadSettings(path), DEFAULT_SETTINGS);
  assert.deepEqual(await entries(t.dir), []);
  // The defaults are a copy: changing one does not change the next load.
  const s = await loadSettings(path);
  s.turso_enabled = true;
  assert.equal((await loadSettings(path)).turso_enabled, false);
});

Deno.test("settings: save → load round-trips every field; file is mode 0600, no temp files left", async () => {
  await using t = await tempDir();
  const path = join(t.dir, "settings.json");
  const settings: Settings = {
    turso_enabled: true,
    turso_db_url: "libsql://jdo-alice.turso.io",
    device_id: "0123456789ab",
    sync_auto: false,
    sync_interval_seconds: 120,
  };
  await saveSettings(path, settings);
  assert.deepEqual(await loadSettings(path), settings);
  assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), settings);
  if (POSIX) assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  assert.deepEqual(await entries(t.dir), ["settings.json"]);

  // Overwriting replaces the file (a new inode: readers never see half a file).
  const before = await Deno.stat(path);
  await saveSettings(path, { ...settings, turso_enabled: false, turso_db_url: null });
  const after = await Deno.stat(path);
  if (POSIX) assert.notEqual(after.ino, before.ino, "written through a temp file + rename");
  assert.equal((await loadSettings(path)).turso_enabled, false);
  assert.equal((await loadSettings(path)).turso_db_url, null);
  assert.deepEqual(await entries(t.dir), ["settings.json"]);
});

Deno.test(
  "settings: a world-readable file becomes 0600 when saved",
  { ignore: !POSIX },
  async () => {
    await using t = await tempDir();
    const path = join(t.dir, "settings.json");
    await Deno.writeTextFile(path, "{}", { mode: 0o644 });
    await Deno.chmod(path, 0o644);
    await saveSettings(path, DEFAULT_SETTINGS);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  },
);

Deno.test("settings: missing keys take defaults; unknown keys are ignored", async () => {
  await using t = await tempDir();
  const path = join(t.dir, "settings.json");
  await Deno.writeTextFile(path, JSON.stringify({ turso_enabled: true, future_option: 1 }));
  assert.deepEqual(await loadSettings(path), { ...DEFAULT_SETTINGS, turso_enabled: true });
});

Deno.test("settings: a corrupt file is an error naming the path, and the file is left untouched", async () => {
  await using t = await tempDir();
  const path = join(t.dir, "settings.json");
  const cases: [string, RegExp][] = [
    ['{"turso_enabled": tru', /not valid JSON/],
    ["", /not valid JSON/],
    ["[1, 2]", /not a JSON object/],
    ["null", /not a JSON object/],
    ['"text"', /not a JSON object/],
    ['{"turso_enabled": "yes"}', /turso_enabled/],
    ['{"turso_db_url": 42}', /turso_db_url/],
    ['{"device_id": {}}', /device_id/],
    ['{"sync_auto": 1}', /sync_auto/],
    ['{"sync_interval_seconds": 1}', /sync_interval_seconds/],
    ['{"sync_interval_seconds": "60"}', /sync_interval_seconds/],
  ];
  for (const [content, why] of cases) {
    await Deno.writeTextFile(path, content);
    if (POSIX) await Deno.chmod(path, 0o640);
    const before = await Deno.stat(path);
    const error = await loadFails(path);
    assert.ok(error.message.includes(path), `message names the path: ${error.message}`);
    assert.match(error.message, why);
    assert.ok(!error.message.includes("\n"));
    assert.equal(await Deno.readTextFile(path), content, "content unchanged");
    const after = await Deno.stat(path);
    assert.equal(after.ino, before.ino);
    assert.equal(after.mode, before.mode);
    assert.deepEqual(await entries(t.dir), ["settings.json"]);
  }
});

Deno.test("writeFileAtomic: a failed write leaves the old file and no temp file", async () => {
  await using t = await tempDir();
  const path = join(t.dir, "settings.json");
  await saveSettings(path, DEFAULT_SETTINGS);
  const original = await Deno.readTextFile(path);
  // Writing into a missing directory fails; nothing is left behind.
  await assert.rejects(writeFileAtomic(join(t.dir, "missing", "x.json"), "{}"));
  // Renaming over a directory fails: the temp file is removed.
  const dirTarget = join(t.dir, "adir");
  await Deno.mkdir(dirTarget);
  await Deno.writeTextFile(join(dirTarget, "keep"), "x");
  await assert.rejects(writeFileAtomic(dirTarget, "{}"));
  assert.deepEqual(await entries(t.dir), ["adir", "settings.json"]);
  assert.equal(await Deno.readTextFile(path), original);
});

Deno.test("writeFileAtomic: concurrent writers never leave a torn file", async () => {
  await using t = await tempDir();
  const path = join(t.dir, "settings.json");
  const writes = Array.from(
    { length: 20 },
    (_, i) =>
      saveSettings(path, { ...DEFAULT_SETTINGS, device_id: `device-${i}`.padEnd(2000, "x") }),
  );
  const reads = Array.from({ length: 20 }, async () => {
    try {
      await loadSettings(path); // must never see a partial document
    } catch (error) {
      throw new Error(`a reader saw a torn file: ${error}`);
    }
  });
  await Promise.all([...writes, ...reads]);
  const final = await loadSettings(path);
  assert.match(String(final.device_id), /^device-\d+x+$/);
  assert.deepEqual(await entries(t.dir), ["settings.json"]);
});

Deno.test("readTextIfExists: the text, or undefined for a file or a directory that is not there", async () => {
  await using t = await tempDir();
  const path = join(t.dir, "settings.json");
  assert.equal(await readTextIfExists(path), undefined);
  assert.equal(await readTextIfExists(join(t.dir, "missing", "settings.json")), undefined);
  await Deno.writeTextFile(path, "{}");
  assert.equal(await readTextIfExists(path), "{}");
  // A name that only differs in case is another file (the listing compares names exactly).
  await Deno.writeTextFile(join(t.dir, "Other.json"), "x");
  assert.equal(await readTextIfExists(join(t.dir, "other.json")), undefined);
  if (POSIX) {
    // Through a link, as the read would follow it.
    await Deno.symlink(path, join(t.dir, "link.json"));
    assert.equal(await readTextIfExists(join(t.dir, "link.json")), "{}");
    // Not a file: the read's own error, not "absent".
    await Deno.mkdir(join(t.dir, "dir.json"));
    await assert.rejects(readTextIfExists(join(t.dir, "dir.json")));
  }
});
