/**
 * Large-data behaviour of the CLI: clean exits (no WAL left behind) and
 * commands whose cost does not grow with the table.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDataset } from "../../scripts/bench_lib.ts";
import { MAIN, runJdo, runJson, tempHome } from "../helpers/cli.ts";

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
  // The check has teeth: a command that opens the database needs FFI.
  const list = await new Deno.Command(Deno.execPath(), {
    args: [...noFfi, "list"],
    env: { JDO_HOME: t.home, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.notEqual(list.code, 0);
});
