/**
 * Issue 18 (points 5, 6, 9, 10): what a person meets around sync — private
 * files, an export that does not overwrite by surprise, `sync disable` that
 * names what has not reached the cloud, setup's hints for input mistakes,
 * `sync devices forget`, and Ctrl-C during a sync. Real jdo processes
 * against a real sqld.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { startSqld } from "../helpers/sqld.ts";
import { startFaultProxy } from "../helpers/fault_proxy.ts";
import { startSplitProxy } from "../helpers/split_proxy.ts";
import { inProcessJdo } from "../helpers/in_process.ts";
import { type Device, device, exists, setup, sleep, syncNow } from "../helpers/device.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

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
    const off = await a.ok(["sync", "disable", "--yes"]);
    assert.match(
      off.stderr,
      /^2 local changes have not reached the cloud yet; they stay on this device\.$/m,
    );
    const inbox = await a.json<unknown[]>(["list", "inbox", "--json"]);
    assert.equal(inbox.length, 2, "they stay local");
  },
});

/** Starts `jdo ARGS` as `dev` would, for a test that signals it. */
function spawnJdo(dev: Device, args: string[], stdin?: string): Deno.ChildProcess {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (!/^(JDO_|TURSO_|NO_COLOR$|RUST_LOG$|INIT_CWD$)/.test(k)) env[k] = v;
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, ...args],
    env: {
      ...env,
      JDO_HOME: dev.home,
      JDO_TIMEZONE: "UTC",
      NO_COLOR: "1",
      JDO_SYNC_AUTO: "0",
      JDO_KEYRING: "0",
    },
    clearEnv: true,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    writer.write(new TextEncoder().encode(stdin)).then(() => writer.close()).catch(() => {});
  }
  return child;
}

async function waitForFile(path: string, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await exists(path)) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function interrupted(child: Deno.ChildProcess) {
  child.kill("SIGINT");
  const out = await child.output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test({
  ...opts,
  name: "Ctrl-C during sync now: one line, the lock released, the next run finishes",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    await using proxy = await startFaultProxy(server.port);
    const token = await server.token("rw");
    await using a = await device("A");
    assert.equal((await setup(a, proxy.url, token)).code, 0);
    await a.ok(["capture", "made offline"]);
    proxy.setMode("blackhole");
    proxy.cutAll();
    const lock = join(a.home, "sync.lock");
    const child = spawnJdo(a, ["sync", "now"]);
    await waitForFile(lock, "the sync lock");
    const r = await interrupted(child);
    assert.equal(r.code, 130, r.stderr);
    assert.equal(
      r.stderr.trim(),
      "jdo: Interrupted; nothing lost — run `jdo sync now` to finish",
    );
    assert.equal(await exists(lock), false, "sync.lock released");

    proxy.setMode("pass");
    const next = await syncNow(a);
    assert.deepEqual([next.ok, next.pushed], [true, 1]);
  },
});

Deno.test({
  ...opts,
  name:
    "Ctrl-C during setup's upload: one line, nothing saved, no lock or replica left; a re-run works",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    await using proxy = startSplitProxy(server.port);
    const token = await server.token("rw");
    await using a = await device("A");
    await a.ok(["capture", "local"]);
    proxy.stall("replication");
    const lock = join(a.home, "sync.lock");
    const child = spawnJdo(
      a,
      ["sync", "setup", "--url", proxy.url, "--token-stdin", "--yes"],
      `${token}\n`,
    );
    await waitForFile(lock, "the sync lock");
    const r = await interrupted(child);
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /^jdo: Interrupted; nothing was saved — run `jdo sync setup` again$/m);
    assert.equal(await exists(lock), false, "sync.lock released");
    assert.equal(await exists(join(a.home, "cloud")), false, "no half-made replica");
    assert.equal(await exists(join(a.home, "auth.json")), false, "no token saved");

    proxy.stall("replication", false);
    const again = await setup(a, proxy.url, token);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /↑ 1 uploaded/);
  },
});

