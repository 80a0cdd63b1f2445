import type { Command } from "commander";
import type { AppContext } from "../../app/context.ts";
import { writeFileAtomicStream } from "../../config/atomic_file.ts";
import { backupNow, inspectBackup, replaceDatabase } from "../../db/backup.ts";
import { migrateLocal, openDatabaseFile, schemaStatus } from "../../db/database.ts";
import { ENTITIES } from "../../db/schema.ts";
import { restampForSync } from "../../sync/engine.ts";
import { importStream, writeExport } from "../../domain/transfer.ts";
import { oneChunk } from "../../domain/json_stream.ts";
import { JdoError } from "../../errors.ts";
import { progressBar } from "../../output/progress.ts";
import { datesOf, printJson } from "../shared.ts";

/** From this size on (~10,000 rows), an import rebuilds the local indexes once at the end. */
const BULK_IMPORT_BYTES = 4_000_000;

/** The import's text as a stream of chunks: a file is read piece by piece. */
async function openInput(
  ctx: AppContext,
  path: string,
): Promise<{ chunks: AsyncIterable<string>; size: number }> {
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

function backupHere(ctx: AppContext, out?: string): Promise<string> {
  return ctx.store().then((store) => backupNow(store, ctx.paths.backupsDir, ctx.clock.now(), out));
}

export function registerDataCommands(program: Command, ctx: AppContext): void {
  program.command("export")
    .description("Write every live row of every kind as one JSON document")
    .option("--out <path>", "write to a file instead of stdout")
    .action(async (opts: { out?: string }) => {
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
          : (error as Error).message;
        throw new JdoError("IO_ERROR", `Cannot write ${opts.out}: ${why}`, { cause: error });
      }
      const summary = ENTITIES.map((d) => `${counts[d.plural]} ${d.plural}`);
      ctx.io.err(`Exported to ${opts.out}: ${summary.join(", ")}`);
    });

  program.command("import")
    .description("Load an export, or a JSON array of commitments (idempotent, all-or-nothing)")
    .argument("<path>", "file to read, or - for stdin")
    .option("--json", "print {imported, skipped, by_kind} as JSON")
    .action(async (path: string, opts: { json?: boolean }) => {
      const input = await openInput(ctx, path);
      const store = await ctx.store();
      // The bar counts items; its total is estimated from the file size (~400 bytes an item).
      const bar = progressBar(ctx.io, "Importing", Math.max(1, Math.round(input.size / 400)));
      let result;
      try {
        result = await importStream(store, input.chunks, datesOf(ctx), (done) => bar.update(done), {
          bulk: input.size > BULK_IMPORT_BYTES,
        });
      } catch (error) {
        bar.abort();
        throw error;
      }
      if (result.imported + result.skipped > 0) bar.finish();
      if (opts.json) {
        return printJson(ctx, {
          imported: result.imported,
          skipped: result.skipped,
          by_kind: result.byKind,
        });
      }
      const kinds = Object.entries(result.byKind).map(([k, n]) => `${n} ${k}`).join(", ");
      ctx.io.out(
        `Imported ${result.imported} item${result.imported === 1 ? "" : "s"}${
          kinds ? ` (${kinds})` : ""
        }; ${result.skipped} already present`,
      );
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
        const status = {
          path: ctx.paths.database,
          size_bytes: size,
          schema_version: schema.current,
          latest_schema_version: schema.latest,
          pending_migrations: schema.pending,
          counts,
        };
        if (opts.json) return printJson(ctx, status);
        ctx.io.out([
          `Database:  ${status.path} (${Math.ceil(size / 1024)} KiB)`,
          `Schema:    version ${schema.current} of ${schema.latest}${
            schema.pending.length ? ` — ${schema.pending.length} pending (run: jdo db upgrade)` : ""
          }${schema.current > schema.latest ? " — newer than this jdo: upgrade jdo" : ""}`,
          `Rows:      ${Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(", ") || "none"}`,
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
      let backupFirst = true;
      if (!opts.yes) {
        if (!ctx.io.stdinIsTty) {
          throw new JdoError("USAGE", "Refusing to restore without --yes when not on a terminal");
        }
        if (!await ctx.prompter.confirm(`Replace ${ctx.paths.database} with ${path}?`, false)) {
          throw new JdoError("CANCELLED", "Nothing restored");
        }
        backupFirst = await ctx.prompter.confirm("Back up the current database first?", true);
      }
      if (backupFirst) ctx.io.err(`Backed up the current database to ${await backupHere(ctx)}`);
      await ctx.close();
      await replaceDatabase(path, ctx.paths.database);
      const store = await ctx.store(); // applies migrations the backup may predate
      ctx.io.out(`Restored ${ctx.paths.database} from ${path}`);
      if ((await ctx.settings()).turso_enabled) {
        // Without new versions the next sync would bring the newer cloud rows
        // straight back; restamped, the restored rows win and what they
        // overwrite is kept in the conflict log.
        await restampForSync(store);
        ctx.io.out(
          "Sync is on: the next sync makes the restored data current on every device (overwritten edits go to jdo sync conflicts).",
        );
      }
    });
}
