/**
 * `jdo sync setup` in a real terminal (tmux), the way a person would run it:
 * reading the guidance, typing a wrong URL, a wrong token, retrying, and
 * answering the backup and upload questions, against a real sqld with JWT
 * auth. Each run uses its own tmux server socket (`tmux -L`), so it never
 * touches the developer's tmux sessions, and kills that server when done.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Client, createClient } from "@libsql/client";
import { isolatedFetch, startSqld } from "../helpers/sqld.ts";
import { runJdo, seed, tmuxAvailable, TmuxSession, tmuxTestName } from "../helpers/tmux.ts";

const HAVE_TMUX = await tmuxAvailable();

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** A terminal for `jdo sync setup`: 1000 lines of history, waits of up to 15 s, polled every 50 ms. */
const newSession = () =>
  new TmuxSession({ name: "setup", history: 1000, timeoutMs: 15_000, pollMs: 50 });

/**
 * The question being asked: the last "? …" line, when it is at the bottom of
 * the output (the password prompt shows one line of help under it).
 * Answered questions turn into "✔ …" lines, so a stale one never matches.
 */
function activePrompt(screen: string): string | undefined {
  const lines = screen.split("\n");
  for (let i = lines.length - 1; i >= Math.max(0, lines.length - 2); i--) {
    if (lines[i].startsWith("? ")) return lines[i];
  }
  return undefined;
}

