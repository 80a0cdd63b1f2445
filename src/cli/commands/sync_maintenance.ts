/**
 * The sync commands for keeping sync healthy over months: `sync repair` and
 * `sync devices` (with `sync devices rename` and `forget`), plus the device lines of
 * `sync status`.
 */
import { localTime } from "../../output/local_time.ts";
import type { Command } from "commander";
import type { AppContext } from "../../app/context.ts";
import { JdoError } from "../../errors.ts";
import type { Style } from "../../output/colors.ts";
import { style } from "../../output/colors.ts";
import { pushProgress } from "../../output/progress.ts";
import { renderTable } from "../../output/table.ts";
import { resolveSyncConfig } from "../../sync/config.ts";
import {
  CLOCK_SKEW_LIMIT_MS,
  describeDuration,
  describeOffset,
  forgetDevice,
  listDevices,
  setDeviceName,
} from "../../sync/devices.ts";
import type { RepairReport } from "../../sync/repair.ts";
import { readSyncState } from "../../sync/state.ts";
import type { SyncStatus } from "../../sync/service.ts";
import { printJson } from "../shared.ts";

// Repair and the sync service load @libsql/client: only when these commands run.
const repairSync = async (...a: Parameters<typeof import("../../sync/repair.ts").repairSync>) =>
  (await import("../../sync/repair.ts")).repairSync(...a);
const syncNow = async (...a: Parameters<typeof import("../../sync/service.ts").syncNow>) =>
  (await import("../../sync/service.ts")).syncNow(...a);

const MAX_NAME = 64;

/** A device name: 1–64 characters, no control characters, trimmed. */
export function validDeviceName(raw: string): string {
  const name = raw.trim();
  if (!name) throw new JdoError("USAGE", "The device name is empty");
  if ([...name].length > MAX_NAME) {
    throw new JdoError("USAGE", `The device name is longer than ${MAX_NAME} characters`);
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw new JdoError("USAGE", "The device name contains control characters");
  }
  return name;
}

export function repairSummary(report: RepairReport): string {
  return `↑ ${report.requeued} requeued  ↓ ${report.pulled} pulled, ${report.equal} already equal${
    report.conflicts ? `  ⚠ ${report.conflicts} conflict${report.conflicts === 1 ? "" : "s"}` : ""
  }  (rebuilt ${report.rebuilt.join(", ")}; ${report.duration_ms} ms)`;
}

export function registerRepairCommand(sync: Command, ctx: AppContext): void {
  sync.command("repair")
    .description(
      "Rebuild the replica, watermark and lock, compare every row with the cloud, fix what differs",
    )
    .option("--json", "print {ok, requeued, pulled, equal, rebuilt, duration_ms}")
    .option("--yes", "do not ask")
    .action(async (opts: { json?: boolean; yes?: boolean }) => {
      if (!opts.yes) {
        if (!ctx.io.stdinIsTty) {
          throw new JdoError("USAGE", "Refusing to repair without --yes when not on a terminal");
        }
        const ok = await ctx.prompter.confirm(
          "Rebuild this device's sync state and compare every row with the cloud? No data is deleted.",
          true,
        );
        if (!ok) throw new JdoError("CANCELLED", "Nothing was repaired");
      }
      const bar = pushProgress(ctx.io, opts.json === true);
      try {
        const report = await repairSync(ctx, { hooks: bar.hooks });
        bar.finish();
        if (opts.json) return printJson(ctx, report);
        const s = style(ctx.io.color);
        ctx.io.out(`${s.green("✓")} Repaired: ${repairSummary(report)}`);
      } catch (error) {
        bar.abort();
        if (opts.json && error instanceof JdoError) {
          printJson(ctx, {
            ok: false,
            requeued: 0,
            pulled: 0,
            equal: 0,
            rebuilt: [],
            duration_ms: 0,
            error: error.message,
            error_code: error.code,
          });
        }
        throw error;
      }
    });
}

/** A device's sync time on the viewer's clock. */
function day(iso: string, timeZone: string): string {
  return localTime(iso, timeZone);
}

