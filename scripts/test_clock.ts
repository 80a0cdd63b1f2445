// deno-lint-ignore-file no-console
/**
 * `deno task test:clock [--slice] [--anchor] [MOMENT…]`: runs the tests whose
 * expectations involve dates (the domain, the REPL, every e2e and integration
 * test) with the clock at the awkward moments of a calendar: a Friday night,
 * the last minute of a month and of a year, 29 February, and both
 * daylight-saving changes in America/New_York and Europe/Berlin (with jdo in
 * that zone).
 *
 * Under `faketime` (Debian package libfaketime), which moves the clock of
 * every process it starts — Deno, each jdo, each sqld — by one relative
 * offset, so they all agree. Without faketime, or with --anchor, the moment is
 * given to the tests' own clock instead (JDO_TEST_NOW, see
 * tests/helpers/test_clock.ts), and the run says so.
 *
 * --slice runs the short list `.ci/run` uses; the soak task runs it all.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

interface Moment {
  name: string;
  at: string;
  zone: string;
}

export const MOMENTS: Moment[] = [
  { name: "friday-night", at: "2026-12-04T23:30:00Z", zone: "UTC" },
  { name: "month-end", at: "2026-11-30T23:59:20Z", zone: "UTC" },
  { name: "year-end", at: "2026-12-31T23:59:20Z", zone: "UTC" },
  { name: "leap-day", at: "2028-02-29T12:00:00Z", zone: "UTC" },
  // 01:58 EST, two minutes before the clocks jump to 03:00.
  { name: "new-york-spring", at: "2027-03-14T06:58:00Z", zone: "America/New_York" },
  // 01:30 EDT, the first of the two 01:30s.
  { name: "new-york-fall", at: "2026-11-01T05:30:00Z", zone: "America/New_York" },
  // 01:58 CET, two minutes before the clocks jump to 03:00.
  { name: "berlin-spring", at: "2027-03-28T00:58:00Z", zone: "Europe/Berlin" },
  // 02:30 CEST, the first of the two 02:30s.
  { name: "berlin-fall", at: "2026-10-25T00:30:00Z", zone: "Europe/Berlin" },
];

/** The tests whose expectations involve "now": every one that reads a date or a due label. */
const DATE_TESTS = ["src/domain/", "src/output/", "src/repl/", "tests/e2e/", "tests/integration/"];

/** The slice `.ci/run` runs: the date-heavy files, at two moments. */
const SLICE_MOMENTS = ["friday-night", "new-york-fall"];
const SLICE_TESTS = [
  "src/domain/",
  "src/output/",
  "src/repl/",
  "tests/integration/first_hour_local_test.ts",
  "tests/e2e/cli_test.ts",
  "tests/e2e/repl_tmux_test.ts",
  "tests/e2e/repl_narrow_tmux_test.ts",
  "tests/e2e/performance_test.ts",
  "tests/e2e/sync_test.ts",
];

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

async function haveFaketime(): Promise<boolean> {
  try {
    const out = await new Deno.Command("faketime", { args: ["--version"], stdout: "null" })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

/** Runs `deno test` over `paths` with the world at `moment`; true when it passed. */
async function runAt(moment: Moment, paths: string[], faketime: boolean): Promise<boolean> {
  const test = [Deno.execPath(), "test", "-A", "--quiet", "--parallel", ...paths];
  const env: Record<string, string> = { JDO_TEST_TIMEZONE: moment.zone };
  let command: string[];
  if (faketime) {
    // One relative offset for every process, computed now: they all agree.
    const offsetS = Math.round((Date.parse(moment.at) - Date.now()) / 1000);
    command = ["faketime", "-f", `${offsetS >= 0 ? "+" : ""}${offsetS}`, ...test];
    env.JDO_TEST_NOW = "real";
    env.FAKETIME_DONT_FAKE_MONOTONIC = "1"; // timers and timeouts keep the real pace
  } else {
    command = test;
    env.JDO_TEST_NOW = moment.at;
  }
  console.log(`\n== ${moment.name}: ${moment.at} in ${moment.zone} ==`);
  const out = await new Deno.Command(command[0], {
    args: command.slice(1),
    cwd: REPO_ROOT,
    env,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return out.success;
}

if (import.meta.main) {
  const args = [...Deno.args];
  const slice = args.includes("--slice");
  const anchorOnly = args.includes("--anchor");
  const named = args.filter((a) => !a.startsWith("--"));
  const unknown = named.filter((n) => !MOMENTS.some((m) => m.name === n));
  if (unknown.length) {
    console.error(
      `test:clock: unknown moment ${unknown.join(", ")}; known: ${
        MOMENTS.map((m) => m.name).join(", ")
      }`,
    );
    Deno.exit(2);
  }
  const moments = MOMENTS.filter((m) =>
    named.length ? named.includes(m.name) : !slice || SLICE_MOMENTS.includes(m.name)
  );
  const faketime = !anchorOnly && await haveFaketime();
  console.log(
    faketime
      ? "test:clock: the machine's clock is moved by faketime for every process (Deno, jdo, sqld)"
      : `test:clock: ${
        anchorOnly ? "--anchor" : "faketime is not installed"
      }: the moments are given to the tests' own clock (JDO_TEST_NOW); the machine's clock is not moved`,
  );
  const paths = (slice ? SLICE_TESTS : DATE_TESTS).map((p) => join(REPO_ROOT, p));
  const failed: string[] = [];
  for (const moment of moments) {
    if (!await runAt(moment, paths, faketime)) failed.push(moment.name);
  }
  console.log(
    `\ntest:clock: ${moments.length - failed.length} of ${moments.length} moments passed${
      failed.length ? `; failed at ${failed.join(", ")}` : ""
    }`,
  );
  Deno.exit(failed.length ? 1 : 0);
}
