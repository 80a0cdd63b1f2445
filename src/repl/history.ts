/**
 * The REPL's persistent line history: one entry per line, oldest first, in a
 * file only the user can read (mode 0600), never more than `max` lines.
 */
export const HISTORY_MAX = 500;

export class History {
  readonly path: string;
  readonly max: number;
  /** Oldest first, as in the file. */
  #entries: string[] = [];
  #warned = false;
  /** Writes happen one after another, in the order lines were added. */
  #writing: Promise<void> = Promise.resolve();
  #onWarning: (message: string) => void;

  private constructor(path: string, max: number, onWarning: (message: string) => void) {
    this.path = path;
    this.max = max;
    this.#onWarning = onWarning;
  }

  /** Reads the file if there is one; a missing or unreadable file is an empty history. */
  static async load(
    path: string,
    options: { max?: number; onWarning?: (message: string) => void } = {},
  ): Promise<History> {
    const history = new History(path, options.max ?? HISTORY_MAX, options.onWarning ?? (() => {}));
    let text = "";
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        history.#warn(`could not read ${path}: ${(error as Error).message}`);
      }
      return history;
    }
    const lines = text.split("\n").filter((line) => line.trim() !== "");
    history.#entries = lines.slice(-history.max);
    try {
      await tighten(path);
      if (lines.length > history.max) await history.#rewrite(history.#entries);
    } catch (error) {
      history.#warn(`could not update ${path}: ${(error as Error).message}`);
    }
    return history;
  }

  /** Oldest first. */
  entries(): string[] {
    return [...this.#entries];
  }

  /** Newest first, as node:readline's `history` option wants it. */
  forReadline(): string[] {
    return [...this.#entries].reverse();
  }

  /**
   * Records one line typed at the prompt. Blank lines, lines starting with a
   * space (as in shells, to keep something out of the history) and repeats
   * of the previous line are not recorded. Never throws.
   */
  add(line: string): Promise<void> {
    if (line.trim() === "" || line.startsWith(" ") || line.includes("\n")) return this.#writing;
    if (this.#entries.at(-1) === line) return this.#writing;
    this.#entries.push(line);
    const full = this.#entries.length > this.max;
    if (full) this.#entries = this.#entries.slice(-this.max);
    const snapshot = [...this.#entries];
    this.#writing = this.#writing.then(async () => {
      try {
        if (full) await this.#rewrite(snapshot);
        else await Deno.writeTextFile(this.path, line + "\n", { append: true, mode: 0o600 });
      } catch (error) {
        this.#warn(`could not save history to ${this.path}: ${(error as Error).message}`);
      }
    });
    return this.#writing;
  }

  /** Resolves when every line added so far is on disk (or failed to be). */
  flush(): Promise<void> {
    return this.#writing;
  }

  async #rewrite(entries: string[]): Promise<void> {
    const temp = `${this.path}.tmp-${Deno.pid}`;
    const text = entries.map((line) => line + "\n").join("");
    await Deno.writeTextFile(temp, text, { mode: 0o600 });
    await tighten(temp);
    await Deno.rename(temp, this.path);
  }

  #warn(message: string): void {
    if (this.#warned) return;
    this.#warned = true;
    this.#onWarning(message);
  }
}

/** Makes sure an existing file is readable by its owner only. */
async function tighten(path: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  const info = await Deno.stat(path);
  if (info.mode !== null && (info.mode & 0o077) !== 0) await Deno.chmod(path, 0o600);
}
