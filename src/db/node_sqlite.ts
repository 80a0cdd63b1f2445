/**
 * The working database through `node:sqlite` (built into Deno), for commands
 * that only read and write jdo.db (issue 20): loading @libsql/client costs
 * ~40 ms before the first query, node:sqlite nothing. It answers the part of
 * @libsql/client's `Client` that the local code uses (execute, transaction,
 * batch, executeMultiple, close), with the same result shapes: rows readable
 * by column name and by index, numbers as numbers, text as text.
 *
 * Never in a process that syncs: two SQLite engines on one file in one
 * process lose each other's POSIX locks (docs/DESIGN.md, "Two engines").
 */
import type {
  Client,
  InArgs,
  InStatement,
  InValue,
  ResultSet,
  Row,
  Transaction,
  TransactionMode,
} from "@libsql/client";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { plainRowOf } from "./plain_row.ts";
import type { Row as PlainRow } from "./schema.ts";

type Bindable = null | number | bigint | string | Uint8Array;

/** How much of the file a node:sqlite connection maps (PRAGMA mmap_size; address space only). */
export const MMAP_BYTES = 256 * 1024 * 1024;

/**
 * Opens `path` (created when absent) with a busy timeout; throws SQLite's own
 * errors. Pages are read from the file's mapping instead of copied into
 * SQLite's cache (reads only: writes still go through the file): a first
 * statement over 1,000 commitments takes a few ms less.
 */
export async function openNodeSqlite(path: string, busyTimeoutMs: number): Promise<Client> {
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(path, { timeout: busyTimeoutMs });
  db.exec(`PRAGMA mmap_size = ${MMAP_BYTES}`);
  return new NodeSqliteClient(db) as unknown as Client;
}

/**
 * Whether closing `client` folds the WAL back into the file when it is the
 * last connection: node:sqlite's close() closes the connection at once, and
 * SQLite then checkpoints and removes the WAL (libSQL's close() does not:
 * closeDatabase in database.ts).
 */
export function closesItsWal(client: unknown): boolean {
  return client instanceof NodeSqliteClient;
}

class NodeSqliteClient {
  #statements = new Map<string, StatementSync>();
  #open = true;

  constructor(readonly db: DatabaseSync) {}

  get closed(): boolean {
    return !this.#open;
  }

  get protocol(): string {
    return "file";
  }

