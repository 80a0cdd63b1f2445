/**
 * The REPL in a narrow (40 columns) and a wide (120 columns) real terminal:
 * the dashboard and lists fit, cut with "…" instead of wrapping mid-word;
 * slash commands for every verb; control characters never reach the screen.
 */
import assert from "node:assert/strict";
import { seed, tmuxAvailable, TmuxSession, tmuxTestName } from "../helpers/tmux.ts";

const HAVE_TMUX = await tmuxAvailable();

/** Lines of `text` wider than `width` (tmux joins wrapped lines, so these wrapped). */
function tooWide(text: string, width: number): string[] {
  return text.split("\n").filter((line) => [...line].length > width);
}

Deno.test({
  name: tmuxTestName(
    "REPL in tmux at 40 and 120 columns: dashboard and /list fit; /edit, /start work; no raw ESC",
    HAVE_TMUX,
  ),
  ignore: !HAVE_TMUX,
  fn: async () => {
    const home = await Deno.makeTempDir({ prefix: "jdo-repl-narrow-" });
    try {
      await seed(home, [
        "commit",
        "Prepare the quarterly infrastructure budget review for the board",
        "--to",
        "Bartholomew Featherstonehaugh",
        "--due",
        "tomorrow",
      ]);
      // A title with a terminal escape in it (clear screen), as if synced from elsewhere.
      await seed(home, ["commit", "Evil \x1b[2J\x1b[31mred", "--to", "Mal", "--due", "in 3 days"]);
      for (const width of [40, 120]) {
        await using tmux = new TmuxSession({ name: `narrow${width}` });
        await tmux.start(home, [], width);
        const dashboard = await tmux.waitFor(
          `the dashboard at ${width} columns`,
          (s) => /^jdo›/m.test(s) && s.includes("Prepare") ? s : undefined,
          20_000,
        );
        const head = dashboard.slice(0, dashboard.lastIndexOf("jdo›"));
        assert.deepEqual(tooWide(head, width), [], `dashboard at ${width}:\n${dashboard}`);
        assert.match(head, /Evil \^\[\[2J/, "the escape is shown, not obeyed");
        if (width === 40) assert.match(head, /…/, "cut with …");
        else assert.match(head, /Prepare the quarterly infrastructure budget revie… → Bartholomew/);

        await tmux.type("/list");
        const listed = await tmux.waitFor("/list", (s) => {
          const at = s.lastIndexOf("jdo› /list\n");
          const rest = at < 0 ? "" : s.slice(at + "jdo› /list\n".length);
          return /^jdo›/m.test(rest) ? rest.slice(0, rest.search(/^jdo›/m)) : undefined;
        });
        assert.deepEqual(tooWide(listed, width), [], `/list at ${width}:\n${listed}`);
        const id = listed.match(/^([0-9a-f]{6})\s/m)?.[1];
        assert.ok(id, listed);

        if (width === 40) {
          await tmux.type(`/edit ${id} --notes checked`);
          await tmux.waitFor("/edit to answer", /Updated commitment [0-9a-f]{6}/);
          await tmux.type(`/start ${id}`);
          await tmux.waitFor("/start to answer", /is now in progress/);
        }
        await tmux.type("/exit");
        assert.equal(await tmux.exitStatus(`jdo to exit at ${width}`), "0");
      }
    } finally {
      await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  },
});
