/**
 * URLs of the jdo modules loaded on demand (a variable specifier, so Deno
 * does not prepare them, and their npm packages, before a command's first
 * line: src/db/libsql_packages.ts says why). They are resolved against this
 * file's directory, src/, and not against the importing module: the fast
 * path's bundle (src/fast_bundle.gen.js, scripts/gen_fast_bundle.ts) lives
 * in src/ too, so the same URL is right from the sources and from the
 * bundle. scripts/compile.ts --includes each of these modules.
 */
const SRC = new URL("./", import.meta.url);

/** The URL of the module at `path` under src/ ("domain/chrono.ts"). */
export function lazyModuleUrl(path: string): string {
  return new URL(path, SRC).href;
}
