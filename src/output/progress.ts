import type { Io } from "../app/io.ts";

export interface Progress {
  update(done: number): void;
  finish(): void;
  /** Ends the bar's line where it stands, so a failure message starts on its own line. */
  abort(): void;
}

const NONE: Progress = { update() {}, finish() {}, abort() {} };

/**
 * A one-line progress bar on stderr ("[#####.....] 512/1024 rows  850/s"),
 * drawn only when stderr is a terminal, at most ten times a second.
 */
export function progressBar(
  io: Io,
  label: string,
  total: number,
  now = () => performance.now(),
): Progress {
  if (!io.stderrIsTty || total <= 0) return NONE;
  const started = now();
  let lastDraw = -Infinity;
  // Rows queued while the push runs can make `done` pass the first total.
  let end = total;
  const draw = (done: number) => {
    end = Math.max(end, done);
    const width = 30;
    const filled = Math.min(width, Math.max(0, Math.round((done / end) * width)));
    const seconds = Math.max((now() - started) / 1000, 0.001);
    const rate = Math.round(done / seconds);
    io.errRaw(
      `\r\x1b[K${label} [${"#".repeat(filled)}${
        ".".repeat(width - filled)
      }] ${done}/${end} rows  ${rate}/s`,
    );
  };
  return {
    update(done) {
      const t = now();
      if (t - lastDraw < 100 && done < end) return;
      lastDraw = t;
      draw(done);
    },
    finish() {
      draw(end);
      io.errRaw("\n");
    },
    abort() {
      if (lastDraw > -Infinity) io.errRaw("\n");
    },
  };
}

/**
 * A "Pushing" bar for a sync that uploads many rows (500 or more; smaller
 * pushes end too soon to show one): `hooks` go to the sync, and the bar is
 * ended with `finish` or `abort`. Nothing at all when `quiet` (--json).
 */
export function pushProgress(io: Io, quiet: boolean): {
  hooks: { onPushProgress?(done: number, total: number): void };
  finish(): void;
  abort(): void;
} {
  let bar: Progress | undefined;
  return {
    hooks: quiet ? {} : {
      onPushProgress(done, total) {
        if (total < 500) return;
        bar ??= progressBar(io, "Pushing", total);
        bar.update(done);
      },
    },
    finish: () => bar?.finish(),
    abort: () => bar?.abort(),
  };
}
