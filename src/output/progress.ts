import type { Io } from "../app/io.ts";

export interface Progress {
  update(done: number): void;
  finish(): void;
}

const NONE: Progress = { update() {}, finish() {} };

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
  const draw = (done: number) => {
    const width = 30;
    const filled = Math.round((done / total) * width);
    const seconds = Math.max((now() - started) / 1000, 0.001);
    const rate = Math.round(done / seconds);
    io.errRaw(
      `\r\x1b[K${label} [${"#".repeat(filled)}${
        ".".repeat(width - filled)
      }] ${done}/${total} rows  ${rate}/s`,
    );
  };
  return {
    update(done) {
      const t = now();
      if (t - lastDraw < 100 && done < total) return;
      lastDraw = t;
      draw(done);
    },
    finish() {
      draw(total);
      io.errRaw("\n");
    },
  };
}
