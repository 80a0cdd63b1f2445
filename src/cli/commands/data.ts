import type { Command } from "commander";
import type { AppContext } from "../../app/context.ts";
import { pathExists, writeFileAtomicStream } from "../../config/atomic_file.ts";
import { backupNow, inspectBackup, replaceDatabase, setAsideDatabase } from "../../db/backup.ts";
import { migrateLocal, openDatabaseFile, schemaStatus } from "../../db/database.ts";
import { ENTITIES } from "../../db/schema.ts";
import { restoreForSync } from "../../sync/restore.ts";
import { readSyncState } from "../../sync/state.ts";
import { importStream, writeExport } from "../../domain/transfer.ts";
import { oneChunk } from "../../domain/json_stream.ts";
import { isSqliteFile, type NotImported, readPythonJdo } from "../../domain/python_import.ts";
import { JdoError } from "../../errors.ts";
import { kindCount, plural } from "../../output/plural.ts";
import { progressBar } from "../../output/progress.ts";
import { confirmDestructive } from "../confirm.ts";
import { datesOf, printJson } from "../shared.ts";
import { removeViewStamp } from "../../sync/view_stamp.ts";

/** From this size on (~10,000 rows), an import rebuilds the local indexes once at the end. */
const BULK_IMPORT_BYTES = 4_000_000;

/**
 * The import's text as a stream of chunks: a file is read piece by piece. A
 * Python jdo database (an SQLite file) is read into an export document first.
 */
async function openInput(
  ctx: AppContext,
  path: string,
): Promise<{ chunks: AsyncIterable<string>; size: number; notImported?: NotImported }> {
  if (path !== "-" && await isSqliteFile(path)) {
    const original = await readPythonJdo(path);
    return {
      chunks: oneChunk(original.document),
      size: original.rows * 400,
      notImported: original.notImported,
    };
  }
  if (path === "-") {
    const text = await ctx.io.readStdin();
    return { chunks: oneChunk(text), size: text.length };
  }
  try {
    const file = await Deno.open(path, { read: true });
    const size = (await file.stat()).size;
    return { chunks: file.readable.pipeThrough(new TextDecoderStream()), size };
  } catch (error) {
    throw new JdoError("IO_ERROR", `Cannot read ${path}: ${(error as Error).message}`);
  }
}

const kib = (bytes: number) => `${Math.ceil(bytes / 1024)} KiB`;

function backupHere(ctx: AppContext, out?: string): Promise<string> {
  return ctx.store().then((store) => backupNow(store, ctx.paths.backupsDir, ctx.clock.now(), out));
}

