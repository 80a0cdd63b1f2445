import { listDevices } from "../../sync/devices.ts";
import { safeLine } from "../../output/safe_text.ts";
import { type Command, Option } from "commander";
import type { AppContext } from "../../app/context.ts";
import { pathExists } from "../../config/atomic_file.ts";
import { type ErrorCode, JdoError } from "../../errors.ts";
import { style } from "../../output/colors.ts";
import { pushProgress } from "../../output/progress.ts";
import { pendingMarker } from "../../sync/background.ts";
import { readSyncState } from "../../sync/state.ts";
import { type ConflictView, listConflicts, restoreConflict } from "../../sync/conflicts.ts";
import type { SyncReport, SyncStatus } from "../../sync/service.ts";
import { entity, type EntityName, isEntityName } from "../../db/schema.ts";
import type { Store } from "../../db/store.ts";
import { localDateTime } from "../../domain/dates.ts";
import { toRecord } from "../../domain/records.ts";
import {
  deviceStatusLines,
  registerDevicesCommand,
  registerRepairCommand,
  validDeviceName,
} from "./sync_maintenance.ts";
import { confirmDestructive } from "../confirm.ts";
import { encryptionLines, registerKeyCommands } from "./sync_key.ts";
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

const short = (id: string) => id.slice(0, 6);

/**
 * Names for a conflict list: a row's title, the row a reference column
 * points to, and a device's name; ids only where no name is known, shortened.
 */
class ConflictNames {
  #labels = new Map<string, string | undefined>();
  constructor(
    readonly store: Store,
    readonly devices: Map<string, string>,
    readonly timeZone: string,
  ) {}

  async label(kind: string, id: string): Promise<string | undefined> {
    if (!isEntityName(kind)) return undefined;
    const key = `${kind}:${id}`;
    if (!this.#labels.has(key)) {
      const def = entity(kind);
      const row = await this.store.one(
        `SELECT ${def.label} AS label FROM ${def.table} WHERE id = ?`,
        [id],
      );
      this.#labels.set(key, row?.label == null ? undefined : String(row.label));
    }
    return this.#labels.get(key);
  }

  /** `"Carol" (a1b2c3)` for a row, the short id alone when it has no title here. */
  async row(kind: string, id: string): Promise<string> {
    const label = await this.label(kind, id);
    return label === undefined ? short(id) : `${JSON.stringify(label)} (${short(id)})`;
  }

  /** A field's value; a reference column's value is the row it points to. */
  async value(kind: string, column: string, value: unknown): Promise<string> {
    if (typeof value !== "string" || !isEntityName(kind)) return shown(value);
    const link = entity(kind).parents.find((p) => p.column === column);
    return link ? await this.row(link.entity, value) : shown(value);
  }

  device(id: string): string {
    return this.devices.get(id) ?? short(id);
  }

  time(iso: string): string {
    return localDateTime(iso, this.timeZone);
  }
}

/** "kept X, lost Y" for each column of the lost field group (or of a lost row). */
async function describeChange(view: ConflictView, names: ConflictNames): Promise<string[]> {
  const value = (key: string, v: unknown) => names.value(view.entity, key, v);
  if (view.kind === "row" || !view.kept || !view.lost) {
    const loser = view.winner === "local" ? view.remote : view.local;
    const winner = view.winner === "local" ? view.local : view.remote;
    const lines: string[] = [];
    for (const key of Object.keys({ ...loser, ...winner })) {
      if (["version", "updated_at", "_fv"].includes(key)) continue;
      if (JSON.stringify(loser[key]) !== JSON.stringify(winner[key])) {
        lines.push(
          `    ${key}: kept ${await value(key, winner[key])}, lost ${await value(key, loser[key])}`,
        );
      }
    }
    return lines.length ? lines : ["    (same values, different versions)"];
  }
  if (view.kind === "delete") {
    const lost: string[] = [];
    for (const [k, v] of Object.entries(view.lost)) lost.push(`${k} ${await value(k, v)}`);
    return [`    kept the delete, lost the edit: ${lost.join(", ")}`];
  }
  const lines: string[] = [];
  for (const key of Object.keys(view.lost)) {
    lines.push(
      `    ${key}: kept ${await value(key, view.kept![key])}, lost ${await value(
        key,
        view.lost![key],
      )}`,
    );
  }
  return lines;
}

