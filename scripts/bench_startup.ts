// deno-lint-ignore-file no-console
/**
 * Start-up benchmark (`deno task bench --startup`, issue 20): every row runs
 * jdo and its baseline alternately (ABAB…, so drift on a shared machine hits
 * both), and reports the median wall time of each and the ratio of medians
 * against the issue's bar. The baselines are the best programs for the same
 * job (scripts/baselines/), run with the same `deno run` flags as jdo.
 *
 * The database holds 1,000 commitments to 50 stakeholders (bench_lib's
 * dataset), JDO_TIMEZONE=UTC, no TTY, automatic sync off.
 *
 * Flags: --runs 15 (pairs per row and round), --rounds 1 (each round times
 * every row again, so a busy spell of the host falls on several rows a
 * little instead of on one row whole; a row's ratio is then the ratio of its
 * medians over every round's pairs, and each round's own ratio is printed
 * beside it), --only version,help,show,… (row keys),
 * --json-out FILE, --binary PATH (time a compiled jdo instead of `deno run
 * main.ts`; the baselines are then compiled too, with the same V8 flags, so
 * both sides start the way a binary starts — the release workflow runs this
 * on each runner).
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { V8_FLAGS } from "./compile.ts";
import { cleanEnv, jdoEnv, jdoOk, MAIN, makeDataset, median, renderTable } from "./bench_lib.ts";

const BASELINES = new URL("./baselines/", import.meta.url);
const baseline = (name: string) => new URL(name, BASELINES).pathname;

interface Row {
  key: string;
  label: string;
  jdo: string[];
  baselineLabel: string;
  baseline: string[];
  /** The issue's bar for the ratio; none for a row shown for reference. */
  bar?: number;
  /** The baseline prints what jdo prints, byte for byte (checked before timing). */
  sameOutput?: boolean;
}

/** A program to time: a script for `deno run`, or a compiled executable. */
interface Program {
  script?: string;
  executable?: string;
}

/** `deno run -A --quiet <V8 flags> FILE ARGS` (or the executable), timed from spawn to exit. */
async function timedRun(program: Program, args: string[], env: Record<string, string>) {
  return (await run(program, args, env)).ms;
}