Deno.test({
  ...opts,
  name: "sync setup input mistakes: TLS against plain HTTP, no scheme, --token X",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using a = await device("A");
    const host = server.url.replace("http://", "");
    for (const scheme of ["libsql", "https"]) {
      const r = await setup(a, `${scheme}://${host}`, token);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, new RegExp(`${scheme}:// speaks TLS.*use http://${host}`));
    }
    const bare = await setup(a, host, token);
    assert.equal(bare.code, 2, bare.stderr);
    assert.match(bare.stderr, new RegExp(`did you mean http://${host}\\?`));
    const turso = await setup(a, "jdo-me.turso.io", token);
    assert.match(turso.stderr, /did you mean libsql:\/\/jdo-me\.turso\.io\?/);

    for (const args of [["--token", token], [`--token=${token}`]]) {
      const r = await a.run(["sync", "setup", "--url", server.url, ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--token-stdin.*JDO_TURSO_AUTH_TOKEN/);
      assert.ok(!r.stderr.includes(token.slice(-20)), "the token is not echoed");
    }
    assert.equal(await exists(join(a.home, "settings.json")), false, "nothing saved");
  },
});

Deno.test({
  ...opts,
  name: "sync setup re-run on a terminal offers the saved URL: Enter keeps it",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using jdo = await inProcessJdo();
    const env = { JDO_KEYRING: "0" };
    const first = await jdo.run(
      ["sync", "setup", "--url", server.url, "--token-stdin", "--yes"],
      { stdin: `${token}\n`, env },
    );
    assert.equal(first.code, 0, first.stderr);
    // Replace? yes; Database URL: Enter; the token.
    const again = await jdo.run(["sync", "setup"], { tty: true, answers: [true, "", token], env });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(again.asked.slice(0, 2), [
      `Sync is already set up with ${server.url}. Replace that configuration?`,
      "Database URL:",
    ]);
    assert.match(again.stdout, /Sync is on/);
  },
});

interface DevicesJson {
  this_device: string;
  this_device_last_sync_at: string | null;
  devices: { id: string; name: string; last_sync_at: string }[];
}

Deno.test({
  ...opts,
  name: "sync devices forget ID: removes another device by id prefix, refuses this one",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using a = await device("A");
    await using b = await device("B");
    assert.equal((await setup(a, server.url, token, ["--name", "laptop"])).code, 0);
    assert.equal((await setup(b, server.url, token, ["--name", "old phone"])).code, 0);
    await syncNow(a);
    const before = await a.json<DevicesJson>(["sync", "devices", "--json"]);
    assert.deepEqual(before.devices.map((d) => d.name), ["laptop", "old phone"]);
    const phone = before.devices.find((d) => d.name === "old phone")!;

    const own = await a.run(["sync", "devices", "forget", before.this_device.slice(0, 6)]);
    assert.equal(own.code, 2, own.stderr);
    assert.match(own.stderr, /is this device/);
    const unknown = await a.run(["sync", "devices", "forget", "zzzz"]);
    assert.equal(unknown.code, 1, unknown.stderr);

    const forgot = await a.ok(["sync", "devices", "forget", phone.id.slice(0, 6)]);
    assert.match(forgot.stdout, /Forgot device "old phone"/);
    const after = await a.json<DevicesJson>(["sync", "devices", "--json"]);
    assert.deepEqual(after.devices.map((d) => d.name), ["laptop"]);
    // Gone from the cloud's directory too: a third device never sees it.
    await using c = await device("C");
    assert.equal((await setup(c, server.url, token, ["--name", "desk"])).code, 0);
    const seen = await c.json<DevicesJson>(["sync", "devices", "--json"]);
    assert.deepEqual(seen.devices.map((d) => d.name), ["laptop", "desk"]);
  },
});

Deno.test({
  ...opts,
  name: "sync devices shows this device's own last sync from local state",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using a = await device("A");
    assert.equal((await setup(a, server.url, token)).code, 0);
    await a.ok(["capture", "one"]);
    await syncNow(a); // the cloud's row is refreshed only every 15 minutes
    const list = await a.json<DevicesJson>(["sync", "devices", "--json"]);
    const status = await a.json<{ last_success_at: string }>(["sync", "status", "--json"]);
    assert.equal(list.this_device_last_sync_at, status.last_success_at);
  },
});

Deno.test({
  ...opts,
  name: "sync disable on a terminal asks with the count of changes not in the cloud",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using jdo = await inProcessJdo();
    const env = { JDO_KEYRING: "0" };
    const set = await jdo.run(
      ["sync", "setup", "--url", server.url, "--token-stdin", "--yes"],
      { stdin: `${token}\n`, env },
    );
    assert.equal(set.code, 0, set.stderr);
    assert.equal((await jdo.run(["capture", "unsent"], { env })).code, 0);
    const off = await jdo.run(["sync", "disable"], { tty: true, answers: [true], env });
    assert.equal(off.code, 0, off.stderr);
    assert.match(
      off.asked[0],
      /^1 local change has not reached the cloud yet; it stays on this device\. Turn sync off/,
    );
  },
});
