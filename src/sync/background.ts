import type { AppContext } from "../app/context.ts";
import { JdoError } from "../errors.ts";
import { resolveSyncConfig } from "./config.ts";
import { wantsBackgroundSync } from "./freshness.ts";

/** Marker left by a write whose background sync found another sync running. */
export function pendingMarker(ctx: AppContext): string {
  return `${ctx.paths.syncLock}.again`;
}

/**
 * After a command that wrote data, or whose catch-up with the cloud could not
 * finish in time or left changes to send (freshness.ts): start `jdo sync now
 * --background` as a detached process so the command returns at once. Never
 * throws.
 */
export async function maybeSyncInBackground(ctx: AppContext): Promise<void> {
  try {
    if (!ctx.openedStore()?.wrote && !wantsBackgroundSync(ctx)) return;
    const config = await resolveSyncConfig(ctx, { token: false });
    if (!config.enabled || !config.auto || !config.url) return;
    const [command, ...prefix] = ctx.selfCommand;
    const child = new Deno.Command(command, {
      args: [...prefix, "sync", "now", "--background"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
      detached: true,
      env: { RUST_LOG: "off" },
    }).spawn();
    child.unref();
  } catch (error) {
    // A settings file that cannot be read is named; anything else: sync
    // catches up on the next write or `jdo sync now`.
    if (error instanceof JdoError && error.code === "CONFIG_INVALID") {
      ctx.io.err(`jdo: warning: ${error.message}; automatic sync was skipped`);
    }
  }
}
