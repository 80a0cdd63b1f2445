import type { Command } from "commander";
import type { AppContext } from "../../app/context.ts";
import { pathExists } from "../../config/atomic_file.ts";
import { JdoError } from "../../errors.ts";
import { style } from "../../output/colors.ts";
import { progressBar } from "../../output/progress.ts";
import { pendingMarker } from "../../sync/background.ts";
import type { ConflictView, SyncReport } from "../../sync/service.ts";
import { parseInteger, printJson } from "../shared.ts";

// The sync modules load @libsql/client: import them only when a sync command
// runs, so `jdo --help`, `--version` and `completions` never pay for it.
type Service = typeof import("../../sync/service.ts");
const service = () => import("../../sync/service.ts");
const syncNow = async (...a: Parameters<Service["syncNow"]>) => (await service()).syncNow(...a);
const syncStatus = async (...a: Parameters<Service["syncStatus"]>) =>
  (await service()).syncStatus(...a);
const disableSync = async (...a: Parameters<Service["disableSync"]>) =>
  (await service()).disableSync(...a);
const listConflicts = async (...a: Parameters<Service["listConflicts"]>) =>
  (await service()).listConflicts(...a);
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

function describeChange(view: ConflictView): string[] {
  const loser = view.winner === "local" ? view.remote : view.local;
  const winner = view.winner === "local" ? view.local : view.remote;
  const lines: string[] = [];
  for (const key of Object.keys({ ...loser, ...winner })) {
    if (["version", "updated_at"].includes(key)) continue;
    if (JSON.stringify(loser[key]) !== JSON.stringify(winner[key])) {
      lines.push(
        `    ${key}: kept ${JSON.stringify(winner[key])}; lost ${JSON.stringify(loser[key])}`,
      );
    }
  }
  return lines.length ? lines : ["    (same values, different versions)"];
}

export function registerSyncCommands(program: Command, ctx: AppContext): void {
  const sync = program.command("sync").description(
    "Cloud sync with a Turso/libSQL database: setup, status, now, disable, conflicts",
  );

  sync.command("setup")
    .description("Connect this device to a Turso/libSQL cloud database")
    .option("--url <url>", "database URL (libsql://, https://, wss://; http:// only on localhost)")
    .option("--token-stdin", "read the token from stdin (it is never taken from arguments)")
    .option("--upload", "upload this device's existing data (default)")
    .option("--no-upload", "start this device from the cloud's data; keep old data as a backup")
    .option("--backup", "back up the local database first (default)")
    .option("--no-backup", "skip the backup")
    .option("--yes", "do not ask (replace an existing configuration)")
    .action(async (opts: {
      url?: string;
      tokenStdin?: boolean;
      upload?: boolean;
      backup?: boolean;
      yes?: boolean;
    }, command: Command) => {
      const given = (name: string) => command.getOptionValueSource(name) === "cli";
      const report = await runSetup(ctx, {
        url: opts.url,
        tokenStdin: opts.tokenStdin,
        upload: given("upload") ? opts.upload : undefined,
        backup: given("backup") ? opts.backup : undefined,
        yes: opts.yes,
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
        `Token:     ${
          status.token_source === "env"
            ? "from environment"
            : status.token_source === "auth_store"
            ? "auth.json"
            : "missing"
        }`,
        `Last sync: ${status.last_sync_at ?? "never"}${
          status.last_result
            ? ` (${status.last_result === "ok" ? "ok" : status.last_error ?? status.last_result})`
            : ""
        }`,
        `Pending:   ${status.pending_changes} local change${
          status.pending_changes === 1 ? "" : "s"
        }`,
        `Conflicts: ${status.conflicts} recorded${status.conflicts ? " (jdo sync conflicts)" : ""}`,
        `Device:    ${status.device_id}`,
      ].join("\n"));
    });

  sync.command("now")
    .description("Pull, merge and push now")
    .option("--json", "print {ok, pushed, pulled, conflicts, duration_ms, error?}")
    .option("--background", "internal: the detached sync started after writes")
    .action(async (opts: { json?: boolean; background?: boolean }) => {
      if (opts.background) return await backgroundSync(ctx);
      let bar: ReturnType<typeof progressBar> | undefined;
      const hooks = opts.json ? {} : {
        onPushProgress(done: number, total: number) {
          if (total < 500) return;
          bar ??= progressBar(ctx.io, "Pushing", total);
          bar.update(done);
        },
      };
      try {
        const report = await syncNow(ctx, { hooks });
        bar?.finish();
        if (opts.json) printJson(ctx, report);
        else ctx.io.out(summary(report));
      } catch (error) {
        bar?.abort();
        if (opts.json && error instanceof JdoError) {
          printJson(ctx, {
            ok: false,
            pushed: 0,
            pulled: 0,
            conflicts: 0,
            duration_ms: 0,
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
      const settings = await ctx.settings();
      if (!settings.turso_enabled) {
        ctx.io.out("Sync is already off; nothing to do.");
        return;
      }
      if (!opts.yes && ctx.io.stdinIsTty) {
        const ok = await ctx.prompter.confirm(
          "Turn sync off on this device? Local data stays; the token is removed.",
          true,
        );
        if (!ok) throw new JdoError("CANCELLED", "Sync is still on");
      }
      await disableSync(ctx);
      ctx.io.out("Sync is off. Local data is unchanged; the cloud database was left as it is.");
    });

  sync.command("conflicts")
    .description("Edits that lost a last-write-wins conflict, with both full rows")
    .option("--json", "print a JSON array")
    .option("--limit <n>", "at most N conflicts, newest first", "20")
    .action(async (opts: { json?: boolean; limit: string }) => {
      const conflicts = await listConflicts(ctx, parseInteger(opts.limit, "--limit"));
      if (opts.json) return printJson(ctx, conflicts);
      if (conflicts.length === 0) return ctx.io.out("No conflicts recorded.");
      const lines: string[] = [];
      for (const c of conflicts) {
        lines.push(
          `${c.resolved_at}  ${c.entity} ${
            c.id.slice(0, 8)
          }  ${c.winner} edit won (detected on device ${c.detected_by})`,
        );
        lines.push(...describeChange(c));
      }
      ctx.io.out(lines.join("\n"));
    });
}
