import type { InArgs } from "@libsql/client";
import { JdoError } from "../errors.ts";
import {
  BUSY_TIMEOUT_MS,
  type Executor,
  LIBSQL_PACKAGES,
  queryRows,
  sqliteMessage,
} from "./database.ts";
import type { Row } from "./schema.ts";
import { normalise } from "./plain_row.ts";
import type * as LibsqlPackages from "./libsql_packages.ts";

/**
 * Rows of a long read, handed over a page at a time; with how many rows the
 * statement returned in all, when the cursor read them all at once.
 */
export type OnPage = (rows: Row[], total?: number) => void | Promise<void>;

export interface RowCursor {
  /**
   * Runs one SELECT and gives its rows to `onPage`, `pageSize` at a time, as
   * the statement steps (no row is read before it is asked for), or read at
   * once (then each page also says how many there are). Returns the number
   * of rows.
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
): Promise<T> {
  let db: InstanceType<typeof LibsqlPackages.Database>;
  try {
    // Loaded on first use, like @libsql/client: most commands never need it.
    const { Database }: typeof LibsqlPackages = await import(LIBSQL_PACKAGES);
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    db.exec("PRAGMA query_only = 1");
    db.exec("BEGIN");
  } catch (error) {
    throw dbError(`Cannot read the database ${path}`, error);
  }
  const cursor: RowCursor = {
    async pages(sql, args, onPage, pageSize) {
      let rows: Iterator<unknown>;
      try {
        rows = db.prepare(sql).iterate(args);
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
            page.push(plain(next.value as Record<string, unknown>));
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

/** A connection that hands a SELECT's rows over as arrays (node:sqlite's client, node_sqlite.ts). */
export interface ArrayReader {
  execute(sql: string): Promise<unknown>;
  rowArrays(sql: string, args?: InArgs): { columns: string[]; rows: unknown[][] };
}

/** The client as an ArrayReader, when it is one. */
export function arrayReaderOf(client: unknown): ArrayReader | undefined {
  return typeof (client as Partial<ArrayReader>).rowArrays === "function"
    ? client as ArrayReader
    : undefined;
}

/**
 * A long read on a connection already open (Store.reading on node:sqlite):
 * read-only and in one read transaction while `fn` runs, each statement's
 * rows read at once (node:sqlite's iterate() ends quietly when a step fails,
 * which would cut a list short without a word; all() throws), then paged,
 * failures as DB_ERROR, rows as withRowCursor's libSQL rows.
 */
export async function withReadTransaction<T>(
  reader: ArrayReader,
  path: string,
  fn: (cursor: RowCursor) => Promise<T>,
): Promise<T> {
  try {
    await reader.execute("PRAGMA query_only = 1");
    await reader.execute("BEGIN DEFERRED");
  } catch (error) {
    await reader.execute("PRAGMA query_only = 0").catch(() => {});
    throw dbError(`Cannot read the database ${path}`, error);
  }
  const cursor: RowCursor = {
    async pages(sql, args, onPage, pageSize) {
      let read: { columns: string[]; rows: unknown[][] };
      try {
        read = reader.rowArrays(sql, args);
      } catch (error) {
        throw dbError("Cannot read the database", error);
      }
      const { columns, rows } = read;
      const toRow = cursorRowMaker(columns);
      // Each page's rows made objects as it is handed over.
      return await inPages(
        rows,
        pageSize,
        (page) => onPage(page.map(toRow), rows.length),
      );
    },
  };
  try {
    return await fn(cursor);
  } finally {
    // Nothing was written: ending the transaction only ends the snapshot.
    // (Neither fails in practice; if one did, it must not hide fn's error,
    // and a connection left read-only says so at its next write.)
    await reader.execute("COMMIT").catch(() => {});
    await reader.execute("PRAGMA query_only = 0").catch(() => {});
  }
}

/** A cursor over an open transaction: each statement's rows are read at once, then paged. */
export function executorCursor(ex: Executor): RowCursor {
  return {
    async pages(sql, args, onPage, pageSize) {
      const rows = await queryRows(ex, sql, args);
      return await inPages(rows, pageSize, (page) => onPage(page, rows.length));
    },
  };
}

/** A whole result handed to `onPage` `pageSize` items at a time; its length. */
async function inPages<T>(
  items: T[],
  pageSize: number,
  onPage: (page: T[]) => void | Promise<void>,
): Promise<number> {
  for (let i = 0; i < items.length; i += pageSize) await onPage(items.slice(i, i + pageSize));
  return items.length;
}

function plain(row: Record<string, unknown>): Row {
  const out: Row = {};
  for (const key in row) out[key] = normalise(row[key]);
  return out;
}

/**
 * Rows read as arrays, made objects by column name (a repeated name keeps its
 * last value, as plain()). Each starts as a copy of one object that already
 * has every column, so a thousand rows share one shape and the values are
 * stored into it, instead of each row adding its columns one by one (~0.2 ms
 * less for 1,000 rows of `list`).
 */
function cursorRowMaker(columns: string[]): (values: unknown[]) => Row {
  const shape: Row = {};
  for (const column of columns) shape[column] = null;
  return (values) => {
    const out: Row = { ...shape };
    for (let i = 0; i < columns.length; i++) {
      const value = values[i];
      // Text, nearly every value, is as normalise would leave it.
      out[columns[i]] = typeof value === "string" ? value : normalise(value);
    }
    return out;
  };
}

function dbError(what: string, error: unknown): JdoError {
  return new JdoError("DB_ERROR", `${what}: ${sqliteMessage(error)}`, { cause: error });
}
