/**
 * The device directory: every device that ever synced with a cloud, kept in
 * the cloud's _jdo_devices table (each device writes only its own row, at
 * each successful sync) and copied into the local _sync_devices table so
 * `sync devices` and `sync status` work offline.
 */
import type { Row } from "../db/schema.ts";
import type { Store, WallClock } from "../db/store.ts";
import { JdoError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { writeSyncState } from "./state.ts";

/** The bound on clock skew the per-field merge relies on (24 h). */
export const CLOCK_SKEW_LIMIT_MS = 24 * 60 * 60 * 1000;

export const DEVICE_FIELDS = "id, name, jdo_version, first_sync_at, last_sync_at, clock_offset_ms";

/** What a device says about itself at a sync. */
export interface DeviceEntry {
  id: string;
  name: string;
  jdoVersion: string;
  /** Positive: the device's clock is ahead of the cloud's. */
  clockOffsetMs: number;
}

/** One row of the directory (times are the cloud's clock). */
export interface DeviceRecord {
  id: string;
  name: string;
  jdo_version: string;
  first_sync_at: string;
  last_sync_at: string;
  clock_offset_ms: number;
}

/** The part of a cloud that keeps the directory (LibsqlCloud). */
/** The server's clock and the directory, read in one request. */
export interface DeviceReading {
  serverTimeMs: number;
  devices: DeviceRecord[];
  /** performance.now() halfway through that request (cancels the network's delay). */
  midpoint: number;
}

export interface DeviceDirectory {
  /** The server's wall clock (Unix ms) and every device's row, in one request. */
  readDevices(): Promise<DeviceReading>;
  /** Upserts this device's row (first_sync_at kept) and returns every row. */
  recordDevice(device: DeviceEntry): Promise<DeviceRecord[]>;
}

/**
 * A device rewrites its row when something in it changed, or when its
 * last_sync_at is older than this: every write adds pages every other
 * device's replica downloads, and a REPL syncs every minute.
 */
export const DEVICE_ROW_REFRESH_MS = 15 * 60 * 1000;
/** Clock offsets closer than this count as unchanged (network jitter). */
const OFFSET_JITTER_MS = 1_000;

export function deviceRecord(r: Row): DeviceRecord {
  return {
    id: String(r.id),
    name: String(r.name),
    jdo_version: String(r.jdo_version),
    first_sync_at: String(r.first_sync_at),
    last_sync_at: String(r.last_sync_at),
    clock_offset_ms: Number(r.clock_offset_ms),
  };
}

/** Default device name: the host name, or "device" when it cannot be read. */
export function defaultDeviceName(): string {
  try {
    return Deno.hostname() || "device";
  } catch {
    return "device";
  }
}

export async function deviceName(store: Store): Promise<string> {
  const row = await store.one("SELECT value FROM _sync_state WHERE key = 'device_name'");
  return row?.value ? String(row.value) : defaultDeviceName();
}

export async function setDeviceName(store: Store, name: string): Promise<void> {
  await store.write(async (w) => {
    await writeSyncState(w, { device_name: name });
    // The local copy shows the new name at once; the cloud learns it at the next sync.
    await w.tx.execute({
      sql: "UPDATE _sync_devices SET name = ? WHERE id = ?",
      args: [name, w.deviceId],
    });
  });
}

/**
 * Reads the server's time and the directory, and how far `clock` is ahead of
 * the cloud (negative: behind): the server's time is compared with the
 * midpoint of the request, which cancels the network's delay when it is the
 * same both ways.
 */
export async function measureClockOffset(
  directory: Pick<DeviceDirectory, "readDevices">,
  clock: WallClock,
): Promise<{ offsetMs: number; serverTimeMs: number; devices: DeviceRecord[] }> {
  const { serverTimeMs, devices, midpoint } = await directory.readDevices();
  // This device's clock at the moment the server read its own.
  const localAtMidpoint = clock.now().getTime() - (performance.now() - midpoint);
  return { offsetMs: Math.round(localAtMidpoint - serverTimeMs), serverTimeMs, devices };
}

/** Whether this device's row in the cloud needs writing. */
export function rowIsStale(
  current: DeviceRecord | undefined,
  wanted: DeviceEntry,
  serverTimeMs: number,
): boolean {
  if (!current) return true;
  return current.name !== wanted.name ||
    current.jdo_version !== wanted.jdoVersion ||
    Math.abs(current.clock_offset_ms - wanted.clockOffsetMs) > OFFSET_JITTER_MS ||
    !(serverTimeMs - Date.parse(current.last_sync_at) < DEVICE_ROW_REFRESH_MS);
}

/**
 * After a successful sync: measures the clock, writes this device's row in
 * the cloud when it changed or is older than DEVICE_ROW_REFRESH_MS, and
 * refreshes the local copy of the whole directory.
 */
export async function publishDevice(
  store: Store,
  directory: DeviceDirectory,
  clock: WallClock,
): Promise<DeviceRecord[]> {
  const measured = await measureClockOffset(directory, clock);
  const entry: DeviceEntry = {
    id: await store.deviceId(),
    name: await deviceName(store),
    jdoVersion: VERSION,
    clockOffsetMs: measured.offsetMs,
  };
  const current = measured.devices.find((d) => d.id === entry.id);
  const devices = rowIsStale(current, entry, measured.serverTimeMs)
    ? await directory.recordDevice(entry)
    : measured.devices;
  await saveLocalCopy(store, devices, clock);
  return devices;
}

/** Replaces the local copy of the directory. */
async function saveLocalCopy(store: Store, devices: DeviceRecord[], clock: WallClock) {
  await store.write(async (w) => {
    await w.tx.execute("DELETE FROM _sync_devices");
    for (const d of devices) {
      await w.tx.execute({
        sql: `INSERT INTO _sync_devices (${DEVICE_FIELDS}) VALUES (?, ?, ?, ?, ?, ?)`,
        args: [d.id, d.name, d.jdo_version, d.first_sync_at, d.last_sync_at, d.clock_offset_ms],
      });
    }
    await writeSyncState(w, { devices_refreshed_at: clock.now().toISOString() });
  });
}

/** A directory rows can be removed from (LibsqlCloud). */
export interface PrunableDirectory extends Pick<DeviceDirectory, "readDevices"> {
  /** Removes one device's row; returns every row left. */
  deleteDevice(id: string): Promise<DeviceRecord[]>;
}

/**
 * `sync devices forget ID`: removes another device's row (by id or unique id
 * prefix) from the cloud's directory and refreshes the local copy. This
 * device is refused. A forgotten device that syncs again adds itself back.
 */
export async function forgetDevice(
  store: Store,
  directory: PrunableDirectory,
  input: string,
  clock: WallClock,
): Promise<DeviceRecord> {
  const prefix = input.trim().toLowerCase();
  if (!prefix) throw new JdoError("USAGE", "Give the ID (or the start of it) of the device");
  const { devices } = await directory.readDevices();
  const matches = devices.filter((d) => d.id.toLowerCase().startsWith(prefix));
  if (matches.length === 0) {
    throw new JdoError(
      "NOT_FOUND",
      `No device in the cloud's list has an ID starting with "${input}"`,
      {
        hint: "List them with: jdo sync devices",
      },
    );
  }
  if (matches.length > 1) {
    throw new JdoError(
      "AMBIGUOUS_ID",
      `The ID "${input}" matches ${matches.length} devices: ${
        matches.map((d) => `${d.name} (${d.id})`).join(", ")
      }. Use more characters.`,
    );
  }
  const [device] = matches;
  if (device.id === await store.deviceId()) {
    throw new JdoError(
      "USAGE",
      `${device.id} is this device; it cannot forget itself (to stop syncing here: jdo sync disable)`,
    );
  }
  await saveLocalCopy(store, await directory.deleteDevice(device.id), clock);
  return device;
}

export interface DeviceList {
  /** When this device last copied the directory from the cloud (its own clock); null: never. */
  refreshed_at: string | null;
  this_device: string;
  devices: (DeviceRecord & { this_device: boolean })[];
}

/** The local copy of the directory, oldest device first. */
export async function listDevices(store: Store): Promise<DeviceList> {
  const rows = await store.query(
    `SELECT ${DEVICE_FIELDS} FROM _sync_devices ORDER BY first_sync_at, id`,
  );
  const at = await store.one("SELECT value FROM _sync_state WHERE key = 'devices_refreshed_at'");
  const me = await store.deviceId();
  return {
    refreshed_at: at?.value ? String(at.value) : null,
    this_device: me,
    devices: rows.map((r) => ({ ...deviceRecord(r), this_device: String(r.id) === me })),
  };
}

/** Devices whose clock was off by more than the merge's bound at their last sync. */
export function skewedDevices(devices: DeviceRecord[]): DeviceRecord[] {
  return devices.filter((d) => Math.abs(d.clock_offset_ms) > CLOCK_SKEW_LIMIT_MS);
}

/** "3.2 s ahead", "2 h 5 min behind", "in step" (under 1 s). */
export function describeOffset(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1_000) return "in step";
  return `${describeDuration(abs)} ${ms > 0 ? "ahead" : "behind"}`;
}

/** A short human duration: "850 ms", "4.2 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function describeDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1_000) return `${Math.round(abs)} ms`;
  if (abs < 60_000) return `${(abs / 1_000).toFixed(1)} s`;
  const minutes = Math.round(abs / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ""}`;
  const days = Math.floor(hours / 24);
  return `${days} d${hours % 24 ? ` ${hours % 24} h` : ""}`;
}
