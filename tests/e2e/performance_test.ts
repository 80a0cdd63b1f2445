/**
 * Large-data behaviour of the CLI: clean exits (no WAL left behind) and
 * commands whose cost does not grow with the table.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDataset } from "../../scripts/bench_lib.ts";
import { fastAnswer } from "../../src/cli/fast_path.ts";
import { MAIN, runJdo, runJson, tempHome } from "../helpers/cli.ts";
import { clockAtEnv } from "../helpers/test_clock.ts";

async function walBytes(home: string): Promise<number> {
  try {
    return (await Deno.stat(join(home, "jdo.db-wal"))).size;
  } catch {
    return 0;
  }
}

Deno.test("a 100,000-row import leaves no WAL behind, nor do the commands after it", async () => {
  await using t = await tempHome();
  const file = join(t.root, "big.json");
  await Deno.writeTextFile(file, makeDataset(100_000).json);
  const imported = await runJson<{ imported: number }>(t.home, ["import", file, "--json"]);
  assert.equal(imported.imported, 100_050);
  const after = await walBytes(t.home);
  assert(after < 1_000_000, `WAL after the import: ${after} bytes`);
  // Into the empty database it loaded with a rollback journal; it is in WAL mode again
  // (header bytes 18 and 19 are 2 for WAL).
  const header = (await Deno.readFile(join(t.home, "jdo.db"))).subarray(18, 20);
  assert.deepEqual([...header], [2, 2], "jdo.db is back in WAL mode");
  // A second large import (into a database with rows) goes through the WAL, emptied at exit.
  const more = join(t.root, "more.json");
  await Deno.writeTextFile(more, makeDataset(20_000, 7).json);
  const added = await runJson<{ imported: number }>(t.home, ["import", more, "--json"]);
  assert.ok(added.imported >= 20_000, `imported ${added.imported}`);
  const afterMore = await walBytes(t.home);
  assert(afterMore < 1_000_000, `WAL after the second import: ${afterMore} bytes`);
  const made = await runJson<{ id: string }>(t.home, [
    "commit",
    "Send it",
    "--to",
    "Alex",
    "--due",
    "2030-01-01",
    "--json",
  ]);
  assert(await walBytes(t.home) < 1_000_000, "WAL after commit");
  const done = await runJdo(t.home, ["complete", made.id.slice(0, 8)]);
  assert.equal(done.code, 0, done.stderr);
  assert(await walBytes(t.home) < 1_000_000, "WAL after complete");
  const list = await runJdo(t.home, ["list"]);
  assert.equal(list.code, 0, list.stderr);
  assert(await walBytes(t.home) < 1_000_000, "WAL after list");
});

Deno.test("--version, --help and completions never load libSQL (they run without FFI)", async () => {
  await using t = await tempHome();
  const noFfi = [
    "run",
    "--quiet",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-net",
    "--allow-run",
    "--allow-sys",
    "--deny-ffi",
    MAIN,
  ];
  for (const args of [["--version"], ["--help"], ["completions", "bash"], ["list", "--help"]]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [...noFfi, ...args],
      env: { JDO_HOME: t.home, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `jdo ${args.join(" ")}: ${stderr}`);
  }
  // The check has teeth: a command that opens the database with libSQL needs FFI.
  const list = await new Deno.Command(Deno.execPath(), {
    args: [...noFfi, "db", "status"],
    env: { JDO_HOME: t.home, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.notEqual(list.code, 0);
});

Deno.test("--version and --help load no npm package: they run with --no-npm, commander's text", async () => {
  await using t = await tempHome();
  for (const args of [["--version"], ["-V"], ["--help"], ["-h"], ["help"]]) {
    const run = (flags: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "--quiet", ...flags, "--allow-env", "--allow-read", MAIN, ...args],
        env: { JDO_HOME: t.home, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
    const fast = await run(["--no-npm"]);
    const stderr = new TextDecoder().decode(fast.stderr);
    assert.equal(fast.code, 0, `jdo ${args.join(" ")} with --no-npm: ${stderr}`);
    assert.equal(stderr, "");
    // The fast answer, which src/cli/fast_path_test.ts holds to commander's text.
    assert.equal(new TextDecoder().decode(fast.stdout), fastAnswer(args, 80)!.trimEnd() + "\n");
  }
});

Deno.test("the fast path's commands load no npm package: commander and libSQL stay unloaded", async () => {
  await using t = await tempHome();
  // Run as main.ts runs them, but with --no-npm: any npm import (commander,
  // @libsql/client, chrono-node) fails the command.
  const run = (args: string[], env: Record<string, string> = {}) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--no-npm", "-A", MAIN, ...args],
      env: {
        JDO_HOME: t.home,
        NO_COLOR: "1",
        JDO_TIMEZONE: "UTC",
        JDO_SYNC_AUTO: "0",
        ...clockAtEnv("2026-11-27T18:00:00Z"),
        ...env,
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  const ok = async (args: string[]) => {
    const out = await run(args);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `jdo ${args.join(" ")} with --no-npm: ${stderr}`);
    assert.equal(stderr, "", args.join(" "));
    return new TextDecoder().decode(out.stdout);
  };
  await ok(["capture", "Call", "the", "bank"]);
  const made = JSON.parse(
    await ok(["commit", "Send", "it", "--to", "Alex", "--due", "2030-01-02", "--json"]),
  );
  assert.match(await ok(["show", made.id.slice(0, 8)]), /Send it/);
  assert.match(await ok(["list"]), /Send it/);
  assert.equal(JSON.parse(await ok(["list", "--json"])).length, 1);
  assert.match(await ok(["integrity"]), /Integrity/);
  assert.match(await ok([]), /1 active commitment/);
  // The check has teeth: the command tree (here: a typo) loads commander.
  const typo = await run(["lst"]);
  assert.notEqual(typo.code, 0);
  assert.doesNotMatch(new TextDecoder().decode(typo.stderr), /did you mean/);
});

Deno.test("due labels and complete's on-time check read the due date in the commitment's zone", async () => {
  await using t = await tempHome();
  const at = clockAtEnv;
  // Made in Los Angeles on the 27th, due 17:00 there (01:00Z on the 28th).
  const made = await runJson<{ id: string }>(t.home, [
    "commit",
    "Ship it",
    "--to",
    "Alex",
    "--due",
    "2026-11-27",
    "--time",
    "17:00",
    "--json",
  ], { env: { JDO_TIMEZONE: "America/Los_Angeles", ...at("2026-11-27T18:00:00Z") } });
  // A viewer in UTC at 00:11Z on the 28th: 49 minutes remain.
  const utc = { JDO_TIMEZONE: "UTC", ...at("2026-11-28T00:11:00Z") };
  const list = await runJdo(t.home, ["list"], { env: utc });
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /\btoday\b/);
  assert.doesNotMatch(list.stdout, /overdue/);
  const dashboard = await runJdo(t.home, [], { env: utc });
  assert.match(dashboard.stdout, /\btoday\b/);
  const tokyo = await runJdo(t.home, ["list"], {
    env: { JDO_TIMEZONE: "Asia/Tokyo", ...at("2026-11-28T00:11:00Z") },
  });
  assert.match(tokyo.stdout, /\btoday\b/);
  const done = await runJdo(t.home, ["complete", made.id.slice(0, 8)], { env: utc });
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stdout, /\(on time\)/);
  // An hour later the same label would have said overdue, in every zone.
  await runJdo(t.home, ["edit", made.id.slice(0, 8), "--status", "pending"], { env: utc });
  const late = await runJdo(t.home, ["list"], {
    env: { JDO_TIMEZONE: "Asia/Tokyo", ...at("2026-11-28T01:30:00Z") },
  });
  assert.match(late.stdout, /overdue/);
});

Deno.test("list and list --json page through more rows than one page, as one table and one array", async () => {
  await using t = await tempHome();
  const file = join(t.root, "data.json");
  await Deno.writeTextFile(file, makeDataset(2_345).json);
  await runJson(t.home, ["import", file, "--json"]);
  const json = await runJdo(t.home, ["list", "--json"]);
  assert.equal(json.code, 0, json.stderr);
  const records = JSON.parse(json.stdout) as { id: string; due_date: string; due_time: string }[];
  assert.equal(records.length, 2_345);
  assert.equal(json.stdout, JSON.stringify(records, null, 2) + "\n");
  assert.equal(new Set(records.map((r) => r.id)).size, 2_345, "no row twice across pages");
  const keys = records.map((r) => `${r.due_date} ${r.due_time}`);
  assert.deepEqual(keys, [...keys].sort(), "soonest first across pages");
  const table = await runJdo(t.home, ["list"]);
  const lines = table.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 2_346);
  // Every row's DUE column starts where the header's does (pages keep the widths).
  const column = lines[0].indexOf("DUE");
  for (const line of lines.slice(1)) assert.match(line.slice(column), /^\d{4}-\d{2}-\d{2} /);
  // Fitted to a terminal's width, every page keeps every column that fits the first.
  const fitted = await runJdo(t.home, ["list"], { env: { COLUMNS: "120" } });
  const rows = fitted.stdout.trimEnd().split("\n");
  assert.equal(rows.length, 2_346);
  const status = rows[0].indexOf("STATUS");
  assert.ok(status > 0, rows[0]);
  for (const [i, line] of rows.entries()) {
    if (i === 0) continue;
    assert.match(line.slice(status), /^(pending|in progress|at risk) /, `row ${i}: ${line}`);
    assert.ok(visibleLength(line) <= 120, `row ${i} is wider than 120: ${line}`);
  }
});

function visibleLength(line: string): number {
  return [...line].length;
}