async function conflictHeading(c: ConflictView, names: ConflictNames): Promise<string> {
  const what = `${c.entity} ${await names.row(c.entity, c.id)}${c.field ? ` ${c.field}` : ""}`;
  const state = c.resolved_at ? `restored ${names.time(c.resolved_at)}` : "open";
  const devices = c.lost_device && c.kept_device
    ? ` (lost on ${names.device(c.lost_device)}, kept from ${names.device(c.kept_device)})`
    : ` (detected on ${names.device(c.detected_by)})`;
  return `${short(c.conflict_id)}  ${names.time(c.detected_at)}  ${what}  ${state}${devices}`;
}

const TOKEN_SOURCE_TEXT: Record<string, string> = {
  keyring: "keyring (the OS credential store)",
  auth_store: "auth store (auth.json)",
  env: "env (JDO_TURSO_AUTH_TOKEN)",
};

/**
 * The last success, and the last failure while it is the newer of the two
 * (once a sync or repair succeeds, the failure is history: `--json` still
 * has it, dated). Times on the viewer's clock.
 */
function lastSyncLines(status: SyncStatus, timeZone: string): string[] {
  const at = (iso: string) => `${localTime(iso, timeZone)} ${timeZone}`;
  const success = `Last ok:   ${status.last_success_at ? at(status.last_success_at) : "never"}`;
  const failedLast = status.last_failure_at !== null && status.last_result !== "ok" &&
    (!status.last_success_at ||
      Date.parse(status.last_failure_at) >= Date.parse(status.last_success_at));
  if (!failedLast) return [success];
  const failure = `Last fail: ${at(status.last_failure_at!)} (${
    status.last_error ?? status.last_result
  })`;
  return [failure, success];
}