export function registerDataCommands(program: Command, ctx: AppContext): void {
  program.command("export")
    .description("Write every live row of every kind as one JSON document")
    .option("--out <path>", "write to a file instead of stdout")
    .option("--force", "overwrite the --out file if it exists")
    .action(async (opts: { out?: string; force?: boolean }) => {
      if (opts.out && !opts.force && await pathExists(opts.out)) {
        throw new JdoError(
          "USAGE",
          `${opts.out} already exists; add --force to overwrite it`,
        );
      }
      const store = await ctx.store();
      if (!opts.out) {
        await writeExport(store, ctx.clock.now(), (lines) => ctx.io.out(lines));
        return;
      }
      let counts: Record<string, number>;
      try {
        counts = await writeFileAtomicStream(
          opts.out,
          0o600,
          (write) => writeExport(store, ctx.clock.now(), (lines) => write(lines + "\n")),
        );
      } catch (error) {
        if (error instanceof JdoError) throw error;
        const why = error instanceof Deno.errors.NotFound
          ? "its directory does not exist"
          : error instanceof Deno.errors.PermissionDenied
          ? "permission denied (check the directory's permissions)"
          : (error as Error).message;
        throw new JdoError("IO_ERROR", `Cannot write ${opts.out}: ${why}`, { cause: error });
      }
      const summary = ENTITIES.map((d) => kindCount(counts[d.plural] ?? 0, d));
      ctx.io.err(`Exported to ${opts.out}: ${summary.join(", ")}`);
    });

  program.command("import")
    .description(
      "Load an export, a JSON array of commitments, or a Python jdo database (idempotent, all-or-nothing)",
    )
    .argument("<path>", "file to read, or - for stdin")
    .option("--undelete", "bring back items of the file that were deleted here")
    .option("--json", "print {imported, skipped, deleted_here, restored, by_kind} as JSON")
    .action(async (path: string, opts: { undelete?: boolean; json?: boolean }) => {
      const input = await openInput(ctx, path);
      const store = await ctx.store();
      // The bar counts items; its total is estimated from the file size (~400 bytes an item).
      const bar = progressBar(ctx.io, "Importing", Math.max(1, Math.round(input.size / 400)));
      let result;
      try {
        result = await importStream(store, input.chunks, datesOf(ctx), (done) => bar.update(done), {
          bulk: input.size > BULK_IMPORT_BYTES,
          undelete: opts.undelete,
        });
      } catch (error) {
        bar.abort();
        throw error;
      }
      if (result.imported + result.skipped + result.deleted + result.restored > 0) bar.finish();
      if (opts.json) {
        return printJson(ctx, {
          imported: result.imported,
          skipped: result.skipped,
          deleted_here: result.deleted,
          restored: result.restored,
          by_kind: result.byKind,
          ...(input.notImported ? { not_imported: input.notImported } : {}),
        });
      }
      const kinds = Object.entries(result.byKind)
        .map(([k, n]) => kindCount(n, ENTITIES.find((e) => e.plural === k)!))
        .join(", ");
      const parts = [
        `Imported ${plural(result.imported, "item")}${kinds ? ` (${kinds})` : ""}`,
        ...(result.restored ? [`${result.restored} brought back`] : []),
        `${result.skipped} already present`,
        ...(result.deleted
          ? [`${result.deleted} deleted here (use --undelete to bring them back)`]
          : []),
      ];
      ctx.io.out(parts.join("; "));
      const left = Object.entries(input.notImported ?? {}).map(([kind, n]) => `${n} ${kind}`);
      if (left.length) ctx.io.err(`Not imported (jdo has no place for them): ${left.join(", ")}`);
    });

  const db = program.command("db").description(
    "The local database: status, upgrade, backup, restore",
  );

  db.command("status")
    .description("Where the database is, its schema version and row counts")
    .option("--json", "print a JSON object")
    .action(async (opts: { json?: boolean }) => {
      const client = await openDatabaseFile(ctx.paths.database);
      try {
        const schema = await schemaStatus(client);
        const counts: Record<string, number> = {};
        if (schema.current > 0) {
          for (const def of ENTITIES) {
            const rs = await client.execute(
              `SELECT count(*) AS n FROM ${def.table} WHERE deleted_at IS NULL`,
            );
            counts[def.plural] = Number(rs.rows[0].n);
          }
        }
        const size = (await Deno.stat(ctx.paths.database)).size;
        // Recent writes live in the WAL until a checkpoint: count it too.
        const wal = await Deno.stat(`${ctx.paths.database}-wal`).then((i) => i.size, () => 0);
        const status = {
          path: ctx.paths.database,
          size_bytes: size,
          wal_bytes: wal,
          total_bytes: size + wal,
          schema_version: schema.current,
          latest_schema_version: schema.latest,
          pending_migrations: schema.pending,
          counts,
        };
        if (opts.json) return printJson(ctx, status);
        ctx.io.out([
          `Database:  ${status.path} (${kib(size + wal)}${
            wal ? `: ${kib(size)} database + ${kib(wal)} write-ahead log` : ""
          })`,
          `Schema:    version ${schema.current} of ${schema.latest}${
            schema.pending.length ? ` — ${schema.pending.length} pending (run: jdo db upgrade)` : ""
          }${schema.current > schema.latest ? " — newer than this jdo: upgrade jdo" : ""}`,
          `Rows:      ${
            ENTITIES.filter((d) => d.plural in counts).map((d) => kindCount(counts[d.plural], d))
              .join(", ") || "none"
          }`,
        ].join("\n"));
      } finally {
        client.close();
      }
    });

  db.command("upgrade")
    .description("Apply pending schema migrations")
    .action(async () => {
      const client = await openDatabaseFile(ctx.paths.database);
      try {
        const applied = await migrateLocal(client, () => ctx.clock.now());
        const { current } = await schemaStatus(client);
        ctx.io.out(
          applied.length
            ? `Applied migration${applied.length > 1 ? "s" : ""} ${
              applied.join(", ")
            }; schema is at version ${current}`
            : `Already up to date (schema version ${current})`,
        );
      } finally {
        client.close();
      }
    });

  db.command("backup")
    .description(
      "Write a consistent copy of the database (default: backups/jdo-YYYYMMDD-HHMMSS.db)",
    )
    .option("--out <path>", "where to write the copy")
    .action(async (opts: { out?: string }) => {
      const path = await backupHere(ctx, opts.out);
      ctx.io.out(`Backed up to ${path}`);
    });

  db.command("restore")
    .description("Replace the database with a backup (a backup of the current one is made first)")
    .argument("<path>", "backup file")
    .option("--yes", "do not ask; still backs up the current database first")
    .action(async (path: string, opts: { yes?: boolean }) => {
      await inspectBackup(path);
      await confirmDestructive(ctx, {
        yes: opts.yes,
        action: "restore",
        question: `Replace ${ctx.paths.database} with ${path}?`,
        cancelled: "Nothing restored",
      });
      const backupFirst = opts.yes ||
        await ctx.prompter.confirm("Back up the current database first?", true);
      // The restored database's view of the cloud is its own (src/sync/view_stamp.ts).
      await removeViewStamp(ctx);
      if (backupFirst) {
        const aside = await setAsideDatabase(
          () => ctx.store(),
          ctx.paths.database,
          ctx.paths.backupsDir,
          ctx.clock.now(),
        );
        ctx.io.err(
          aside.rawBecause
            ? `The current database cannot be read (${aside.rawBecause}); copied it byte for byte to ${
              aside.files.join(", ")
            }`
            : `Backed up the current database to ${aside.path}`,
        );
      }
      const syncOn = (await ctx.settings()).turso_enabled;
      if (syncOn || await everSynced(ctx)) {
        // In place, as new edits: every device ends up looking like the backup.
        const summary = await restoreForSync(
          await ctx.store(),
          path,
          ctx.paths.database,
          () => ctx.clock.now(),
        );
        ctx.io.out(
          `Restored ${ctx.paths.database} from ${path}: ${summary.restored} rows as in the backup, ${summary.deleted} rows it lacks deleted, ${summary.overwritten} overwritten values kept in jdo sync conflicts`,
        );
        if (syncOn) {
          ctx.io.out(
            "Sync is on: the next sync makes every device look like the backup (rows created since are deleted there too; undo one with jdo sync conflicts restore ID).",
          );
        }
        return;
      }
      await ctx.close();
      await replaceDatabase(path, ctx.paths.database);
      await ctx.store(); // applies migrations the backup may predate
      ctx.io.out(`Restored ${ctx.paths.database} from ${path}`);
    });
}

/** Whether this database ever synced with a cloud (a readable one; a corrupt file is replaced whole). */
async function everSynced(ctx: AppContext): Promise<boolean> {
  try {
    return (await readSyncState(await ctx.store())).cloudId !== null;
  } catch {
    return false;
  }
}
