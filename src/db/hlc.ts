/**
 * Hybrid logical clock. A version is "<ms>-<counter>-<device>" with fixed
 * widths, so comparing two versions as strings orders them causally: later
 * wall time first, then the counter, then the device id as a tie-breaker.
 */
export interface HlcState {
  ms: number;
  counter: number;
}

const MS_WIDTH = 13;
const COUNTER_WIDTH = 4;
const COUNTER_MAX = 0xffff;

export function formatVersion(state: HlcState, deviceId: string): string {
  return `${String(state.ms).padStart(MS_WIDTH, "0")}-${
    state.counter.toString(16).padStart(COUNTER_WIDTH, "0")
  }-${deviceId}`;
}

export interface ParsedVersion extends HlcState {
  deviceId: string;
}

const VERSION_RE = /^(\d{13})-([0-9a-f]{4})-(.+)$/;

export function parseVersion(version: string): ParsedVersion | undefined {
  const match = VERSION_RE.exec(version);
  if (!match) return undefined;
  return {
    ms: Number(match[1]),
    counter: parseInt(match[2], 16),
    deviceId: match[3],
  };
}

function advance(state: HlcState, ms: number): HlcState {
  if (ms > state.ms) return { ms, counter: 0 };
  if (state.counter < COUNTER_MAX) {
    return { ms: state.ms, counter: state.counter + 1 };
  }
  // Counter exhausted within one millisecond: borrow the next millisecond.
  return { ms: state.ms + 1, counter: 0 };
}

/** The next local event: strictly after `state` and not before `nowMs`. */
export function tick(state: HlcState, nowMs: number): HlcState {
  return advance(state, nowMs);
}

/**
 * Folds a remote version into the clock so the next local event orders after
 * it, even when this device's wall clock runs behind the remote one.
 */
export function observe(state: HlcState, remoteVersion: string): HlcState {
  const remote = parseVersion(remoteVersion);
  if (!remote) return state;
  if (remote.ms > state.ms) return { ms: remote.ms, counter: remote.counter };
  if (remote.ms === state.ms && remote.counter > state.counter) {
    return { ms: state.ms, counter: remote.counter };
  }
  return state;
}

/**
 * Generated versions (src/domain/recurring.ts): rows every device makes
 * identically carry a version with wall time 0 — below every real write, so
 * any edit a person makes wins over a generated value — then "~" and what
 * orders two generations of one row.
 */
export const GENERATED_PREFIX = "0000000000000-0000-~";

export function isGeneratedVersion(version: string | null | undefined): boolean {
  return typeof version === "string" && version.startsWith(GENERATED_PREFIX);
}

/** A device id: 12 lowercase hex characters. */
export function newDeviceId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