/** "40 s old", "3 min old", "5 h old", "2 days old". */
export function ageText(seconds: number): string {
  if (seconds < 60) return `${seconds} s old`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min old`;
  if (seconds < 48 * 3600) return `${Math.floor(seconds / 3600)} h old`;
  return `${Math.floor(seconds / 86_400)} days old`;
}

/**
 * `sync status` exits 3 when the cloud cannot be reached, refuses the token
 * or is not this device's cloud (as `gh auth status` does for a bad login);
 * the output already says why, so the error itself prints nothing.
 */
const STATUS_FAILURE: Partial<Record<SyncStatus["state"], ErrorCode>> = {
  offline: "SYNC_UNREACHABLE",
  auth_error: "SYNC_AUTH",
  wrong_cloud: "SYNC_WRONG_CLOUD",
  key_missing: "SYNC_KEY_MISSING",
  key_wrong: "SYNC_KEY_WRONG",
};

function statusFailure(status: SyncStatus): JdoError | undefined {
  const code = STATUS_FAILURE[status.state];
  return code ? new JdoError(code, "", { hint: "" }) : undefined;
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
    .option(
      "--encrypt",
      "encrypt the (empty) cloud end to end: a new key, shown once as a 24-word recovery phrase",
    )
    .option(
      "--key-file <path>",
      "a file holding the recovery phrase of an encrypted cloud (else JDO_SYNC_KEY or a prompt)",
    )
    .addOption(new Option("--token <token>").hideHelp())
    .action(async (opts: {
      token?: string;
      url?: string;
      tokenStdin?: boolean;
      upload?: boolean;
      backup?: boolean;
      yes?: boolean;
      discardLocal?: boolean;
      name?: string;
      encrypt?: boolean;
      keyFile?: string;
    }, command: Command) => {
      if (opts.token !== undefined) {
        ctx.io.secrets.add(opts.token);
        throw new JdoError(
          "USAGE",
          "The token is never taken from arguments (it would stay in your shell history): " +
            'pipe it with --token-stdin (echo "$TOKEN" | jdo sync setup --url URL --token-stdin) or set JDO_TURSO_AUTH_TOKEN',
        );
      }
      const given = (name: string) => command.getOptionValueSource(name) === "cli";
      const name = opts.name === undefined ? undefined : validDeviceName(opts.name);
      const report = await ctx.interrupts.guard(
        "Interrupted; nothing was saved — run `jdo sync setup` again",
        () =>
          runSetup(ctx, {
            url: opts.url,
            tokenStdin: opts.tokenStdin,
            upload: given("upload") ? opts.upload : undefined,
            backup: given("backup") ? opts.backup : undefined,
            yes: opts.yes,
            discardLocal: opts.discardLocal,
            name,
            encrypt: opts.encrypt,
            keyFile: opts.keyFile,
          }),
      );
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
      const failure = statusFailure(status);
      if (opts.json) {
        printJson(ctx, status);
        if (failure) throw failure;
        return;
      }
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
        wrong_cloud: s.red("wrong database"),
        key_missing: s.red("encryption key missing here"),
        key_wrong: s.red("wrong encryption key"),
      };
      ctx.io.out([
        `Sync:      ${s.bold("on")} — ${stateText[status.state] ?? status.state}${
          status.state_detail ? ` (${status.state_detail})` : ""
        }`,
        `Database:  ${status.url} (${
          status.url_source === "env" ? "from JDO_TURSO_DB_URL" : "settings.json"
        })`,
        `Token:     ${TOKEN_SOURCE_TEXT[status.token_source] ?? "missing"}`,
        ...encryptionLines(status, s),
        ...lastSyncLines(status, ctx.timeZone()),
        `Cloud view: ${
          status.cloud_view_age_s === null ? "none yet" : ageText(status.cloud_view_age_s)
        }`,
        `Pending:   ${status.pending_changes} local change${
          status.pending_changes === 1 ? "" : "s"
        }`,
        `Conflicts: ${status.conflicts} open${status.conflicts ? " (jdo sync conflicts)" : ""}`,
        `Device:    ${status.device_id}`,
        ...deviceStatusLines(status, s),
      ].join("\n"));
      if (failure) throw failure;
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
        const report = await ctx.interrupts.guard(
          "Interrupted; nothing lost — run `jdo sync now` to finish",
          () => syncNow(ctx, { hooks: bar.hooks }),
        );
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
      const pending = (await readSyncState(await ctx.store())).pendingChanges;
      const unsent = pending > 0
        ? `${pending} local change${pending === 1 ? " has" : "s have"} not reached the cloud yet; ${
          pending === 1 ? "it stays" : "they stay"
        } on this device.`
        : "";
      if (unsent && opts.yes) ctx.io.err(unsent);
      await confirmDestructive(ctx, {
        yes: opts.yes,
        action: "turn sync off",
        question: `${
          unsent ? `${unsent} ` : ""
        }Turn sync off on this device? Local data stays; the token is removed.`,
        defaultAnswer: true,
        cancelled: "Sync is still on",
      });
      await disableSync(ctx);
      ctx.io.out("Sync is off. Local data is unchanged; the cloud database was left as it is.");
    });

  registerRepairCommand(sync, ctx);
  registerKeyCommands(sync, ctx);
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
      const names = new ConflictNames(
        store,
        new Map(devices.map((d) => [d.id, d.name])),
        ctx.timeZone(),
      );
      const lines: string[] = [];
      for (const c of list) {
        lines.push(safeLine(await conflictHeading(c, names)));
        lines.push(...(await describeChange(c, names)).map(safeLine));
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
        `Restored ${c.field ?? "the lost row"} of ${c.entity} ${short(c.id)}${
          result.undeleted ? " (brought the row back)" : ""
        }; it syncs as a new edit.`,
      );
    });
}
