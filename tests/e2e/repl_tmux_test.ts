/**
 * Drives the real REPL in a real terminal (tmux), the way a person would:
 * typing commands, pressing arrow keys, Ctrl-U, Ctrl-C, and reading the
 * screen. Each run uses its own tmux server socket, so it never touches the
 * developer's tmux sessions, and kills that server when done.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { seed, tmuxAvailable, TmuxSession, tmuxTestName } from "../helpers/tmux.ts";

const HAVE_TMUX = await tmuxAvailable();

/** What was printed after the last time `command` was typed at the prompt. */
function after(screen: string, command: string): string | undefined {
  const marker = `jdo› ${command}\n`;
  const at = screen.lastIndexOf(marker);
  return at < 0 ? undefined : screen.slice(at + marker.length);
}

/** Output of `command`, once the next prompt shows it has finished. */
function answered(screen: string, command: string): string | undefined {
  const rest = after(screen, command);
  if (rest === undefined) return undefined;
  const end = rest.search(/^jdo›/m);
  return end < 0 ? undefined : rest.slice(0, end);
}

Deno.test({
  name: tmuxTestName(
    "REPL in tmux: dashboard, /commit, /list, history keys, /N, errors, /exit, Ctrl-C",
    HAVE_TMUX,
  ),
  ignore: !HAVE_TMUX,
  fn: async () => {
    const home = await Deno.makeTempDir({ prefix: "jdo-repl-e2e-" });
    const tmux = new TmuxSession({ name: "repl" });
    try {
      await seed(home, ["commit", "Ship report", "--to", "Alice", "--due", "tomorrow"]);

      // 1. The dashboard, then a prompt.
      await tmux.start(home);
      await tmux.waitFor(
        "the dashboard",
        (s) => s.includes("Ship report") && /^jdo›/m.test(s),
        20_000,
      );
      const dashboard = await tmux.screen();
      assert.match(dashboard, /1 active commitment/);
      assert.match(dashboard, / 1\.\s+[0-9a-f]{6}\s+.*Ship report → Alice/);

      // 2. /commit with the same arguments as `jdo commit`.
      const commitLine = '/commit Second thing --to Bob --due "in 3 days"';
      await tmux.type(commitLine);
      const committed = await tmux.waitFor("/commit to answer", (s) => answered(s, commitLine));
      assert.match(committed, /Committed [0-9a-f]{6}: "Second thing" to Bob, due \d{4}-\d\d-\d\d/);

      // 3. /list shows both.
      await tmux.type("/list");
      const listed = await tmux.waitFor("/list to answer", (s) => answered(s, "/list"));
      assert.match(listed, /Ship report/);
      assert.match(listed, /Second thing/);
      const rows = listed.split("\n").filter((line) => /^[0-9a-f]{6}\s/.test(line));
      assert.equal(rows.length, 2, listed);
      const first = rows[0].includes("Ship report") ? "Ship report" : "Second thing";

      // 4. History: Up twice brings back the /commit line, Ctrl-U clears it.
      await tmux.keys("Up");
      await tmux.waitFor(
        "Up to recall /list",
        async () => (await tmux.inputLine()) === "jdo› /list" || undefined,
      );
      await tmux.keys("Up");
      await tmux.waitFor(
        "Up again to recall /commit",
        async () => (await tmux.inputLine()) === `jdo› ${commitLine}` || undefined,
      );
      await tmux.keys("C-u");
      await tmux.waitFor(
        "Ctrl-U to clear the line",
        async () => (await tmux.inputLine()) === "jdo›" || undefined,
      );

      // 5. /1 shows the first commitment of the last list in full.
      await tmux.type("/1");
      const picked = await tmux.waitFor("/1 to answer", (s) => answered(s, "/1"));
      assert.match(picked, new RegExp(`^ {2}Deliverable\\s+${first}$`, "m"));
      assert.match(picked, /^ {2}Status\s+pending$/m);

      // 6. An unknown command is a one-line error; the REPL still answers.
      await tmux.type("/bogus");
      const bogus = await tmux.waitFor("/bogus to answer", (s) => answered(s, "/bogus"));
      assert.equal(bogus.trim(), 'jdo: Unknown command "/bogus". Type /help for commands.');
      await tmux.type("/help");
      const help = await tmux.waitFor("/help to answer", (s) => answered(s, "/help"));
      assert.match(help, /\/commit TEXT/);
      assert.match(help, /\/exit/);

      // 7. Text without a slash is not captured: a hint instead.
      await tmux.type("buy milk");
      const hint = await tmux.waitFor("a hint", (s) => answered(s, "buy milk"));
      assert.equal(hint.trim(), "Type /help for commands, or /commit … to make a commitment");

      // 8. /exit ends the process cleanly.
      await tmux.type("/exit");
      assert.equal(
        await tmux.exitStatus("jdo to exit after /exit"),
        "0",
        `jdo exits with status 0; the screen shows:\n${await tmux.screen()}`,
      );
      const last = await tmux.screen();
      assert.doesNotMatch(last, /error: |Uncaught|\n\s+at /, "no stack trace on the screen");

      // 9. History persists, in a file only the user can read.
      const historyPath = join(home, "repl_history");
      const saved = (await Deno.readTextFile(historyPath)).split("\n");
      assert.ok(saved.includes(commitLine) && saved.includes("/bogus"), saved.join("\n"));
      assert.equal((await Deno.stat(historyPath)).mode! & 0o777, 0o600);
      await tmux.kill();

      // 10. A new session: Up recalls the last line of the previous one;
      // Ctrl-C clears a typed line; on an empty line the first Ctrl-C says how
      // to leave, and a second one in a row leaves.
      const again = new TmuxSession({ name: "repl" });
      try {
        await again.start(home);
        await again.waitFor("the second dashboard", (s) => /^jdo›/m.test(s), 20_000);
        await again.keys("Up");
        await again.waitFor(
          "Up to recall /exit",
          async () => (await again.inputLine()) === "jdo› /exit" || undefined,
        );
        await again.keys("C-c");
        await again.waitFor(
          "Ctrl-C to clear the line",
          async () => (await again.inputLine()) === "jdo›" || undefined,
        );
        assert.equal(await again.paneDead(), false, "Ctrl-C on a typed line does not exit");
        await again.keys("C-c");
        await again.waitFor(
          "the first Ctrl-C on an empty line to say how to leave",
          /\(press Ctrl-C again or Ctrl-D to exit\)\n(.*\n)*jdo›\s*$/,
        );
        assert.equal(await again.paneDead(), false, "one Ctrl-C on an empty line does not exit");
        // Typing a line in between starts over: Ctrl-C once more only says it again.
        await again.type("/help");
        await again.waitFor("/help to answer", (s) => answered(s, "/help"));
        await again.keys("C-c");
        await again.waitFor(
          "Ctrl-C after a command to say how to leave again",
          (s) => (s.match(/\(press Ctrl-C again or Ctrl-D to exit\)/g) ?? []).length === 2,
        );
        assert.equal(await again.paneDead(), false, "Ctrl-C after a command does not exit");
        await again.keys("C-c");
        assert.equal(
          await again.exitStatus("Ctrl-C on an empty line to exit"),
          "0",
          `jdo exits with status 0; the screen shows:\n${await again.screen()}`,
        );
      } finally {
        await again.kill();
      }
    } finally {
      await tmux.kill();
      await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  },
});
