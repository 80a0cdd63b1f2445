/**
 * URLs of the jdo modules loaded on demand (a variable specifier, so Deno
 * does not prepare them, and their npm packages, before a command's first
 * line: src/db/libsql_packages.ts says why). They are resolved against this
 * file's directory, src/, and not against the importing module: the fast
 * path's bundle (src/fast_bundle.gen.js, scripts/gen_fast_bundle.ts) lives
 * in src/ too, so the same URL is right from the sources and from the
 * bundle. scripts/compile.ts --includes each of these modules.
 *
 * Made by joining text, not with `new URL`: a process's first URL costs
 * ~0.3 ms, and the fast commands need none (issue 20). A path of plain names
 * joined to a directory URL is what `new URL(path, SRC)` would give
 * (src/lazy_module_test.ts); anything else goes through URL.
 */
const SRC = import.meta.url.slice(0, import.meta.url.lastIndexOf("/") + 1);
const PLAIN_PATH = /^[a-z_]+(\/[a-z_]+)*\.ts$/;

/** The URL of the module at `path` under src/ ("domain/chrono.ts"). */
export function lazyModuleUrl(path: string): string {
  return PLAIN_PATH.test(path) ? SRC + path : new URL(path, SRC).href;
}
