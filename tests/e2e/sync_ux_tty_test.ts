/**
 * Issue 18 in a real terminal (tmux): `--token-stdin` at a terminal asks for
 * the token without echoing it, and Ctrl-C during `sync now` ends with its
 * own line, not "^C" glued to the shell's next prompt.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSqld } from "../helpers/sqld.ts";
import { startFaultProxy } from "../helpers/fault_proxy.ts";
import { runJdo, tmuxAvailable, TmuxSession, tmuxTestName } from "../helpers/tmux.ts";

const HAVE_TMUX = await tmuxAvailable();
const opts = { sanitizeResources: false, sanitizeOps: false, ignore: !HAVE_TMUX };

async function tempHome(): Promise<{ home: string } & AsyncDisposable> {
  const root = await Deno.makeTempDir({ prefix: "jdo-ux-tty-" });
  return {
    home: join(root, "home"),
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }).catch(() => {}),
  };
}

Deno.test({
  ...opts,
  name: tmuxTestName(
    "sync setup --token-stdin at a terminal asks for the token, hidden",
    HAVE_TMUX,
  ),
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using dir = await tempHome();
    await using tmux = new TmuxSession({ name: "tokenstdin", timeoutMs: 20_000 });
    await tmux.start(dir.home, ["sync", "setup", "--url", server.url, "--token-stdin", "--yes"]);
    await tmux.waitFor("the hidden token prompt", /Token \(input hidden\)/);
    await tmux.type(token);
    assert.equal(await tmux.exitStatus("setup to finish"), "0", await tmux.screen());
    const screen = await tmux.screen();
    assert.match(screen, /Sync is on/);
    assert.ok(!screen.includes(token.slice(-16)), `the token was echoed:\n${screen}`);
  },
});

Deno.test({
  ...opts,
  name: tmuxTestName("Ctrl-C during sync now prints its own line in the terminal", HAVE_TMUX),
  fn: async () => {
    await using server = await startSqld({ auth: true });
    await using proxy = await startFaultProxy(server.port);
    const token = await server.token("rw");
    await using dir = await tempHome();
    const set = await runJdo(
      dir.home,
      ["sync", "setup", "--url", proxy.url, "--token-stdin", "--yes"],
      `${token}\n`,
    );
    assert.equal(set.code, 0, set.stderr);
    proxy.setMode("blackhole");
    proxy.cutAll();
    await using tmux = new TmuxSession({ name: "ctrlc", timeoutMs: 20_000 });
    await tmux.start(dir.home, ["sync", "now"]);
    const lock = join(dir.home, "sync.lock");
    for (let i = 0; i < 400 && !await Deno.stat(lock).then(() => true, () => false); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await tmux.keys("C-c");
    assert.equal(await tmux.exitStatus("jdo to stop"), "130");
    assert.match(
      await tmux.screen(),
      /^jdo: Interrupted; nothing lost — run `jdo sync now` to finish$/m,
    );
  },
});
