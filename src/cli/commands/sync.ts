import { listDevices } from "../../sync/devices.ts";
import { safeLine } from "../../output/safe_text.ts";
import type { Command } from "commander";
import type { AppContext } from "../../app/context.ts";
import { pathExists } from "../../config/atomic_file.ts";
import { JdoError } from "../../errors.ts";
import { style } from "../../output/colors.ts";
import { pushProgress } from "../../output/progress.ts";
import { pendingMarker } from "../../sync/background.ts";
import { type ConflictView, listConflicts, restoreConflict } from "../../sync/conflicts.ts";
import type { SyncReport, SyncStatus } from "../../sync/service.ts";
import { entity, type EntityName } from "../../db/schema.ts";
import { toRecord } from "../../domain/records.ts";
import {
  deviceStatusLines,
  registerDevicesCommand,
  registerRepairCommand,
  validDeviceName,
} from "./sync_maintenance.ts";
import { confirmDestructive } from "../confirm.ts";
import { localTime } from "../../output/local_time.ts";
import { parseLimit, printJson } from "../shared.ts";

// The sync service loads @libsql/client: import it only when a sync command
// runs, so `jdo --help`, `--version` and `completions` never pay for it.
type Service = typeof import("../../sync/service.ts");
const service = () => import("../../sync/service.ts");
const syncNow = async (...a: Parameters<Service["syncNow"]>) => (await service()).syncNow(...a);
const syncStatus = async (...a: Parameters<Service["syncStatus"]>) =>
  (await service()).syncStatus(...a);
const disableSync = async (...a: Parameters<Service["disableSync"]>) =>
  (await service()).disableSync(...a);
const disableLeftovers = async (...a: Parameters<Service["disableLeftovers"]>) =>
  (await service()).disableLeftovers(...a);
type Setup = typeof import("../../sync/setup.ts");
const runSetup = async (...a: Parameters<Setup["runSetup"]>) =>
  (await import("../../sync/setup.ts")).runSetup(...a);

export function summary(report: SyncReport): string {
  return `↑ ${report.pushed} pushed  ↓ ${report.pulled} pulled  ⚠ ${report.conflicts} conflict${
    report.conflicts === 1 ? "" : "s"
  }  (${report.duration_ms} ms)`;
}

/**
 * `sync now --background` (started after writes): never waits for another
 * sync; leaves a marker instead, which the running sync picks up.
 */
async function backgroundSync(ctx: AppContext): Promise<void> {
  const marker = pendingMarker(ctx);
  for (let round = 0; round < 3; round++) {
    try {
      await Deno.remove(marker).catch(() => {});
      await syncNow(ctx, { lockWaitMs: 0 });
    } catch (error) {
      if (error instanceof JdoError && error.code === "SYNC_BUSY") {
        await Deno.writeTextFile(marker, "").catch(() => {});
      }
      return; // the result is recorded for `sync status`
    }
    if (!await pathExists(marker)) return;
  }
}