  execute(stmt: InStatement | string, args?: InArgs): Promise<ResultSet> {
    try {
      return Promise.resolve(this.run(stmt, args));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  run(stmt: InStatement | string, extra?: InArgs): ResultSet {
    const sql = typeof stmt === "string" ? stmt : stmt.sql;
    const args = typeof stmt === "string" ? extra : stmt.args ?? extra;
    const prepared = this.#prepare(sql);
    const columns = prepared.columns().map((c) => c.name);
    if (columns.length === 0) {
      const { changes, lastInsertRowid } = runWith(prepared, args);
      return resultSet([], [], Number(changes), BigInt(lastInsertRowid));
    }
    const values = arraysOf(prepared, args);
    return resultSet(columns, values.map(rowMaker(columns)), 0, undefined);
  }

  /** A SELECT's column names and rows, each row an array of its values (a long read's cursor). */
  rowArrays(sql: string, args?: InArgs): { columns: string[]; rows: unknown[][] } {
    const prepared = this.#prepare(sql);
    return { columns: prepared.columns().map((c) => c.name), rows: arraysOf(prepared, args) };
  }

  /** A SELECT's rows as jdo's plain rows (queryRows), built once from node:sqlite's arrays. */
  plainRows(sql: string, args?: InArgs): PlainRow[] {
    const prepared = this.#prepare(sql);
    const columns = prepared.columns().map((c) => c.name);
    return arraysOf(prepared, args).map((v) => plainRowOf(columns, v));
  }

  #prepare(sql: string): StatementSync {
    let prepared = this.#statements.get(sql);
    if (!prepared) {
      prepared = this.db.prepare(sql);
      // Schema statements (CREATE, ALTER, PRAGMA…) are prepared once each; the
      // cache is for the few queries a command repeats.
      if (this.#statements.size < 200) this.#statements.set(sql, prepared);
    }
    return prepared;
  }

  async batch(stmts: (InStatement | string)[], mode: TransactionMode = "deferred") {
    const tx = await this.transaction(mode);
    try {
      const results: ResultSet[] = [];
      for (const stmt of stmts) results.push(await tx.execute(stmt as InStatement));
      await tx.commit();
      return results;
    } finally {
      tx.close();
    }
  }

  executeMultiple(sql: string): Promise<void> {
    try {
      this.db.exec(sql);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  transaction(mode: TransactionMode = "write"): Promise<Transaction> {
    try {
      this.db.exec(mode === "write" ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
    } catch (error) {
      return Promise.reject(error);
    }
    let done = false;
    const end = (sql: string) => {
      if (done) return;
      done = true;
      this.db.exec(sql);
    };
    const tx = {
      execute: (stmt: InStatement) => this.execute(stmt),
      plainRows: (sql: string, args?: InArgs) => this.plainRows(sql, args),
      batch: async (stmts: InStatement[]) => {
        const results: ResultSet[] = [];
        for (const stmt of stmts) results.push(await this.execute(stmt));
        return results;
      },
      executeMultiple: (sql: string) => this.executeMultiple(sql),
      commit: () => {
        try {
          end("COMMIT");
          return Promise.resolve();
        } catch (error) {
          return Promise.reject(error);
        }
      },
      rollback: () => {
        try {
          end("ROLLBACK");
          return Promise.resolve();
        } catch (error) {
          return Promise.reject(error);
        }
      },
      close: () => {
        if (!done && this.db.isTransaction) {
          try {
            end("ROLLBACK");
          } catch {
            // The connection is closing anyway.
          }
        }
        done = true;
      },
      get closed() {
        return done;
      },
    };
    return Promise.resolve(tx as unknown as Transaction);
  }

  sync(): Promise<undefined> {
    return Promise.reject(new Error("node:sqlite has no embedded replica"));
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#statements.clear();
    this.db.close();
  }
}

function bindable(value: InValue): Bindable {
  if (value === undefined || value === null) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof Date) return value.valueOf();
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return value as Bindable;
}

function runWith(statement: StatementSync, args: InArgs | undefined) {
  if (args === undefined) return statement.run();
  if (Array.isArray(args)) return statement.run(...args.map(bindable));
  return statement.run(named(args));
}

/** Every row of a statement, each as an array of its values. */
function arraysOf(statement: StatementSync, args: InArgs | undefined): unknown[][] {
  // (Missing from the Node types some workers check against; Deno has it.)
  (statement as unknown as { setReturnArrays(on: boolean): void }).setReturnArrays(true);
  return allWith(statement, args) as unknown as unknown[][];
}

function allWith(statement: StatementSync, args: InArgs | undefined) {
  if (args === undefined) return statement.all();
  if (Array.isArray(args)) return statement.all(...args.map(bindable));
  return statement.all(named(args));
}

function named(args: Record<string, InValue>): Record<string, Bindable> {
  const out: Record<string, Bindable> = {};
  for (const [key, value] of Object.entries(args)) out[key] = bindable(value);
  return out;
}

/**
 * Rows as @libsql/client hands them out: values by column name (enumerable,
 * own) and by index (not enumerable), and a length. The index and length are
 * getters on one prototype per statement, so a row costs one object and its
 * named values (defining three properties per value on each row cost ~1 ms of
 * the dashboard). Columns named like an index or "length", or twice, keep the
 * per-row definitions, where the index wins as it does in @libsql/client.
 */
function rowMaker(columns: string[]): (values: unknown[]) => Row {
  const plainNames = new Set(columns).size === columns.length &&
    columns.every((c) => c !== "length" && String(Number(c)) !== c);
  if (!plainNames) return (values) => definedRow(columns, values);
  const proto: Record<string | number, unknown> = {};
  for (let i = 0; i < columns.length; i++) {
    const name = columns[i];
    Object.defineProperty(proto, i, {
      get(this: Record<string, unknown>) {
        return this[name];
      },
    });
  }
  Object.defineProperty(proto, "length", { value: columns.length });
  return (values) => {
    const row = Object.create(proto) as Record<string, unknown>;
    for (let i = 0; i < columns.length; i++) row[columns[i]] = values[i];
    return row as unknown as Row;
  };
}

function definedRow(columns: string[], values: unknown[]): Row {
  const row: Record<string | number, unknown> = {};
  Object.defineProperty(row, "length", { value: values.length });
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    Object.defineProperty(row, i, { value });
    if (!Object.hasOwn(row, columns[i])) {
      Object.defineProperty(row, columns[i], {
        value,
        enumerable: true,
        configurable: true,
        writable: true,
      });
    }
  }
  return row as unknown as Row;
}

function resultSet(
  columns: string[],
  rows: Row[],
  rowsAffected: number,
  lastInsertRowid: bigint | undefined,
): ResultSet {
  return {
    columns,
    columnTypes: columns.map(() => ""),
    rows,
    rowsAffected,
    lastInsertRowid,
    toJSON: () => ({ columns, rows, rowsAffected }),
  };
}
