/**
 * join, dirname and basename as node:path has them, without loading node:path
 * on POSIX: the first `node:` module a process imports costs ~20 ms of Node
 * compatibility, which the fast path (issue 20) does without. On Windows
 * these are node:path's own. src/config/file_path_test.ts holds them to
 * node:path's POSIX answers.
 */
const windows = Deno.build.os === "windows" ? await import("node:path") : undefined;

/** node:path's normalize, POSIX. */
function normalize(path: string): string {
  if (path === "") return ".";
  const absolute = path.startsWith("/");
  const trailing = path.endsWith("/");
  const kept: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment !== "..") kept.push(segment);
    else if (kept.length > 0 && kept[kept.length - 1] !== "..") kept.pop();
    else if (!absolute) kept.push("..");
  }
  let body = kept.join("/");
  if (body === "") return absolute ? "/" : trailing ? "./" : ".";
  if (trailing) body += "/";
  return absolute ? `/${body}` : body;
}

export function join(...parts: string[]): string {
  if (windows) return windows.join(...parts);
  const present = parts.filter((p) => p !== "");
  return present.length === 0 ? "." : normalize(present.join("/"));
}

export function dirname(path: string): string {
  if (windows) return windows.dirname(path);
  if (path === "") return ".";
  const rooted = path.startsWith("/");
  let end = -1;
  let inTrailingSlashes = true;
  for (let i = path.length - 1; i >= 1; i--) {
    if (path[i] === "/") {
      if (!inTrailingSlashes) {
        end = i;
        break;
      }
    } else inTrailingSlashes = false;
  }
  if (end === -1) return rooted ? "/" : ".";
  if (rooted && end === 1) return "//";
  return path.slice(0, end);
}

export function basename(path: string): string {
  if (windows) return windows.basename(path);
  let end = path.length;
  while (end > 0 && path[end - 1] === "/") end--;
  return path.slice(path.lastIndexOf("/", end - 1) + 1, end);
}

/** The path of a file: URL (node:url's fileURLToPath for the local cases jdo meets). */
export function urlToPath(url: URL | string): string {
  // A file URL's text without `new URL` (a process's first costs ~0.3 ms).
  const path = decodeURIComponent(
    typeof url === "string" && url.startsWith("file:///") && !/[?#]|\/\.\.?(\/|$)/.test(url)
      ? url.slice("file://".length)
      : new URL(url).pathname,
  );
  if (!windows) return path;
  return windows.normalize(path.replace(/^\/([A-Za-z]:)/, "$1"));
}
