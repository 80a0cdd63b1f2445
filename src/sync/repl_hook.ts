import type { AppContext } from "../app/context.ts";
import { resolveSyncConfig } from "./config.ts";
import { syncStatus } from "./service.ts";

/** The cloud-sync hook the REPL drives. */
export interface ReplSync {
  /** "" when sync is disabled; otherwise e.g. "✓", "⇡3", "offline", "auth error" */
  indicator(): Promise<string>;
  /** run one sync in the background; must never throw */
  syncNow(): Promise<string>; // returns a one-line summary to print for /sync
  intervalSeconds: number;
}

const AUTH_CODES = new Set(["SYNC_AUTH", "SYNC_READ_ONLY"]);

/** The prompt's sync marker from the last recorded result and the queue length. */
export function indicatorText(lastResult: string | null, pending: number): string {
  if (lastResult && AUTH_CODES.has(lastResult)) return "auth error";
  if (lastResult === "SYNC_SCHEMA_MISMATCH") return "upgrade jdo";
  if (lastResult && lastResult !== "ok") return pending > 0 ? `offline ⇡${pending}` : "offline";
  return pending > 0 ? `⇡${pending}` : "✓";
}

/**
 * The REPL's sync hook, or undefined when sync is off. Syncs run as a
 * separate `jdo sync now --json` process, so the REPL's own database
 * connection never waits on a sync transaction and input never blocks.
 */
export async function replSyncHook(ctx: AppContext): Promise<ReplSync | undefined> {
  const config = await resolveSyncConfig(ctx, { token: false });
  if (!config.enabled) return undefined;
  return {
    intervalSeconds: config.intervalSeconds,
    async indicator() {
      try {
        const status = await syncStatus(ctx, false);
        return indicatorText(status.last_result, status.pending_changes);
      } catch {
        return "?";
      }
    },
    async syncNow() {
      try {
        const [command, ...prefix] = ctx.selfCommand;
        const output = await new Deno.Command(command, {
          args: [...prefix, "sync", "now", "--json"],
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
          env: { RUST_LOG: "off", JDO_SYNC_AUTO: "0" },
        }).output();
        const report = JSON.parse(new TextDecoder().decode(output.stdout));
        if (!report.ok) return `Sync failed: ${report.error}`;
        return `↑ ${report.pushed} pushed  ↓ ${report.pulled} pulled  ⚠ ${report.conflicts} conflicts`;
      } catch (error) {
        return `Sync failed: ${(error as Error).message.split("\n")[0]}`;
      }
    },
  };
}