/** Waits until the question matching `re` is asked; returns the screen. */
async function question(tmux: TmuxSession, re: RegExp, what: string): Promise<string> {
  return await tmux.waitFor(what, (screen) => {
    const prompt = activePrompt(screen);
    return prompt !== undefined && re.test(prompt) ? screen : undefined;
  });
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

async function readText(path: string): Promise<string | undefined> {
  return await Deno.readTextFile(path).catch((error) => {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  });
}

/** Fails if any 12-character piece of the secret part of `token` is in `text`. */
function assertNoToken(text: string, token: string, where: string): void {
  assert.ok(!text.includes(token), `the whole token is in ${where}`);
  // A JWT's header is the same for every token; its payload and signature are not.
  const secret = token.includes(".") ? token.slice(token.indexOf(".") + 1) : token;
  const size = Math.min(12, secret.length);
  for (let i = 0; i + size <= secret.length; i++) {
    const piece = secret.slice(i, i + size);
    assert.ok(!text.includes(piece), `a piece of the token ("${piece}") is in ${where}`);
  }
}

/** A remote client on the sqld with its own connection pool. */
function openRemote(url: string, token: string): Client & Disposable {
  const http = isolatedFetch({ timeoutMs: 10_000 });
  const client = createClient({ url, authToken: token, fetch: http.fetch });
  return Object.assign(client, {
    [Symbol.dispose]() {
      client.close();
      http.close();
    },
  });
}

async function tableNames(url: string, token: string): Promise<string[]> {
  using remote = openRemote(url, token);
  const rs = await remote.execute(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
  );
  return rs.rows.map((r) => String(r.name));
}

interface Settings {
  turso_enabled?: boolean;
  turso_db_url?: string | null;
  device_id?: string;
}

type Auth = Record<string, { token: string; saved_at: string }>;

const skipped = (name: string) => tmuxTestName(name, HAVE_TMUX);

Deno.test({
  name: skipped(
    "sync setup in a terminal: guidance, bad URL, hidden bad token, retry, backup, upload",
  ),
  ignore: !HAVE_TMUX,
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const good = await server.token("rw");
    const bad = "not-a-real-token-Q7x9Kp2wZ";
    const home = await Deno.makeTempDir({ prefix: "jdo-setup-tty-" });
    const tmux = newSession();
    try {
      await seed(home, ["commit", "Quarterly report", "--to", "Alice", "--due", "2026-12-01"]);
      await seed(home, ["commit", "Budget draft", "--to", "Bob", "--due", "2026-12-01"]);

      await tmux.start(home, ["sync", "setup"]);

      // 1. The guidance, then the URL question.
      const guidance = await question(tmux, /^\? Database URL:/, "the URL question");
      assert.match(guidance, /turso db create jdo/);
      assert.match(guidance, /turso db tokens create jdo/);
      assert.match(guidance, /turso db show --url jdo/);

      // 2. http:// on a host that is not this machine: explained, then "Try again?".
      await tmux.type("http://example.com");
      const refused = await question(tmux, /^\? Try again\? \(Y\/n\)/, "Try again? after http://");
      assert.match(
        refused,
        /^✗ http:\/\/ is only allowed for a server on this machine \(localhost\)/m,
      );
      assert.doesNotMatch(refused, /Checking /, "a refused URL is not contacted");
      await tmux.keys("Enter"); // default: yes

      // 3. The sqld URL, then a bad token: masked while typed, rejected.
      await question(tmux, /^\? Database URL:/, "the URL question again");
      await tmux.type(server.url);
      await question(tmux, /^\? Token \(input hidden\):/, "the token question");
      await tmux.type(bad, false);
      // Masked with one star a character, or not echoed at all: give the
      // terminal a moment to show the typed text, then look.
      const typing = await tmux.waitFor(
        "the typed token to be drawn",
        (s) => activePrompt(s)?.endsWith("*".repeat(bad.length)) ? s : undefined,
        1_500,
      ).catch(() => tmux.screen());
      assert.match(activePrompt(typing) ?? "", /^\? Token \(input hidden\):( \**)?$/, typing);
      assertNoToken(typing, bad, "the screen while the bad token is typed");
      await tmux.keys("Enter");
      const rejected = await question(
        tmux,
        /^\? Try again\? \(Y\/n\)/,
        "Try again? after a bad token",
      );
      const host = new URL(server.url).host;
      assert.match(rejected, new RegExp(`^Checking ${escape(host)}…$`, "m"));
      assert.match(
        rejected,
        new RegExp(`^✗ The cloud database at ${escape(host)} rejected the token`, "m"),
      );
      assertNoToken(rejected, bad, "the screen after the bad token");
      assert.deepEqual(await tableNames(server.url, good), [], "nothing was written to the cloud");
      await tmux.keys("Enter");

      // 4. Again, with the good token: connected; then backup and upload (defaults: yes).
      await question(tmux, /^\? Database URL:/, "the URL question a third time");
      await tmux.type(server.url);
      await question(tmux, /^\? Token \(input hidden\):/, "the token question again");
      await tmux.type(good);
      const connected = await question(
        tmux,
        /^\? This device has 4 items\. Back up the local database first\? \(Y\/n\)/,
        "the backup question",
      );
      assert.match(
        connected,
        new RegExp(`^✓ Connected to ${escape(host)}: token accepted`, "m"),
      );
      await tmux.keys("Enter");
      const backedUp = await question(
        tmux,
        /^\? Upload these 4 items to the cloud\? \(Y\/n\)/,
        "the upload question",
      );
      const backupPath = backedUp.match(/^Backed up to (.+)$/m)?.[1];
      assert.ok(backupPath, `a "Backed up to" line:\n${backedUp}`);
      assert.match(
        backupPath,
        new RegExp(`^${escape(home)}/backups/jdo-\\d{8}-\\d{6}\\.db$`),
      );
      assert.equal((await Deno.stat(backupPath)).mode! & 0o777, 0o600);
      await tmux.keys("Enter");

      assert.equal(await tmux.exitStatus("setup to finish"), "0");
      const done = await tmux.screen();
      // 2 commitments + their 2 stakeholders.
      assert.match(done, /^Uploading \[#{30}\] 4\/4 rows\s+\d+\/s$/m);
      assert.match(done, /^✓ Sync is on: ↑ 4 uploaded, ↓ 0 downloaded$/m);
      assert.doesNotMatch(done, /Unexpected error|^\s+at /m);

      // 5. What was saved: settings, the token (0600), and never the token in view.
      const settings = await readJson<Settings>(join(home, "settings.json"));
      assert.equal(settings?.turso_enabled, true);
      assert.equal(settings?.turso_db_url, server.url);
      const authPath = join(home, "auth.json");
      assert.equal((await Deno.stat(authPath)).mode! & 0o777, 0o600);
      const auth = await readJson<Auth>(authPath);
      assert.equal(auth?.turso?.token, good);
      assertNoToken(done, good, "the terminal history");
      assertNoToken(done, bad, "the terminal history");
      const log = await readText(join(home, "logs", "jdo.log"));
      assert.ok(log?.includes("sync ok"), `the log records the sync: ${log}`);
      assertNoToken(log!, good, "logs/jdo.log");
      assertNoToken(log!, bad, "logs/jdo.log");

      // The rows really are in the cloud.
      using remote = openRemote(server.url, good);
      const counted = await remote.execute(
        "SELECT (SELECT count(*) FROM commitments) AS c, (SELECT count(*) FROM stakeholders) AS s",
      );
      assert.deepEqual([Number(counted.rows[0].c), Number(counted.rows[0].s)], [2, 2]);
    } finally {
      await tmux.kill();
      await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: skipped("sync setup in a terminal: answering no to Try again? saves nothing"),
  ignore: !HAVE_TMUX,
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const readOnly = await server.token("ro");
    const home = await Deno.makeTempDir({ prefix: "jdo-setup-tty-" });
    const tmux = newSession();
    try {
      await seed(home, ["commit", "Quarterly report", "--to", "Alice", "--due", "2026-12-01"]);
      await tmux.start(home, ["sync", "setup"]);
      await question(tmux, /^\? Database URL:/, "the URL question");
      await tmux.type(server.url);
      await question(tmux, /^\? Token \(input hidden\):/, "the token question");
      await tmux.type(readOnly);
      const failed = await question(tmux, /^\? Try again\? \(Y\/n\)/, "Try again?");
      assert.match(failed, /^✗ The token for \S+ is read-only; jdo needs a token that can write$/m);
      await tmux.type("n");

      assert.equal(await tmux.exitStatus("setup to give up"), "3");
      const screen = await tmux.screen();
      assert.match(screen, /^jdo: .*read-only.*\(nothing was saved\)/m);
      assert.doesNotMatch(screen, /Sync is on|Backed up/);
      assertNoToken(screen, readOnly, "the terminal history");

      const settings = await readJson<Settings>(join(home, "settings.json"));
      assert.ok(
        settings === undefined || settings.turso_enabled === false,
        `settings: ${JSON.stringify(settings)}`,
      );
      assert.equal(settings?.turso_db_url ?? null, null);
      const auth = await readJson<Auth>(join(home, "auth.json"));
      assert.equal(auth?.turso, undefined, "no token stored");
      for (const dir of ["backups", "cloud"]) {
        const made = await Deno.stat(join(home, dir)).then(() => true, () => false);
        assert.equal(made, false, `${dir}/ was not created`);
      }
      assert.deepEqual(await tableNames(server.url, await server.token("rw")), []);
    } finally {
      await tmux.kill();
      await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: skipped("sync setup in a terminal: already set up, Replace? defaults to no"),
  ignore: !HAVE_TMUX,
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    const home = await Deno.makeTempDir({ prefix: "jdo-setup-tty-" });
    const tmux = newSession();
    try {
      await seed(home, ["commit", "Quarterly report", "--to", "Alice", "--due", "2026-12-01"]);
      const first = await runJdo(
        home,
        ["sync", "setup", "--url", server.url, "--token-stdin", "--yes"],
        token,
      );
      assert.equal(first.code, 0, first.stderr);
      const files = ["settings.json", "auth.json", "logs/jdo.log"];
      const before = await Promise.all(files.map((f) => readText(join(home, f))));
      const backupsBefore = [...Deno.readDirSync(join(home, "backups"))].length;

      await tmux.start(home, ["sync", "setup"]);
      const asked = await question(
        tmux,
        /^\? Sync is already set up with \S+\. Replace that configuration\? \(y\/N\)/,
        "the replace question",
      );
      assert.match(asked, new RegExp(`set up with ${escape(server.url)}\\.`));
      assert.doesNotMatch(asked, /turso db create/, "no guidance before the answer");
      await tmux.keys("Enter");

      assert.equal(await tmux.exitStatus("setup to stop"), "1");
      const screen = await tmux.screen();
      assert.match(screen, /^jdo: Kept the current sync configuration$/m);
      assert.doesNotMatch(screen, /Database URL|Token|Sync is on/);

      const after = await Promise.all(files.map((f) => readText(join(home, f))));
      assert.deepEqual(after, before, "settings, token and log are unchanged");
      assert.equal([...Deno.readDirSync(join(home, "backups"))].length, backupsBefore);
    } finally {
      await tmux.kill();
      await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  },
});
