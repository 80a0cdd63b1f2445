/**
 * `jdo sync key show|import` and the Encryption line of `sync status`: the
 * end-to-end key of an encrypted cloud, kept like the token.
 */
import type { Command } from "commander";
import type { AppContext } from "../../app/context.ts";
import { JdoError } from "../../errors.ts";
import { confirmDestructive } from "../confirm.ts";
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

/** Prints a new key's phrase once, with what it is for. */
function showPhrase(ctx: AppContext, phrase: string, keyId: string): void {
  ctx.io.out(
    `Recovery phrase of the new encryption key (key ${keyId.slice(0, 4)}…):\n\n  ${phrase}\n\n` +
      "Write it down: every other device needs it (jdo sync key import), and without it and\n" +
      "this device nobody can read the cloud's copy. `jdo sync key show` prints it again.",
  );
}

export function registerKeyCommands(sync: Command, ctx: AppContext): void {
  const encrypt = sync.command("encrypt")
    .description("Turn end-to-end encryption of an existing cloud on or off");
  encrypt.command("on")
    .description(
      "Seal every row in the cloud under a new key (resumable; other devices pause until they import it)",
    )
    .option("--key-file <path>", "use the key whose recovery phrase is in this file")
    .option("--yes", "do not ask")
    .action(async (opts: { keyFile?: string; yes?: boolean }) => {
      await confirmDestructive(ctx, {
        yes: opts.yes,
        action: "encrypt the cloud",
        question:
          "Encrypt every row in the cloud? Other devices stop syncing until they import the key.",
        defaultAnswer: true,
        cancelled: "The cloud is unchanged",
      });
      const { encryptOn, BACKUP_WARNING } = await import("../../sync/encryption_switch.ts");
      const report = await ctx.interrupts.guard(
        "Interrupted; run `jdo sync encrypt on` again to finish",
        () => encryptOn(ctx, { keyFile: opts.keyFile, show: (p, id) => showPhrase(ctx, p, id) }),
      );
      ctx.io.out(
        `✓ The cloud is end-to-end encrypted (key ${
          report.key_id!.slice(0, 4)
        }…): ${report.rows} rows sealed.`,
      );
      ctx.io.err(`Other devices: jdo sync key import --key-file PATH. ${BACKUP_WARNING}`);
    });
  encrypt.command("off")
    .description("Store the cloud's rows in the clear again (resumable)")
    .option("--yes", "do not ask")
    .action(async (opts: { yes?: boolean }) => {
      await confirmDestructive(ctx, {
        yes: opts.yes,
        action: "turn encryption off",
        question: "Store every row in the cloud in the clear, readable by the provider?",
        defaultAnswer: false,
        cancelled: "The cloud stays encrypted",
      });
      const { encryptOff } = await import("../../sync/encryption_switch.ts");
      const report = await ctx.interrupts.guard(
        "Interrupted; run `jdo sync encrypt off` again to finish",
        () => encryptOff(ctx),
      );
      ctx.io.out(
        `✓ Encryption is off: ${report.rows} rows are in the clear (the cloud can read them).`,
      );
    });

  const key = sync.command("key")
    .description("The end-to-end encryption key: show its recovery phrase, import it, rotate it");

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

  key.command("rotate")
    .description("Re-seal every row under a new key (other devices need the new phrase)")
    .option("--yes", "do not ask")
    .action(async (opts: { yes?: boolean }) => {
      await confirmDestructive(ctx, {
        yes: opts.yes,
        action: "rotate the key",
        question: "Make a new key and re-seal every row? Other devices need the new phrase.",
        defaultAnswer: true,
        cancelled: "The key is unchanged",
      });
      const { rotateKey, BACKUP_WARNING } = await import("../../sync/encryption_switch.ts");
      const report = await ctx.interrupts.guard(
        "Interrupted; run `jdo sync key rotate` again to finish",
        () => rotateKey(ctx, { show: (p, id) => showPhrase(ctx, p, id) }),
      );
      ctx.io.out(`✓ New key ${report.key_id!.slice(0, 4)}…: ${report.rows} rows re-sealed.`);
      ctx.io.err(`Other devices: jdo sync key import --key-file PATH. ${BACKUP_WARNING}`);
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
