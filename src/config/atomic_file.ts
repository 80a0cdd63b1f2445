import { basename, dirname, join } from "./file_path.ts";

/** Writes a file through a temp file + rename so readers never see half of it. */
export async function writeFileAtomic(
  path: string,
  text: string,
  mode = 0o600,
): Promise<void> {
  const tmp = join(
    dirname(path),
    `.${basename(path)}.${crypto.randomUUID().slice(0, 8)}.tmp`,
  );
  try {
    await Deno.writeTextFile(tmp, text, { mode, createNew: true });
    if (Deno.build.os !== "windows") await Deno.chmod(tmp, mode);
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}

/**
 * Like writeFileAtomic, for output produced a piece at a time: `produce`
 * gets a `write` that appends to the temp file; the file replaces `path`
 * only when `produce` succeeds.
 */
export async function writeFileAtomicStream<T>(
  path: string,
  mode: number,
  produce: (write: (text: string) => Promise<void>) => Promise<T>,
): Promise<T> {
  const tmp = join(
    dirname(path),
    `.${basename(path)}.${crypto.randomUUID().slice(0, 8)}.tmp`,
  );
  const encoder = new TextEncoder();
  let file: Deno.FsFile | undefined;
  try {
    file = await Deno.open(tmp, { write: true, createNew: true, mode });
    const out = file;
    const result = await produce(async (text) => {
      const bytes = encoder.encode(text);
      let written = 0;
      while (written < bytes.length) written += await out.write(bytes.subarray(written));
    });
    file.close();
    file = undefined;
    if (Deno.build.os !== "windows") await Deno.chmod(tmp, mode);
    await Deno.rename(tmp, path);
    return result;
  } catch (error) {
    file?.close();
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}

/** Whether anything (file, directory, link) is at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Reads a text file, or returns undefined when it does not exist. */
export function readTextIfExists(
  path: string,
): Promise<string | undefined> {
  if (!listedBeside(path)) return Promise.resolve(undefined);
  try {
    // Sync: a small file, and every command reads its settings before it
    // starts (an async read waits ~0.2 ms more for a thread hop).
    return Promise.resolve(Deno.readTextFileSync(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return Promise.resolve(undefined);
    return Promise.reject(error);
  }
}

/**
 * Whether `path`'s directory lists it. Most homes have neither settings nor
 * a token file, and a read that fails costs ~0.3 ms more than a listing (the
 * error it throws); a directory that cannot be listed answers yes, and the
 * read decides.
 */
function listedBeside(path: string): boolean {
  const name = basename(path);
  try {
    for (const entry of Deno.readDirSync(dirname(path))) if (entry.name === name) return true;
    return false;
  } catch {
    return true;
  }
}
