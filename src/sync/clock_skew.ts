/**
 * Clock skew. Versions carry wall-clock milliseconds, so a device whose clock
 * runs far ahead stamps versions that win every concurrent edit until the
 * others' clocks catch up. jdo accepts such versions (refusing them would
 * strand that device's edits) but reports them: a version more than
 * CLOCK_SKEW_LIMIT_MS ahead of this device's clock is noted per author, and `sync
 * status` names the device and how far ahead it was.
 */
import { parseVersion } from "../db/hlc.ts";
import type { Store, Writer } from "../db/store.ts";
import { CLOCK_SKEW_LIMIT_MS } from "./devices.ts";
import { writeSyncState } from "./state.ts";

/** Notes the versions a merge sees; `see` is cheap enough for every row. */
export interface SkewSeen {
  see(version: string): void;
}

/** Author device → how far (ms) its newest version was ahead of our clock. */
export type SkewMap = Map<string, number>;

export function noteClockSkew(w: Writer, into: SkewMap): SkewSeen {
  const now = w.clock.now().getTime();
  return {
    see(version: string) {
      const v = parseVersion(version);
      if (!v || v.deviceId === w.deviceId) return;
      const ahead = v.ms - now;
      if (ahead > CLOCK_SKEW_LIMIT_MS && ahead > (into.get(v.deviceId) ?? 0)) {
        into.set(v.deviceId, ahead);
      }
    },
  };
}

export interface SkewReport {
  device_id: string;
  ahead_ms: number;
  seen_at: string;
}

export function parseSkewReports(value: string | null | undefined): SkewReport[] {
  if (!value) return [];
  try {
    const parsed = JSON.parse(value);
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

/** Records what this pull saw (newest report per device) in _sync_state. */
export async function saveClockSkew(w: Writer, seen: SkewMap): Promise<void> {
  const row = await w.one("SELECT value FROM _sync_state WHERE key = 'clock_skew'");
  const reports = new Map(
    parseSkewReports(row?.value as string | undefined).map((r) => [r.device_id, r]),
  );
  const now = w.nowIso();
  for (const [device, ahead] of seen) {
    reports.set(device, { device_id: device, ahead_ms: ahead, seen_at: now });
  }
  await writeSyncState(w, { clock_skew: JSON.stringify([...reports.values()]) });
}

/** The notes saved by earlier pulls. */
export async function readClockSkew(store: Store): Promise<SkewReport[]> {
  const row = await store.one("SELECT value FROM _sync_state WHERE key = 'clock_skew'");
  return parseSkewReports(row?.value as string | undefined);
}
