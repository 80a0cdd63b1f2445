/**
 * Whether the fast path's bundle (src/fast_bundle.gen.js, written by
 * scripts/gen_fast_bundle.ts from src/app/fast_main.ts) was built from the
 * sources as they are now. Its manifest (src/fast_bundle.gen.json) names
 * every source module and the digest of their contents; a stale bundle is
 * never run, so an edit to a source is never hidden behind an old bundle.
 *
 * Reading and hashing the ~60 sources costs ~7 ms, about half of what the
 * bundle saves, so a check that passed is remembered in a stamp
 * (.cache/fast_bundle.stamp: the size and modification time of each file);
 * while every file still matches it, the check is ~60 stat calls.
 *
 * main.ts loads this module before everything else, and it imports nothing:
 * it also says which argv the fast answers (--version, --help) and the bundle
 * are for, so main.ts loads neither for any other.
 */

export const BUNDLE_PATH = "src/fast_bundle.gen.js";
/** BUNDLE_PATH as main.ts imports it (relative to main.ts, in a variable: Deno prepares it only when asked). */
export const BUNDLE_SPECIFIER = `./${BUNDLE_PATH}`;
export const MANIFEST_PATH = "src/fast_bundle.gen.json";
export const STAMP_PATH = ".cache/fast_bundle.stamp";

/**
 * The first words of the fast commands (FAST_COMMANDS in
 * src/cli/fast_commands.ts, checked by src/app/fast_bundle_test.ts): main.ts
 * does not load the bundle for any other command.
 */
export const FAST_COMMAND_WORDS: readonly string[] = [
  "capture",
  "commit",
  "integrity",
  "list",
  "show",
];

/** The single words `jdo --version` and `jdo --help` are asked with (src/cli/fast_path.ts answers). */
export const VERSION_ARGS: ReadonlySet<string> = new Set(["--version", "-V"]);
export const HELP_ARGS: ReadonlySet<string> = new Set(["--help", "-h", "help"]);

/**
 * Whether argv asks for the version or the top-level help, which
 * src/cli/fast_path.ts answers without the command tree. main.ts loads that
 * module (and the help text) only then.
 */
export function asksVersionOrHelp(argv: readonly string[]): boolean {
  return argv.length === 1 && (VERSION_ARGS.has(argv[0]) || HELP_ARGS.has(argv[0]));
}

/** Whether argv may be a fast command (`jdo` alone or with options is the dashboard). */
export function mayBeFast(argv: readonly string[]): boolean {
  const word = argv[0];
  return word === undefined || word.startsWith("-") || FAST_COMMAND_WORDS.includes(word);
}

export interface BundleManifest {
  /** sourcesDigest() of `sources` when the bundle was built. */
  digest: string;
  /** Paths relative to the repository root, in a fixed order. */
  sources: string[];
}

/** SHA-256 (hex) over each source's path and contents. */
export async function sourcesDigest(root: URL, sources: readonly string[]): Promise<string> {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const path of sources) {
    parts.push(
      encoder.encode(`${path}\0`),
      Deno.readFileSync(new URL(path, root)),
      Uint8Array.of(0),
    );
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The size and modification time of each file: what the stamp remembers. */
function statKey(root: URL, paths: readonly string[]): string {
  return paths.map((path) => {
    const info = Deno.statSync(new URL(path, root));
    return `${path} ${info.size} ${info.mtime?.getTime() ?? 0}`;
  }).join("\n");
}

/**
 * True when the bundle under `root` (the repository, or wherever main.ts
 * lives) matches its sources. Never throws: anything missing or unreadable
 * means "not fresh", and jdo runs from the sources.
 */
export async function fastBundleFresh(root: URL): Promise<boolean> {
  try {
    const manifest = JSON.parse(
      Deno.readTextFileSync(new URL(MANIFEST_PATH, root)),
    ) as BundleManifest;
    const key = statKey(root, [BUNDLE_PATH, MANIFEST_PATH, ...manifest.sources]);
    const stamp = new URL(STAMP_PATH, root);
    try {
      if (Deno.readTextFileSync(stamp) === key) return true;
    } catch {
      // no stamp yet
    }
    if (await sourcesDigest(root, manifest.sources) !== manifest.digest) return false;
    try {
      Deno.mkdirSync(new URL(".", stamp), { recursive: true });
      Deno.writeTextFileSync(stamp, key);
    } catch {
      // A read-only checkout: the content check runs each time.
    }
    return true;
  } catch {
    return false;
  }
}
