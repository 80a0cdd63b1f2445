/**
 * Sync commands run in-process with an AppContext whose keyring is a fake
 * behind the same SecretStore interface: setup stores the token there,
 * status names it, disable removes it from every store. Also the status
 * probe's bound and setup's retry (against a real sqld where it matters).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type AppContext, createContext } from "../../src/app/context.ts";
import { type CapturedIo, captureIo } from "../../src/app/io.ts";
import { scriptedPrompter } from "../../src/app/prompter.ts";
import { authFileStore } from "../../src/config/secret_store.ts";
import { runJdo } from "../../src/cli/run.ts";
import { testClock } from "../helpers/test_clock.ts";
import { STATUS_PROBE_MS, syncStatus } from "../../src/sync/service.ts";
import { startSqld } from "../helpers/sqld.ts";
import { type FakeKeyring, fakeKeyring } from "../helpers/fake_keyring.ts";
import { freePort } from "../helpers/sqld.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

interface Home extends AsyncDisposable {
  home: string;
  run(
    argv: string[],
    options?: { stdin?: string; tty?: boolean; answers?: (string | boolean)[] },
  ): Promise<{ code: number; io: CapturedIo; asked: string[]; defaults: (string | undefined)[] }>;
  context(io?: CapturedIo): AppContext;
}

async function home(keyring: FakeKeyring | null): Promise<Home> {
  const root = await Deno.makeTempDir({ prefix: "jdo-ctx-" });
  const h: Home = {
    home: join(root, "home"),
    context(io = captureIo()) {
      return createContext({
        env: { JDO_HOME: h.home, JDO_TIMEZONE: "UTC", JDO_SYNC_AUTO: "0" },
        io,
        clock: testClock,
        prompter: scriptedPrompter([]),
        selfCommand: [],
        keyring,
      });
    },
    async run(argv, o = {}) {
      const io = captureIo({ stdin: o.stdin, tty: o.tty });
      const prompter = scriptedPrompter(o.answers ?? []);
      const ctx = createContext({
        env: { JDO_HOME: h.home, JDO_TIMEZONE: "UTC", JDO_SYNC_AUTO: "0" },
        io,
        clock: testClock,
        prompter,
        selfCommand: [],
        keyring,
      });
      const code = await runJdo(ctx, argv);
      return { code, io, asked: prompter.asked, defaults: prompter.defaults };
    },
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
  return h;
}

Deno.test({
  ...opts,
  name: "keyring: setup keeps the token in the keyring, status names it, disable removes it",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    const keyring = fakeKeyring();
    await using h = await home(keyring);
    const setup = await h.run(
      ["sync", "setup", "--url", server.url, "--token-stdin", "--yes"],
      { stdin: token },
    );
    assert.equal(setup.code, 0, setup.io.stderr());
    assert.equal(keyring.value, token);
    assert.match(setup.io.stderr(), /Token saved in the OS keyring/);
    assert.equal(await authFileStore(join(h.home, "auth.json"), "turso").get(), undefined);

    const st = await h.run(["sync", "status", "--json"]);
    assert.equal(st.code, 0, st.io.stderr());
    const json = JSON.parse(st.io.stdout());
    assert.deepEqual([json.token_source, json.state], ["keyring", "online"]);
    const text = await h.run(["sync", "status"]);
    assert.match(text.io.stdout(), /Token: +keyring/);
    assert.ok(!text.io.stdout().includes(token) && !text.io.stderr().includes(token));

    const now = await h.run(["sync", "now", "--json"]);
    assert.equal(JSON.parse(now.io.stdout()).ok, true);

    const off = await h.run(["sync", "disable", "--yes"]);
    assert.equal(off.code, 0, off.io.stderr());
    assert.equal(keyring.value, undefined);
    assert.match((await h.run(["sync", "disable", "--yes"])).io.stdout(), /already off/);
  },
});

Deno.test({
  ...opts,
  name: "keyring: a token in auth.json is still used when a keyring appears; disable clears both",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    const keyring = fakeKeyring();
    keyring.broken = true; // headless at first: auth.json is the store
    await using h = await home(keyring);
    const setup = await h.run(
      ["sync", "setup", "--url", server.url, "--token-stdin", "--yes"],
      { stdin: token },
    );
    assert.equal(setup.code, 0, setup.io.stderr());
    assert.match(setup.io.stderr(), /Token saved in .*auth\.json/);
    assert.equal(
      JSON.parse((await h.run(["sync", "status", "--json"])).io.stdout()).token_source,
      "auth_store",
    );

    keyring.broken = false; // then a keyring answers
    const st = JSON.parse((await h.run(["sync", "status", "--json"])).io.stdout());
    assert.deepEqual([st.token_source, st.state], ["auth_store", "online"]);
    keyring.value = "stale-token-from-an-earlier-setup";
    // The keyring's token wins when present: a stale one there is reported as such.
    const stale = JSON.parse((await h.run(["sync", "status", "--json"])).io.stdout());
    assert.deepEqual([stale.token_source, stale.state], ["keyring", "auth_error"]);

    const off = await h.run(["sync", "disable", "--yes"]);
    assert.equal(off.code, 0, off.io.stderr());
    assert.equal(keyring.value, undefined, "removed from the keyring");
    assert.equal(await authFileStore(join(h.home, "auth.json"), "turso").get(), undefined);
  },
});

Deno.test({
  ...opts,
  name: "sync status: a server that never answers is given the documented 3 s, not more",
  fn: async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const held: Deno.Conn[] = [];
    const accepting = (async () => {
      try {
        for await (const conn of listener) held.push(conn); // accepted, never answered
      } catch { /* closed */ }
    })();
    await using h = await home(null);
    await Deno.mkdir(h.home, { recursive: true });
    await Deno.writeTextFile(
      join(h.home, "settings.json"),
      JSON.stringify({
        turso_enabled: true,
        turso_db_url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
      }),
    );
    await authFileStore(join(h.home, "auth.json"), "turso").set("a-token-value", new Date());
    const ctx = h.context();
    try {
      const started = performance.now();
      const st = await syncStatus(ctx);
      const took = performance.now() - started;
      assert.equal(st.state, "offline");
      assert.match(st.state_detail ?? "", /no answer in time/);
      // The probe's timeout, not the 30 s of a request: the cloud never answers.
      assert.ok(took >= STATUS_PROBE_MS - 100 && took < 20_000, `took ${took} ms`);
    } finally {
      ctx.close();
      listener.close();
      for (const c of held) c.close();
      await accepting;
    }
  },
});