/** One run: its wall time and what it printed. */
async function run(program: Program, args: string[], env: Record<string, string>) {
  const file = program.executable ?? program.script!;
  const started = performance.now();
  const out = await new Deno.Command(program.executable ?? Deno.execPath(), {
    args: program.executable ? args : ["run", "-A", "--quiet", ...V8_FLAGS, file, ...args],
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - started;
  if (out.code !== 0) {
    throw new Error(
      `${file} ${args.join(" ")} exited ${out.code}: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return { ms, stdout: out.stdout };
}

export async function benchStartup(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      startup: { type: "boolean" },
      runs: { type: "string", default: "15" },
      rounds: { type: "string", default: "1" },
      only: { type: "string" },
      "json-out": { type: "string" },
      binary: { type: "string" },
    },
  });
  const runs = Number(values.runs);
  const rounds = Math.max(1, Number(values.rounds) || 1);
  const only = values.only ? new Set(values.only.split(",")) : null;

  const root = await Deno.makeTempDir({ prefix: "jdo-bench-startup-" });
  try {
    const home = join(root, "home");
    const data = join(root, "data.json");
    await Deno.writeTextFile(data, makeDataset(1000).json);
    await jdoOk(home, ["import", data]);
    const listed = JSON.parse((await jdoOk(home, ["list", "--json"])).stdout);
    const first = (Array.isArray(listed) ? listed : listed.commitments ?? listed.items)[0];
    const id = String(first.id).slice(0, 8);
    const db = join(home, "jdo.db");
    const oneRow = [baseline("one_row.ts"), db, id];
    const liveJson = [baseline("live_json.ts"), db];
    const listJson = [baseline("list_json.ts"), db];
    const bareTable = [baseline("list_table.ts"), db];
    const empty = baseline("empty.ts");

    const rows: Row[] = [
      {
        key: "version",
        label: "--version",
        jdo: ["--version"],
        baselineLabel: "empty --version",
        baseline: [empty, "--version"],
        bar: 1.3,
      },
      {
        key: "help",
        label: "--help",
        jdo: ["--help"],
        baselineLabel: "empty --help",
        baseline: [empty, "--help"],
        bar: 1.3,
      },
      {
        key: "show",
        label: `show ${id}`,
        jdo: ["show", id],
        baselineLabel: "one row",
        baseline: oneRow,
        bar: 1.5,
      },
      {
        key: "integrity",
        label: "integrity",
        jdo: ["integrity"],
        baselineLabel: "one row",
        baseline: oneRow,
        bar: 1.5,
      },
      {
        key: "capture",
        label: "capture …",
        jdo: ["capture", "Call", "the", "bank"],
        baselineLabel: "one row",
        baseline: oneRow,
        bar: 1.5,
      },
      {
        key: "dashboard",
        label: "dashboard (no TTY)",
        jdo: [],
        baselineLabel: "one row",
        baseline: oneRow,
        bar: 1.5,
      },
      {
        key: "list-json",
        label: "list --json (1k)",
        jdo: ["list", "--json"],
        baselineLabel: "same JSON",
        baseline: listJson,
        bar: 1.3,
        sameOutput: true,
      },
      {
        // The baseline the issue was filed with: fewer fields, no indent (270 KB of jdo's 910 KB).
        key: "list-json-narrow",
        label: "list --json (1k)",
        jdo: ["list", "--json"],
        baselineLabel: "live JSON",
        baseline: liveJson,
      },
      {
        key: "list",
        label: "list (1k)",
        jdo: ["list"],
        baselineLabel: "live JSON",
        baseline: liveJson,
        bar: 1.5,
      },
      {
        // How much of that is printing a 1,000-row table at all: the least program that prints it.
        key: "list-bare",
        label: "list (1k)",
        jdo: ["list"],
        baselineLabel: "bare table",
        baseline: bareTable,
        sameOutput: true,
      },
      {
        key: "commit",
        label: "commit … --due tomorrow",
        jdo: ["commit", "Send", "it", "--to", "Alex", "--due", "tomorrow"],
        baselineLabel: "one row",
        baseline: oneRow,
        bar: 2,
      },
    ].filter((r) => !only || only.has(r.key));

    const env = jdoEnv(home);
    const baseEnv = cleanEnv({ RUST_LOG: "off" });
    const jdo: Program = values.binary ? { executable: values.binary } : { script: MAIN };
    const baselineOf = values.binary
      ? await compiledBaselines(root, rows.map((r) => r.baseline[0]))
      : (script: string): Program => ({ script });
    const results = [];
    const table: string[][] = [];
    const times = rows.map(() => ({
      a: [] as number[],
      b: [] as number[],
      perRound: [] as number[],
    }));
    for (let round = 0; round < rounds; round++) {
      for (const [k, row] of rows.entries()) {
        const base = baselineOf(row.baseline[0]);
        if (round === 0) {
          // One warm-up pair (disk cache, Deno's module cache), not counted.
          const warmJdo = await run(jdo, row.jdo, env);
          const warmBase = await run(base, row.baseline.slice(1), baseEnv);
          if (row.sameOutput && !sameBytes(warmJdo.stdout, warmBase.stdout)) {
            throw new Error(
              `${row.baseline[0]} does not print what jdo ${row.jdo.join(" ")} prints`,
            );
          }
        }
        const a: number[] = [];
        const b: number[] = [];
        for (let i = 0; i < runs; i++) {
          a.push(await timedRun(jdo, row.jdo, env));
          b.push(await timedRun(base, row.baseline.slice(1), baseEnv));
        }
        times[k].a.push(...a);
        times[k].b.push(...b);
        times[k].perRound.push(median(a) / median(b));
      }
    }
    for (const [k, row] of rows.entries()) {
      const { a, b, perRound } = times[k];
      const ratio = median(a) / median(b);
      const verdict = row.bar === undefined
        ? "reference"
        : `≤ ${row.bar}× ${ratio <= row.bar ? "meets" : "over"}`;
      results.push({
        key: row.key,
        jdoMs: median(a),
        baselineMs: median(b),
        ratio,
        roundRatios: perRound,
        bar: row.bar,
      });
      table.push([
        row.label,
        `${median(a).toFixed(0)} ms`,
        `${row.baselineLabel} ${median(b).toFixed(0)} ms`,
        `${ratio.toFixed(2)}×`,
        verdict,
      ]);
      const each = rounds > 1
        ? ` (rounds: ${perRound.map((r) => `${r.toFixed(2)}×`).join(" ")})`
        : "";
      console.error(`${row.label}: ${ratio.toFixed(2)}×${each}`);
    }
    const what = values.binary
      ? `compiled: ${values.binary} against compiled baselines`
      : "deno run";
    console.log(
      `Start-up (${what}), ${runs * rounds} interleaved pairs per row${
        rounds > 1 ? ` in ${rounds} rounds` : ""
      }, medians (deno ${Deno.version.deno})`,
    );
    console.log(renderTable(["jdo", "jdo median", "baseline median", "ratio", "bar"], table));
    if (values["json-out"]) {
      await Deno.writeTextFile(values["json-out"], JSON.stringify(results, null, 2) + "\n");
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/**
 * Each baseline script compiled (`deno compile`, the binary's V8 flags), so
 * that a compiled jdo is compared with compiled baselines. Where the runtime
 * cannot be downloaded this says so and stops: a ratio against `deno run`
 * baselines would not be the binary's.
 */
async function compiledBaselines(
  dir: string,
  scripts: string[],
): Promise<(script: string) => Program> {
  const compiled = new Map<string, string>();
  for (const script of new Set(scripts)) {
    const output = join(dir, `baseline-${compiled.size}`);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["compile", "-A", "--quiet", ...V8_FLAGS, "--output", output, script],
      env: { NO_COLOR: "1" },
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) {
      // deno compile's own words: the first "Caused by" line that says what failed.
      const lines = new TextDecoder().decode(out.stderr).split("\n").map((l) => l.trim());
      const reason = lines.find((l) => /^\d+: .*(error|denort|base binary)/i.test(l)) ??
        lines[0];
      console.error(`bench: cannot compile the baseline ${script} (${reason}); no binary figures`);
      Deno.exit(1);
    }
    compiled.set(script, output);
  }
  return (script) => ({ executable: compiled.get(script)! });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

if (import.meta.main) await benchStartup(Deno.args);
