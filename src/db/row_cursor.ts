import type { InArgs } from "@libsql/client";
import { JdoError } from "../errors.ts";
import {
  BUSY_TIMEOUT_MS,
  type Executor,
  LIBSQL_PACKAGES,
  queryRows,
  type SqliteEngine,
  sqliteMessage,
} from "./database.ts";
import type { Row } from "./schema.ts";
import { normalise } from "./plain_row.ts";
import type * as LibsqlPackages from "./libsql_packages.ts";

/** Rows of a long read, handed over a page at a time. */
export type OnPage = (rows: Row[]) => void | Promise<void>;

export interface RowCursor {
  /**
   * Runs one SELECT and gives its rows to `onPage`, `pageSize` at a time, as
   * the statement steps (no row is read before it is asked for). Returns the
   * number of rows.
   */
  pages(sql: string, args: InArgs, onPage: OnPage, pageSize: number): Promise<number>;
}

/**
 * A read-only connection of its own on the database file, for reads of any
 * length (`list`, `export`, the short-id index): each statement is prepared
 * once and stepped as pages are asked for, so memory stays flat in the row
 * count. @libsql/client's `execute()` returns whole result sets, which is why
 * this reads through the `libsql` package (the same native library
 * @libsql/client uses for files). Every statement in `fn` sees one snapshot
 * (one read transaction), so a long export is consistent even when another
 * process writes meanwhile.
 */
export async function withRowCursor<T>(
  path: string,
  fn: (cursor: RowCursor) => Promise<T>,
  engine: SqliteEngine = "libsql",
): Promise<T> {
  let db: CursorDatabase;
  try {
    db = await openCursorDatabase(path, engine);
    db.exec("PRAGMA query_only = 1");
    db.exec("BEGIN");
  } catch (error) {
    throw dbError(`Cannot read the database ${path}`, error);
  }
  const cursor: RowCursor = {
    async pages(sql, args, onPage, pageSize) {
      let rows: Iterator<Row>;
      try {
        rows = db.prepare(sql).iterate(...(args as unknown[]));
      } catch (error) {
        throw dbError("Cannot read the database", error);
      }
      let total = 0;
      for (;;) {
        const page: Row[] = [];
        try {
          while (page.length < pageSize) {
            const next = rows.next();
            if (next.done) break;
            page.push(next.value);
          }
        } catch (error) {
          throw dbError("Cannot read the database", error);
        }
        if (page.length > 0) await onPage(page);
        total += page.length;
        if (page.length < pageSize) return total;
      }
    },
  };
  try {
    return await fn(cursor);
  } finally {
    try {
      db.exec("COMMIT");
    } catch {
      // Nothing was written; closing ends the read transaction anyway.
    }
    db.close();
  }
}

/** How much of the file a node:sqlite connection maps (PRAGMA mmap_size; address space only). */
export const MMAP_BYTES = 256 * 1024 * 1024;

/** What a cursor needs of a connection, over `libsql` or node:sqlite: rows as jdo holds them. */
interface CursorDatabase {
  exec(sql: string): unknown;
  prepare(sql: string): { iterate(...args: unknown[]): Iterator<Row> };
  close(): unknown;
}

async function openCursorDatabase(path: string, engine: SqliteEngine): Promise<CursorDatabase> {
  if (engine === "node") {
    // node:sqlite's iterate() ends quietly when a step fails (Deno 2.9), which
    // would cut a list short without a word: its statements are read whole
    // (all() throws), then paged. The fast path's reads are short; the long
    // ones (export, sync) run on libSQL.
    // Rows come as arrays and are made objects here: node:sqlite's own row
    // objects cost about twice as much to build (~10 ms for a 1,000-row list).
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS });
    // Pages are read from the file's mapping instead of copied in (~5 ms
    // less for the first statement over a 1,000-commitment database).
    db.exec(`PRAGMA mmap_size = ${MMAP_BYTES}`);
    return {
      exec: (sql) => db.exec(sql),
      prepare: (sql) => {
        const statement = db.prepare(sql);
        // (Missing from the Node types some workers check against; Deno has it.)
        (statement as unknown as { setReturnArrays(on: boolean): void }).setReturnArrays(true);
        const columns = statement.columns().map((c) => c.name);
        return {
          iterate: (...args) => {
            const all = statement.all(...args as (string | number | null)[]) as unknown[];
            return (all as unknown[][]).map((values) => rowOf(columns, values))[Symbol.iterator]();
          },
        };
      },
      close: () => db.close(),
    };
  }
  // Loaded on first use, like @libsql/client: most commands never need it.
  const { Database }: typeof LibsqlPackages = await import(LIBSQL_PACKAGES);
  const db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  return {
    exec: (sql) => db.exec(sql),
    prepare: (sql) => {
      const statement = db.prepare(sql);
      return {
        iterate: (...args) => {
          const rows: Iterator<unknown> = statement.iterate(args);
          return {
            next: () => {
              const next = rows.next();
              return next.done ? next : { value: plain(next.value as Record<string, unknown>) };
            },
          };
        },
      };
    },
    close: () => db.close(),
  };
}

/** A cursor over an open transaction: each statement's rows are read at once, then paged. */
export function executorCursor(ex: Executor): RowCursor {
  return {
    async pages(sql, args, onPage, pageSize) {
      const rows = await queryRows(ex, sql, args);
      for (let i = 0; i < rows.length; i += pageSize) await onPage(rows.slice(i, i + pageSize));
      return rows.length;
    },
  };
}

function plain(row: Record<string, unknown>): Row {
  const out: Row = {};
  for (const key in row) out[key] = normalise(row[key]);
  return out;
}

/** A row read as an array, by column name (a repeated name keeps its last value, as plain()). */
function rowOf(columns: string[], values: unknown[]): Row {
  const out: Row = {};
  for (let i = 0; i < columns.length; i++) out[columns[i]] = normalise(values[i]);
  return out;
}

function dbError(what: string, error: unknown): JdoError {
  return new JdoError("DB_ERROR", `${what}: ${sqliteMessage(error)}`, { cause: error });
}