Deno.test({
  ...opts,
  name: "sync setup in a terminal: after a failed check, Try again offers the same URL",
  fn: async () => {
    await using h = await home(null);
    const url = `http://127.0.0.1:${await freePort()}`; // nothing listens there
    const r = await h.run(["sync", "setup"], {
      tty: true,
      answers: [url, "token-one", true, "", "token-two", false],
    });
    assert.equal(r.code, 3, r.io.stderr());
    assert.deepEqual(r.asked.filter((q) => q === "Database URL:").length, 2);
    assert.equal(r.defaults[1], url, "the retry's default is the URL typed before");
    assert.match(r.io.stderr(), /connection refused: nothing is listening/);
    assert.match(r.io.stderr(), /^jdo: .*\(nothing was saved\)$/m);
  },
});

Deno.test("keyring: commands that need no token never ask it (no worker, no native module)", async () => {
  const keyring = fakeKeyring();
  await using h = await home(keyring);
  await Deno.mkdir(h.home, { recursive: true });
  await Deno.writeTextFile(
    join(h.home, "settings.json"),
    JSON.stringify({ turso_enabled: true, turso_db_url: "http://127.0.0.1:9", sync_auto: true }),
  );
  for (const argv of [["capture", "x"], ["list", "inbox"], ["integrity"], ["db", "status"]]) {
    const r = await h.run(argv);
    assert.equal(r.code, 0, `${argv.join(" ")}: ${r.io.stderr()}`);
  }
  assert.deepEqual(keyring.calls, []);
  await h.run(["sync", "status", "--json"]);
  assert.deepEqual(keyring.calls, ["get"], "sync status does read it");
});
