/**
 * `jdo sync key show|import` and the Encryption line of `sync status`: the
 * end-to-end key of an encrypted cloud, kept like the token.
 */
import type { Command } from "commander";
import type { AppContext } from "../../app/context.ts";
import { JdoError } from "../../errors.ts";
import type { style } from "../../output/colors.ts";
import type { SyncStatus } from "../../sync/service.ts";

const KEY_SOURCE_TEXT: Record<string, string> = {
  keyring: "OS keyring",
  auth_store: "auth.json",
  env: "JDO_SYNC_KEY",
};

/** "Encryption: end-to-end (key 3f9a…)", "off (the cloud can read your data)", … */
export function encryptionLines(status: SyncStatus, s: ReturnType<typeof style>): string[] {
  const e = status.encryption;
  if (!e) return [];
  const where = KEY_SOURCE_TEXT[e.key_source];
  const key = e.key_id ? `key ${e.key_id.slice(0, 4)}…` : "";
  let text: string;
  if (e.mode === "off") text = s.yellow("off (the cloud can read your data)");
  else if (e.mode === null) text = "not known yet (never synced)";
  else if (e.key_state === "missing") text = s.red(`key missing here (cloud ${key})`);
  else if (e.key_state === "wrong") text = s.red(`wrong key (cloud ${key})`);
  else text = s.green(`end-to-end (${key}${where ? `, from the ${where}` : ""})`);
  return [`Encryption: ${text}`];
}

export function registerKeyCommands(sync: Command, ctx: AppContext): void {
  const key = sync.command("key")
    .description("The end-to-end encryption key: show its recovery phrase, import it");

  key.command("show")
    .description("Print the recovery phrase of this device's encryption key")
    .option("--yes", "print it even when stdout is not a terminal")
    .action(async (opts: { yes?: boolean }) => {
      const { findSyncKey } = await import("../../sync/e2e_keys.ts");
      const found = await findSyncKey(ctx);
      if (!found.key) {
        throw new JdoError("SYNC_KEY_MISSING", "This device holds no encryption key");
      }
      if (!ctx.io.stdoutIsTty && !opts.yes) {
        throw new JdoError(
          "USAGE",
          "The recovery phrase is printed only to a terminal; add --yes to print it anyway",
        );
      }
      ctx.io.out(found.key.phrase);
      ctx.io.err(`Key ${found.key.id.slice(0, 4)}… (anyone with these words can read the cloud)`);
    });

  key.command("import")
    .description("Add the cloud's encryption key on this device (checked against the cloud)")
    .option("--key-file <path>", "a file holding the recovery phrase (else stdin, or a prompt)")
    .action(async (opts: { keyFile?: string }) => {
      const keys = await import("../../sync/e2e_keys.ts");
      const { keyFromPhrase } = await import("../../sync/e2e_key.ts");
      const imported = opts.keyFile
        ? await keys.readKeyFile(opts.keyFile)
        : ctx.io.stdinIsTty
        ? await keys.promptKey(ctx)
        : keyFromPhrase(await ctx.io.readStdin(), "The phrase on stdin");
      const { checkKeyAgainstCloud } = await import("../../sync/service.ts");
      const checked = await checkKeyAgainstCloud(ctx, imported);
      ctx.io.err(await keys.saveSyncKey(ctx, imported));
      ctx.io.out(
        checked === "e2e"
          ? `Key ${imported.id.slice(0, 4)}… opens this cloud; sync can run again.`
          : checked === "off"
          ? `Key ${
            imported.id.slice(0, 4)
          }… saved; the cloud is not encrypted, so it is not used yet.`
          : `Key ${
            imported.id.slice(0, 4)
          }… saved; sync is not set up here, it is checked at setup.`,
      );
    });
}
