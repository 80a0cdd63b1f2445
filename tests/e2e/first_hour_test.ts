/**
 * The rough edges a new user finds in the first hour (issue 11): closed
 * pipes, help in every form, suggestions, required options, confirmations,
 * control characters, terminal width, read-only data and INIT_CWD.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type JdoResult,
  jdoTestEnv,
  MAIN,
  REPO_ROOT,
  runJdo,
  runJson,
  tempHome,
} from "../helpers/cli.ts";

type Rec = Record<string, unknown>;

function show(r: JdoResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

function ok(r: JdoResult, what = ""): JdoResult {
  assert.equal(r.code, 0, `${what} failed: ${show(r)}`);
  return r;
}

/** An error: the exit code, nothing on stdout, one line on stderr matching `message`. */
function failsWith(r: JdoResult, code: number, message: RegExp, what = ""): void {
  assert.equal(r.code, code, `${what}: expected exit ${code}; ${show(r)}`);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `${what}: stderr must be one line; ${show(r)}`);
  assert.match(lines[0], /^jdo: \S/, `${what}: ${show(r)}`);
  assert.match(r.stderr, message, `${what}: ${show(r)}`);
  assert.equal(r.stdout, "", `${what}: an error prints nothing on stdout; ${show(r)}`);
}

Deno.test("a closed pipe ends quietly with exit 0: reader gone before output, and `| head -1`", async () => {
  await using t = await tempHome();
  for (let i = 0; i < 3; i++) ok(await runJdo(t.home, ["capture", `item ${i}`]));

  for (const args of [["export"], ["list", "inbox"], ["--help"]]) {
    // The reader closes its end before jdo writes anything: every write fails with EPIPE.
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", MAIN, ...args],
      cwd: REPO_ROOT,
      env: jdoTestEnv(t.home),
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await child.stdout.cancel();
    const out = await child.output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(
      out.code,
      0,
      `jdo ${args.join(" ")} into a closed pipe: exit ${out.code}, ${stderr}`,
    );
    assert.equal(stderr, "", `jdo ${args.join(" ")} into a closed pipe says nothing`);
  }

  // A real shell pipeline, as a user types it.
  const bash = await new Deno.Command("bash", {
    args: [
      "-c",
      `"$DENO" run -A --quiet "$MAIN" export | head -c 10 >/dev/null; a=\${PIPESTATUS[0]}; ` +
      `"$DENO" run -A --quiet "$MAIN" list inbox | head -1 >/dev/null; echo "$a \${PIPESTATUS[0]}"`,
    ],
    env: jdoTestEnv(t.home, { DENO: Deno.execPath(), MAIN }),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  assert.equal(decoder.decode(bash.stdout).trim(), "0 0", decoder.decode(bash.stderr));
  assert.equal(decoder.decode(bash.stderr), "");
});

Deno.test("help works in every form: help, help CMD, CMD --help, goal help, goal help add, help goal add", async () => {
  await using t = await tempHome();
  const forms: [string[], RegExp][] = [
    [["help"], /^Usage: jdo \[options\] \[command\]/],
    [["--help"], /^Usage: jdo \[options\] \[command\]/],
    [["help", "list"], /^Usage: jdo list/],
    [["list", "--help"], /^Usage: jdo list/],
    [["goal", "help"], /^Usage: jdo goal/],
    [["goal", "--help"], /^Usage: jdo goal/],
    [["goal", "help", "add"], /^Usage: jdo goal add/],
    [["help", "goal", "add"], /^Usage: jdo goal add/],
    [["goal", "add", "--help"], /^Usage: jdo goal add/],
    [["help", "sync", "now"], /^Usage: jdo sync now/],
  ];
  for (const [args, usage] of forms) {
    const r = ok(await runJdo(t.home, args), `jdo ${args.join(" ")}`);
    assert.match(r.stdout, usage, `jdo ${args.join(" ")}: ${show(r)}`);
    assert.equal(r.stderr, "", `jdo ${args.join(" ")} prints help on stdout only`);
  }
  // The root help lists `help` itself.
  assert.match((await runJdo(t.home, ["help"])).stdout, /help \[command\.\.\.\]/);
});

Deno.test("unknown commands and options: one line with a suggestion", async () => {
  await using t = await tempHome();
  failsWith(
    await runJdo(t.home, ["goal", "list"]),
    2,
    /Unknown command "goal list".*jdo list goals/,
  );
  failsWith(await runJdo(t.home, ["lsit"]), 2, /Unknown command "lsit".*did you mean: jdo list\?/);
  failsWith(await runJdo(t.home, ["help", "lsit"]), 2, /did you mean: jdo list\?/);
  failsWith(await runJdo(t.home, ["sync", "stauts"]), 2, /did you mean: jdo sync status\?/);
  failsWith(
    await runJdo(t.home, ["frobnicate"]),
    2,
    /Unknown command "frobnicate" \(see jdo --help\)/,
  );
  failsWith(
    await runJdo(t.home, ["list", "--jsn"]),
    2,
    /unknown option '--jsn' \(did you mean --json\?\)/,
  );
  // A word after a command's own name is its argument, never a command.
  ok(await runJdo(t.home, ["capture", "help", "me"]));
});

Deno.test("required options are marked in help; missing positional arguments are reported first", async () => {
  await using t = await tempHome();
  const marked: [string[], string[]][] = [
    [["commit", "--help"], ["--to", "--due"]],
    [["vision", "add", "--help"], ["--narrative"]],
    [["milestone", "add", "--help"], ["--target"]],
  ];
  for (const [args, flags] of marked) {
    // Help wraps at 80 columns: join each option's continuation lines first.
    const help = ok(await runJdo(t.home, args)).stdout.replace(/\n {3,}(?=[^ -])/g, " ");
    for (const flag of flags) {
      assert.match(help, new RegExp(`^  ${flag} <\\w+>.*\\(required\\)$`, "m"), `${flag}: ${help}`);
    }
    assert.doesNotMatch(help, /--json.*\(required\)/, "optional flags are not marked");
  }
  failsWith(await runJdo(t.home, ["commit"]), 2, /missing required argument 'deliverable'/);
  failsWith(await runJdo(t.home, ["commit", "--due", "friday"]), 2, /missing required argument/);
  failsWith(
    await runJdo(t.home, ["commit", "x", "--due", "friday"]),
    2,
    /required option '--to <name>'/,
  );
  failsWith(await runJdo(t.home, ["vision", "add"]), 2, /missing required argument 'title'/);
  failsWith(
    await runJdo(t.home, ["vision", "add", "V"]),
    2,
    /required option '--narrative <text>'/,
  );
});

/**
 * How this machine can make a file unwritable for jdo: chmod for a normal
 * user; root ignores modes, so there `chattr +i` (immutable) is used.
 */
async function readOnlyMethod(): Promise<"chmod" | "chattr" | undefined> {
  if (Deno.uid() !== 0) return "chmod";
  const probe = await Deno.makeTempFile();
  try {
    const set = await new Deno.Command("chattr", { args: ["+i", probe], stderr: "null" }).output();
    if (!set.success) return undefined;
    await new Deno.Command("chattr", { args: ["-i", probe] }).output();
    return "chattr";
  } catch {
    return undefined;
  } finally {
    await Deno.remove(probe).catch(() => {});
  }
}

const READ_ONLY = await readOnlyMethod();

/** Makes a file or directory unwritable; returns how to undo it. */
async function makeReadOnly(path: string): Promise<() => Promise<void>> {
  if (READ_ONLY === "chattr") {
    const set = await new Deno.Command("chattr", { args: ["+i", path] }).output();
    assert.ok(set.success, `chattr +i ${path}`);
    return async () => {
      await new Deno.Command("chattr", { args: ["-i", path] }).output();
    };
  }
  const mode = (await Deno.stat(path)).mode! & 0o777;
  await Deno.chmod(path, mode & 0o555);
  return () => Deno.chmod(path, mode);
}

Deno.test({
  name: READ_ONLY
    ? `a read-only database or data directory is named with what to do (made read-only with ${READ_ONLY})`
    : "a read-only database or data directory is named (skipped: root without chattr cannot make a file read-only)",
  ignore: !READ_ONLY,
  fn: async () => {
    await using t = await tempHome();
    ok(await runJdo(t.home, ["capture", "first"]));
    // As after a clean close: no WAL, so writing means writing the database file itself.
    const db = join(t.home, "jdo.db");
    for (const suffix of ["-wal", "-shm"]) await Deno.remove(db + suffix).catch(() => {});
    const undo = [await makeReadOnly(db), await makeReadOnly(t.home)];
    try {
      const write = await runJdo(t.home, ["capture", "second"]);
      failsWith(write, 1, new RegExp(`Cannot (write|open) ${db}: permission denied`), "capture");
      assert.match(write.stderr, /permissions, or set JDO_HOME/);
      assert.doesNotMatch(write.stderr, /SQLITE_|os error|Unexpected/);
    } finally {
      for (const u of undo.reverse()) await u();
    }

    // A data directory that cannot be created.
    const parent = join(t.root, "locked");
    await Deno.mkdir(parent);
    const unlock = await makeReadOnly(parent);
    try {
      const home = join(parent, "home");
      const r = await runJdo(home, ["list"]);
      failsWith(r, 1, new RegExp(`Cannot write ${home}: permission denied`), "list");
      assert.doesNotMatch(r.stderr, /os error|Unexpected/);
      const out = join(parent, "x.json");
      const exported = await runJdo(t.home, ["export", "--out", out]);
      failsWith(exported, 1, new RegExp(`Cannot write ${out}: permission denied`), "export");
      assert.doesNotMatch(exported.stderr, /os error|\.tmp/);
    } finally {
      await unlock();
    }
  },
});

Deno.test("deno task -q start: relative paths mean the caller's directory (INIT_CWD), and no Task line", async () => {
  await using t = await tempHome();
  const here = join(t.root, "work");
  await Deno.mkdir(here);
  const task = async (...args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "--config", join(REPO_ROOT, "deno.json"), "start", ...args],
      cwd: here,
      env: jdoTestEnv(t.home),
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  };
  ok(await task("capture", "from a task"));
  const exported = ok(await task("export", "--out", "x.json"), "export --out x.json");
  assert.doesNotMatch(exported.stderr, /^Task /m, "no Task line with -q");
  const doc = JSON.parse(await Deno.readTextFile(join(here, "x.json")));
  assert.equal(doc.inbox.length, 1);
  assert.ok(
    !await Deno.stat(join(REPO_ROOT, "x.json")).then(() => true, () => false),
    "nothing is written in the repository",
  );
  ok(await task("db", "backup", "--out", "b.db"));
  assert.ok((await Deno.stat(join(here, "b.db"))).isFile);
  const imported = ok(await task("import", "x.json"), "import x.json");
  assert.match(imported.stdout, /1 already present/);
  ok(await task("db", "restore", "b.db", "--yes"), "db restore b.db");
});

Deno.test("odds and ends: db status counts the WAL; sync conflicts --limit 0 is a usage error; child IDs are short", async () => {
  await using t = await tempHome();
  const c = await runJson<Rec>(t.home, [
    "commit",
    "Parent",
    "--to",
    "A",
    "--due",
    "2030-01-01",
    "--json",
  ]);
  const task = await runJson<Rec>(t.home, ["task", "add", String(c.id), "Child step", "--json"]);
  const status = await runJson<Rec>(t.home, ["db", "status", "--json"]);
  const wal = await Deno.stat(join(t.home, "jdo.db-wal")).then((i) => i.size, () => 0);
  assert.equal(typeof status.wal_bytes, "number");
  assert.equal(status.wal_bytes, wal);
  assert.equal(status.total_bytes, Number(status.size_bytes) + wal);
  const text = ok(await runJdo(t.home, ["db", "status"])).stdout;
  if (wal > 0) assert.match(text, /KiB database \+ \d+ KiB write-ahead log/);

  failsWith(
    await runJdo(t.home, ["sync", "conflicts", "--limit", "0"]),
    2,
    /--limit must be at least 1/,
  );
  ok(await runJdo(t.home, ["sync", "conflicts", "--limit", "1"]));

  // `show COMMITMENT` lists its tasks with the same short IDs as `list tasks` (6+, not 8).
  const shown = ok(await runJdo(t.home, ["show", String(c.id)])).stdout;
  const listed = ok(await runJdo(t.home, ["list", "tasks"])).stdout;
  const short = listed.match(/^([0-9a-f]{6,})\s/m)?.[1];
  assert.ok(short && String(task.id).startsWith(short), listed);
  assert.match(shown, new RegExp(`^  ${short}  \\S`, "m"), shown);
  // The task list's COMMITMENT column is the commitment's short ID too.
  const parent = ok(await runJdo(t.home, ["list"])).stdout.match(/^([0-9a-f]{6,})\s/m)?.[1];
  assert.match(listed, new RegExp(`\\s${parent}\\s`), listed);
});
