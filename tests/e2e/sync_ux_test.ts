/**
 * Issue 18 (points 5, 6, 9, 10): what a person meets around sync — private
 * files, an export that does not overwrite by surprise, `sync disable` that
 * names what has not reached the cloud, setup's hints for input mistakes,
 * `sync devices forget`, and Ctrl-C during a sync. Real jdo processes
 * against a real sqld.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { startSqld } from "../helpers/sqld.ts";
import { device, setup, syncNow } from "../helpers/device.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** Every path under dir (files and directories), recursively. */
async function walk(dir: string): Promise<{ path: string; dir: boolean; mode: number }[]> {
  const out: { path: string; dir: boolean; mode: number }[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    const info = await Deno.lstat(path);
    out.push({ path, dir: entry.isDirectory, mode: info.mode! & 0o777 });
    if (entry.isDirectory) out.push(...await walk(path));
  }
  return out;
}

Deno.test({
  ...opts,
  name: "files: everything jdo writes under its home is 0600, every directory 0700 (umask 022)",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using a = await device("A");
    await a.ok(["commit", "Report", "--to", "Ann", "--due", "2031-03-14"]);
    assert.equal((await setup(a, server.url, token)).code, 0); // with a backup
    await a.ok(["capture", "after setup"]);
    await syncNow(a);
    const entries = await walk(a.home);
    const names = entries.map((e) => relative(a.home, e.path));
    assert.ok(names.includes(join("cloud", "replica.db")), names.join(", "));
    const loose = entries.filter((e) => e.mode !== (e.dir ? 0o700 : 0o600))
      .map((e) => `${relative(a.home, e.path)} ${e.mode.toString(8)}`);
    assert.deepEqual(loose, [], "files 0600, directories 0700");
  },
});

Deno.test({
  ...opts,
  name: "export --out: refuses to overwrite an existing file without --force (exit 2)",
  fn: async () => {
    await using a = await device("A");
    await a.ok(["capture", "one"]);
    const out = join(a.home, "..", "export.json");
    await Deno.writeTextFile(out, "keep me");
    const refused = await a.run(["export", "--out", out]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /already exists.*--force/);
    assert.equal(await Deno.readTextFile(out), "keep me");
    await a.ok(["export", "--out", out, "--force"]);
    assert.equal(JSON.parse(await Deno.readTextFile(out)).inbox.length, 1);
  },
});

Deno.test({
  ...opts,
  name: "sync disable --yes names the local changes that have not reached the cloud",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using a = await device("A");
    assert.equal((await setup(a, server.url, token)).code, 0);
    await a.ok(["capture", "one"]);
    await a.ok(["capture", "two"]);
    const refused = await a.run(["sync", "disable"]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /2 local changes have not reached the cloud yet/);
    const off = await a.ok(["sync", "disable", "--yes"]);
    assert.match(
      off.stderr,
      /^2 local changes have not reached the cloud yet; they stay on this device\.$/m,
    );
    const inbox = await a.json<unknown[]>(["list", "inbox", "--json"]);
    assert.equal(inbox.length, 2, "they stay local");
  },
});
