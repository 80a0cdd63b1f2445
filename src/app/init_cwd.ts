import { urlToPath } from "../config/file_path.ts";

function real(path: string): string | undefined {
  try {
    return Deno.realPathSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Whether this process looks started by `deno task` from a checkout: running
 * from source with the working directory set to the repository root (where
 * deno task runs its tasks). A compiled binary never is.
 */
export function startedByDenoTask(repoRoot: URL, standalone: boolean): boolean {
  if (standalone) return false;
  const root = real(urlToPath(repoRoot));
  return root !== undefined && root === real(Deno.cwd());
}
