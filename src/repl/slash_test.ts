import assert from "node:assert/strict";
import { helpLines, moreCommands, parseSlash, suggest } from "./slash.ts";

Deno.test("parseSlash: blank lines do nothing; text without a slash is never a command", () => {
  assert.deepEqual(parseSlash(""), { type: "none" });
  assert.deepEqual(parseSlash("   "), { type: "none" });
  assert.deepEqual(parseSlash("buy milk"), { type: "text", text: "buy milk" });
  assert.deepEqual(parseSlash("  commit x "), { type: "text", text: "commit x" });
});

Deno.test("parseSlash: /commit passes the words, quoted or not, to `jdo commit`", () => {
  assert.deepEqual(parseSlash("/commit Ship it --to Alice --due friday"), {
    type: "run",
    argv: ["commit", "Ship", "it", "--to", "Alice", "--due", "friday"],
  });
  assert.deepEqual(parseSlash(`/commit "Ship it" --to 'Ann Lee' --due "next monday"`), {
    type: "run",
    argv: ["commit", "Ship it", "--to", "Ann Lee", "--due", "next monday"],
  });
  assert.equal(parseSlash("/commit").type, "error");
});

Deno.test("parseSlash: /list, /view, /complete map to list, show, complete", () => {
  assert.deepEqual(parseSlash("/list"), { type: "run", argv: ["list"], list: true });
  assert.deepEqual(parseSlash("/list goals --all"), {
    type: "run",
    argv: ["list", "goals", "--all"],
    list: true,
  });
  assert.deepEqual(parseSlash("/view 1a2b"), { type: "run", argv: ["show", "1a2b"] });
  assert.deepEqual(parseSlash("/show 1a2b --json"), {
    type: "run",
    argv: ["show", "1a2b", "--json"],
  });
  assert.deepEqual(parseSlash("/complete 1a2b"), { type: "run", argv: ["complete", "1a2b"] });
  assert.deepEqual(parseSlash("/done 1a2b"), { type: "run", argv: ["complete", "1a2b"] });
  assert.deepEqual(parseSlash("/view"), { type: "error", message: "Usage: /view ID" });
  assert.deepEqual(parseSlash("/complete --json"), {
    type: "error",
    message: "Usage: /complete ID",
  });
});

Deno.test("parseSlash: command names ignore case; extra spaces are fine", () => {
  assert.deepEqual(parseSlash("  /LIST   inbox "), {
    type: "run",
    argv: ["list", "inbox"],
    list: true,
  });
  assert.deepEqual(parseSlash("/Exit"), { type: "exit" });
});

Deno.test("parseSlash: /1…/5 pick from the last list", () => {
  for (const n of [1, 2, 3, 4, 5, 12]) {
    assert.deepEqual(parseSlash(`/${n}`), { type: "pick", index: n });
  }
  assert.equal(parseSlash("/0").type, "error");
  assert.equal(parseSlash("/1 extra").type, "error");
});

Deno.test("parseSlash: /help, /dashboard, /sync, /exit and their aliases", () => {
  assert.deepEqual(parseSlash("/help"), { type: "help" });
  assert.deepEqual(parseSlash("/"), { type: "help" });
  assert.deepEqual(parseSlash("/dashboard"), { type: "dashboard" });
  assert.deepEqual(parseSlash("/sync"), { type: "sync" });
  assert.deepEqual(parseSlash("/exit"), { type: "exit" });
  assert.deepEqual(parseSlash("/quit"), { type: "exit" });
  assert.equal(parseSlash("/exit now").type, "error");
  assert.equal(parseSlash("/sync now").type, "error");
});

Deno.test("parseSlash: /help COMMAND shows that command's options", () => {
  assert.deepEqual(parseSlash("/help commit"), { type: "run", argv: ["commit", "--help"] });
  assert.deepEqual(parseSlash("/help /view"), { type: "run", argv: ["show", "--help"] });
  assert.deepEqual(parseSlash("/help list"), {
    type: "run",
    argv: ["list", "--help"],
    list: true,
  });
  assert.deepEqual(parseSlash("/help exit"), { type: "help" });
  assert.equal(parseSlash("/help nope").type, "error");
});

Deno.test("parseSlash: unknown commands are one-line errors, with a suggestion when close", () => {
  const bogus = parseSlash("/bogus");
  assert.equal(bogus.type, "error");
  assert.match((bogus as { message: string }).message, /^Unknown command "\/bogus"\./);
  assert.doesNotMatch((bogus as { message: string }).message, /\n/);
  const typo = parseSlash("/comit Ship it");
  assert.match((typo as { message: string }).message, /Did you mean \/commit\?/);
  // Shell commands are not jdo commands.
  assert.equal(parseSlash("/delete abcd").type, "error");
  assert.equal(parseSlash("/rm -rf").type, "error");
});

Deno.test("parseSlash: a quoting mistake is an error, not an exception", () => {
  assert.deepEqual(parseSlash('/commit "Ship it --to Bob'), {
    type: "error",
    message: 'Unterminated " quote',
  });
});

Deno.test("suggest: closest name within two edits, or a prefix", () => {
  assert.equal(suggest("lst"), "list");
  assert.equal(suggest("compete"), "complete");
  assert.equal(suggest("dash"), "dashboard");
  assert.equal(suggest("xyzzy"), undefined);
});

Deno.test("helpLines: every spec'd command is listed", () => {
  const usages = helpLines().map(([usage]) => usage).join("\n");
  for (const name of ["/help", "/list", "/view", "/1", "/commit", "/complete", "/sync", "/exit"]) {
    assert.ok(usages.includes(name), `${name} missing from /help`);
  }
  assert.ok(moreCommands().includes("/start"));
});

Deno.test("parseSlash: /edit, /start, /at-risk, /abandon and /delete reach their commands", () => {
  assert.deepEqual(parseSlash("/edit 1a2b --title New"), {
    type: "run",
    argv: ["edit", "1a2b", "--title", "New"],
  });
  for (const verb of ["start", "at-risk", "abandon"]) {
    assert.deepEqual(parseSlash(`/${verb} 1a2b`), { type: "run", argv: [verb, "1a2b"] });
  }
  assert.deepEqual(parseSlash("/delete 1a2b --yes"), {
    type: "run",
    argv: ["delete", "1a2b", "--yes"],
  });
  // The REPL never asks: without --yes nothing is deleted, and it says how.
  const asked = parseSlash("/delete 1a2b");
  assert.equal(asked.type, "error");
  assert.match((asked as { message: string }).message, /--yes/);
  assert.equal(parseSlash("/edit").type, "error");
  assert.doesNotMatch(JSON.stringify(parseSlash("/edit 1a2b")), /exit/);
  assert.ok(moreCommands().includes("/edit") && moreCommands().includes("/delete"));
});
