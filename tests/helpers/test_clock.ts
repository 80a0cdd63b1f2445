/**
 * The test world's clock: every test takes "now" from here, never from the
 * machine, so the suite passes at any hour of any day.
 *
 * By default the world stands at TEST_NOW_DEFAULT, a calm Wednesday morning,
 * and runs on from there at the machine's pace (one offset for the whole run,
 * so processes started later are later). jdo subprocesses get the same offset
 * through JDO_TEST_WORLD_OFFSET_MS (main.ts), which also moves jdo's reading
 * of the cloud's clock, so a sqld running on the machine's time looks in step.
 *
 * `JDO_TEST_NOW=<ISO instant>` puts the world elsewhere (`deno task
 * test:clock` runs the suite at awkward moments); `JDO_TEST_NOW=real` keeps
 * the machine's clock, for runs under `faketime`, which moves the clock of
 * every process (Deno, jdo, sqld) alike. `JDO_TEST_TIMEZONE` is the zone jdo
 * runs in (default UTC).
 */
import type { WallClock } from "../../src/db/store.ts";

export const TEST_NOW_DEFAULT = "2026-06-10T07:30:00.000Z";

function worldOffset(wanted: string): number {
  if (wanted === "real") return 0;
  const at = Date.parse(wanted);
  if (Number.isNaN(at)) {
    throw new Error(`JDO_TEST_NOW must be an ISO instant or "real", not "${wanted}"`);
  }
  return at - Date.now();
}

/** How far the test world's clock is from the machine's (fixed for this run). */
export const TEST_WORLD_OFFSET_MS = worldOffset(
  Deno.env.get("JDO_TEST_NOW") ?? TEST_NOW_DEFAULT,
);

/** The zone jdo runs in during tests (JDO_TIMEZONE of every jdo the tests start). */
export const TEST_TIMEZONE = Deno.env.get("JDO_TEST_TIMEZONE") || "UTC";

/** The test world's clock, for stores and contexts opened inside a test. */
export const testClock: WallClock = {
  now: () => new Date(Date.now() + TEST_WORLD_OFFSET_MS),
};

/** "Now" in the test world. */
export function testNow(): Date {
  return testClock.now();
}

/** The environment that puts a jdo subprocess in the test world. */
export function testClockEnv(): Record<string, string> {
  return {
    JDO_TEST_WORLD_OFFSET_MS: String(TEST_WORLD_OFFSET_MS),
    JDO_TIMEZONE: TEST_TIMEZONE,
  };
}

/**
 * The environment of a jdo subprocess whose world stands at `iso` when it
 * starts: for a test about one particular moment (a Friday evening, a due
 * time that has just passed). Each process started with it begins at `iso`.
 */
export function clockAtEnv(iso: string): Record<string, string> {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) throw new Error(`clockAtEnv: not an instant: ${iso}`);
  return { JDO_TEST_WORLD_OFFSET_MS: String(at - Date.now()) };
}