function shown(value: unknown): string {
  if (value === null || value === undefined) return "(empty)";
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/** "kept X, lost Y" for each column of the lost field group (or of a lost row). */
function describeChange(view: ConflictView): string[] {
  if (view.kind === "row" || !view.kept || !view.lost) {
    const loser = view.winner === "local" ? view.remote : view.local;
    const winner = view.winner === "local" ? view.local : view.remote;
    const lines: string[] = [];
    for (const key of Object.keys({ ...loser, ...winner })) {
      if (["version", "updated_at", "_fv"].includes(key)) continue;
      if (JSON.stringify(loser[key]) !== JSON.stringify(winner[key])) {
        lines.push(`    ${key}: kept ${shown(winner[key])}, lost ${shown(loser[key])}`);
      }
    }
    return lines.length ? lines : ["    (same values, different versions)"];
  }
  if (view.kind === "delete") {
    const lost = Object.entries(view.lost).map(([k, v]) => `${k} ${shown(v)}`).join(", ");
    return [`    kept the delete, lost the edit: ${lost}`];
  }
  return Object.keys(view.lost).map((key) =>
    `    ${key}: kept ${shown(view.kept![key])}, lost ${shown(view.lost![key])}`
  );
}

function conflictHeading(c: ConflictView, names: Map<string, string>): string {
  const dev = (id: string) => names.has(id) ? `${names.get(id)} (${id})` : id;
  const what = c.field
    ? `${c.entity} ${c.id.slice(0, 8)} ${c.field}`
    : `${c.entity} ${c.id.slice(0, 8)}`;
  const state = c.resolved_at ? `restored ${c.resolved_at}` : "open";
  const devices = c.lost_device && c.kept_device
    ? ` (lost on ${dev(c.lost_device)}, kept from ${dev(c.kept_device)})`
    : ` (detected on ${dev(c.detected_by)})`;
  return `${c.conflict_id.slice(0, 8)}  ${c.detected_at}  ${what}  ${state}${devices}`;
}

const TOKEN_SOURCE_TEXT: Record<string, string> = {
  keyring: "keyring (the OS credential store)",
  auth_store: "auth store (auth.json)",
  env: "env (JDO_TURSO_AUTH_TOKEN / TURSO_AUTH_TOKEN)",
};

/** The last success and the last failure, each on its own line, newest first. */
function lastSyncLines(status: SyncStatus, timeZone: string): string[] {
  const at = (iso: string) => `${localTime(iso, timeZone)} ${timeZone}`;
  const success = `Last ok:   ${status.last_success_at ? at(status.last_success_at) : "never"}`;
  if (!status.last_failure_at) return [success];
  const failure = `Last fail: ${at(status.last_failure_at)} (${
    status.last_error ?? status.last_result
  })`;
  return status.last_result === "ok" ? [success, failure] : [failure, success];
}

export function registerSyncCommands(program: Command, ctx: AppContext): void {
  const sync = program.command("sync").description(
    "Cloud sync with a Turso/libSQL database: setup, status, now, disable, repair, devices, conflicts",
  );

  sync.command("setup")
    .description("Connect this device to a Turso/libSQL cloud database")
    .option("--url <url>", "database URL (libsql://, https://, wss://; http:// only on localhost)")
    .option("--token-stdin", "read the token from stdin (it is never taken from arguments)")
    .option("--upload", "upload this device's existing data (default)")
    .option(
      "--no-upload",
      "do not upload: refused when this device has data the cloud lacks (see --discard-local)",
    )
    .option(
      "--discard-local",
      "replace this device's data with the cloud's (backed up first; the only way setup drops local data)",
    )
    .option("--backup", "back up the local database first (default)")
    .option("--no-backup", "skip the backup")
    .option("--yes", "do not ask (replace an existing configuration)")
    .option("--name <name>", "this device's name in `jdo sync devices` (default: the host name)")
    .action(async (opts: {
      url?: string;
      tokenStdin?: boolean;
      upload?: boolean;
      backup?: boolean;
      yes?: boolean;
      discardLocal?: boolean;
      name?: string;
    }, command: Command) => {
      const given = (name: string) => command.getOptionValueSource(name) === "cli";
      const name = opts.name === undefined ? undefined : validDeviceName(opts.name);
      const report = await runSetup(ctx, {
        url: opts.url,
        tokenStdin: opts.tokenStdin,
        upload: given("upload") ? opts.upload : undefined,
        backup: given("backup") ? opts.backup : undefined,
        yes: opts.yes,
        discardLocal: opts.discardLocal,
        name,
      });
      const s = style(ctx.io.color);
      ctx.io.out(
        `${s.green("✓")} Sync is on: ↑ ${report.pushed} uploaded, ↓ ${report.pulled} downloaded${
          report.conflicts ? `, ⚠ ${report.conflicts} conflicts` : ""
        }`,
      );
    });

  sync.command("status")
    .description("Is sync on, can the cloud be reached, what is waiting")
    .option("--json", "print a JSON object")
    .action(async (opts: { json?: boolean }) => {
      const status = await syncStatus(ctx);
      for (const warning of status.warnings) ctx.io.err(`jdo: warning: ${warning}`);
      if (opts.json) return printJson(ctx, status);
      const s = style(ctx.io.color);
      if (!status.enabled) {
        ctx.io.out(`Sync: ${s.bold("off")} (local only). Turn it on with: jdo sync setup`);
        ctx.io.out(`Device: ${status.device_id}`);
        return;
      }
      const stateText: Record<string, string> = {
        online: s.green("online"),
        offline: s.yellow("offline"),
        auth_error: s.red("auth error"),
        schema_mismatch: s.red("schema mismatch (upgrade jdo)"),
      };
      ctx.io.out([
        `Sync:      ${s.bold("on")} — ${stateText[status.state] ?? status.state}${
          status.state_detail ? ` (${status.state_detail})` : ""
        }`,
        `Database:  ${status.url} (${
          status.url_source === "env" ? "from environment" : "settings.json"
        })`,
        `Token:     ${TOKEN_SOURCE_TEXT[status.token_source] ?? "missing"}`,
        ...lastSyncLines(status, ctx.timeZone()),
        `Pending:   ${status.pending_changes} local change${
          status.pending_changes === 1 ? "" : "s"
        }`,
        `Conflicts: ${status.conflicts} open${status.conflicts ? " (jdo sync conflicts)" : ""}`,
        `Device:    ${status.device_id}`,
        ...deviceStatusLines(status, s),
      ].join("\n"));
    });

  sync.command("now")
    .description("Pull, merge and push now")
    .option("--json", "print {ok, pushed, pulled, conflicts, duration_ms, error?}")
    .option("--background", "internal: the detached sync started after writes")
    .action(async (opts: { json?: boolean; background?: boolean }) => {
      if (opts.background) return await backgroundSync(ctx);
      const bar = pushProgress(ctx.io, opts.json === true);
      const started = performance.now();
      try {
        const report = await syncNow(ctx, { hooks: bar.hooks });
        bar.finish();
        if (opts.json) printJson(ctx, report);
        else ctx.io.out(summary(report));
      } catch (error) {
        bar.abort();
        if (opts.json && error instanceof JdoError) {
          printJson(ctx, {
            ok: false,
            pushed: 0,
            pulled: 0,
            conflicts: 0,
            duration_ms: Math.round(performance.now() - started),
            error: error.message,
            error_code: error.code,
          });
        }
        throw error;
      }
    });

  sync.command("disable")
    .description("Go back to local-only (local data stays; cloud data is left untouched)")
    .option("--yes", "do not ask")
    .action(async (opts: { yes?: boolean }) => {
      if ((await disableLeftovers(ctx)).length === 0) {
        ctx.io.out("Sync is already off; nothing to do.");
        return;
      }
      await confirmDestructive(ctx, {
        yes: opts.yes,
        action: "turn sync off",
        question: "Turn sync off on this device? Local data stays; the token is removed.",
        defaultAnswer: true,
        cancelled: "Sync is still on",
      });
      await disableSync(ctx);
      ctx.io.out("Sync is off. Local data is unchanged; the cloud database was left as it is.");
    });

  registerRepairCommand(sync, ctx);
  registerDevicesCommand(sync, ctx);

  const conflicts = sync.command("conflicts")
    .description("Values that lost a merge (same field changed on two devices, or edit vs delete)")
    .option("--json", "print a JSON array")
    .option("--all", "include conflicts already restored")
    .option("--limit <n>", "at most N conflicts, newest first", "20")
    .action(async (opts: { json?: boolean; limit: string; all?: boolean }) => {
      const store = await ctx.store();
      const list = await listConflicts(store, {
        limit: parseLimit(opts.limit),
        all: opts.all,
      });
      if (opts.json) return printJson(ctx, list);
      if (list.length === 0) {
        return ctx.io.out(opts.all ? "No conflicts recorded." : "No open conflicts.");
      }
      const { devices } = await listDevices(store);
      const names = new Map(devices.map((d) => [d.id, d.name]));
      const lines: string[] = [];
      for (const c of list) {
        lines.push(safeLine(conflictHeading(c, names)));
        lines.push(...describeChange(c).map(safeLine));
      }
      if (list.some((c) => !c.resolved_at)) {
        lines.push("", "Bring a lost value back with: jdo sync conflicts restore CONFLICT_ID");
      }
      ctx.io.out(lines.join("\n"));
    });

  conflicts.command("restore")
    .description("Re-apply a lost value as a new edit (it then wins on every device)")
    .argument("<conflict-id>", "the conflict's ID or a unique prefix (4+ characters)")
    .option("--json", "print the restored conflict and row")
    .action(async (conflictId: string, opts: { json?: boolean }) => {
      const store = await ctx.store();
      const result = await restoreConflict(store, conflictId);
      // `--json` after the id is parsed by the parent (`conflicts --json`).
      if (opts.json || conflicts.opts().json) {
        return printJson(ctx, {
          conflict: result.conflict,
          row: toRecord(entity(result.conflict.entity as EntityName), result.row),
          undeleted: result.undeleted,
        });
      }
      const c = result.conflict;
      ctx.io.out(
        `Restored ${c.field ?? "the lost row"} of ${c.entity} ${c.id.slice(0, 8)}${
          result.undeleted ? " (brought the row back)" : ""
        }; it syncs as a new edit.`,
      );
    });
}