export function registerDevicesCommand(sync: Command, ctx: AppContext): void {
  const devices = sync.command("devices")
    .description("Every device that synced with this cloud: name, version, last sync, clock")
    .option("--json", "print {refreshed_at, this_device, devices: [...]}")
    .action(async (opts: { json?: boolean }) => {
      const store = await ctx.store();
      const copied = await listDevices(store);
      // This device's own last sync is known here, whatever the copied list says.
      const ownLast = (await readSyncState(store)).lastSuccessAt;
      const list = { ...copied, this_device_last_sync_at: ownLast };
      if (opts.json) return printJson(ctx, list);
      const config = await resolveSyncConfig(ctx);
      if (list.devices.length === 0) {
        ctx.io.out(
          config.enabled
            ? "No device list yet: it is copied from the cloud at the next sync (jdo sync now)."
            : "Sync is off: no devices. Turn it on with: jdo sync setup",
        );
        return;
      }
      const s = style(ctx.io.color);
      const rows = list.devices.map((d) => {
        const clock = describeOffset(d.clock_offset_ms);
        return [
          d.this_device ? "*" : " ",
          d.id,
          d.name,
          d.jdo_version,
          day(d.first_sync_at, ctx.timeZone()),
          day(
            d.this_device && ownLast && ownLast > d.last_sync_at ? ownLast : d.last_sync_at,
            ctx.timeZone(),
          ),
          Math.abs(d.clock_offset_ms) > CLOCK_SKEW_LIMIT_MS ? s.red(`${clock} ⚠`) : clock,
        ];
      });
      const age = list.refreshed_at
        ? describeDuration(ctx.clock.now().getTime() - Date.parse(list.refreshed_at))
        : "";
      ctx.io.out([
        renderTable([
          "",
          "ID",
          "NAME",
          "JDO",
          `FIRST SYNC (${ctx.timeZone()})`,
          "LAST SYNC",
          "CLOCK VS CLOUD",
        ], rows),
        "",
        `${list.devices.length} device${list.devices.length === 1 ? "" : "s"}; * is this one. ` +
        `List copied from the cloud at this device's last sync${
          list.refreshed_at ? ` (${list.refreshed_at}, ${age} ago)` : ""
        }.`,
      ].join("\n"));
    });

  devices.command("forget")
    .description(
      "Remove another device from the cloud's device list (it re-adds itself if it syncs)",
    )
    .argument("<id>", "the device's ID or the start of it")
    .action(async (id: string) => {
      const { openCloud, requireEnabled } = await import("../../sync/service.ts");
      const config = await requireEnabled(ctx);
      const store = await ctx.store();
      const cloud = openCloud(ctx, config, 10_000);
      try {
        const gone = await forgetDevice(store, cloud, id, ctx.clock);
        ctx.io.out(`Forgot device "${gone.name}" (${gone.id}); it is no longer listed.`);
      } finally {
        await cloud.close();
      }
    });

  devices.command("rename")
    .description("Rename this device (published to the cloud at the next sync)")
    .argument("<name>", "the new name")
    .action(async (raw: string) => {
      const name = validDeviceName(raw);
      const store = await ctx.store();
      await setDeviceName(store, name);
      const config = await resolveSyncConfig(ctx);
      if (!config.enabled || !config.url || !config.token) {
        ctx.io.out(`This device is now "${name}" (published when sync is on).`);
        return;
      }
      try {
        await syncNow(ctx, { lockWaitMs: 5_000 });
        ctx.io.out(`This device is now "${name}" on every device's list.`);
      } catch (error) {
        if (!(error instanceof JdoError)) throw error;
        ctx.io.out(`This device is now "${name}"; the cloud learns it at the next sync.`);
        ctx.io.err(`Could not sync now: ${error.message}`);
      }
    });
}

/** The device count and a warning per device whose clock was off too far. */
export function deviceStatusLines(status: SyncStatus, s: Style): string[] {
  if (status.devices === undefined) return [];
  const lines = [`Devices:   ${status.devices} synced with this cloud (jdo sync devices)`];
  for (const d of status.clock_skewed_devices ?? []) {
    lines.push(
      s.yellow(
        `⚠ The clock of device ${d.name} (${d.id}) was ${
          describeOffset(d.clock_offset_ms)
        } of the cloud at its last sync (more than ${
          describeDuration(CLOCK_SKEW_LIMIT_MS)
        }): its edits may win or lose wrongly; fix its clock`,
      ),
    );
  }
  const named = new Set((status.clock_skewed_devices ?? []).map((d) => d.id));
  for (const v of status.versions_ahead ?? []) {
    if (named.has(v.device_id)) continue;
    lines.push(
      s.yellow(
        `⚠ Edits from device ${v.device_id} carried versions ${
          describeDuration(v.ahead_ms)
        } ahead of this device's clock (seen ${
          v.seen_at.slice(0, 16)
        }): they win concurrent edits until the clocks agree`,
      ),
    );
  }
  return lines;
}
