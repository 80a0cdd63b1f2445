import { type Client, createClient, type InStatement } from "@libsql/client";
import { join } from "node:path";
import { ensurePrivateDir } from "../config/paths.ts";
import { queryOne, queryRows, sqliteMessage } from "../db/database.ts";
import { LATEST_SCHEMA_VERSION, MIGRATIONS, MIGRATIONS_TABLE } from "../db/migrations.ts";
import { q, type Row } from "../db/schema.ts";
import { JdoError } from "../errors.ts";
import type { CloudInfo, CloudStore, Cursor, PushResult, PushRow } from "./cloud_store.ts";
import { hostOf } from "./config.ts";
import { classifyCloudError } from "./cloud_errors.ts";

export interface LibsqlCloudOptions {
  url: string;
  token: string | null;
  /** Directory of the embedded replica (cloud/); no replica when undefined. */
  replicaDir?: string;
  /** Timeout of one HTTP request to the cloud. */
  requestTimeoutMs?: number;
}

/** The libSQL HTTP API wants http(s); libsql:// means https. */
function httpUrl(url: string): string {
  return url.replace(/^libsql:\/\//, "https://").replace(/^wss:\/\//, "https://").replace(
    /^ws:\/\//,
    "http://",
  );
}

function timedFetch(timeoutMs: number): typeof fetch {
  return (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) });
}

const REPLICA_RETRIES = 4;

/**
 * The cloud through @libsql/client: a remote HTTP client (with timeouts) for
 * checks and pushes, and an embedded replica in cloud/ that pulls the cloud's
 * changes as WAL frames and serves reads of them locally.
 */
export class LibsqlCloud implements CloudStore {
  readonly host: string;
  #remote: Client;
  #replica?: Client;
  #options: LibsqlCloudOptions;

  constructor(options: LibsqlCloudOptions) {
    this.#options = options;
    this.host = hostOf(options.url);
    this.#remote = createClient({
      url: httpUrl(options.url),
      authToken: options.token ?? undefined,
      fetch: timedFetch(options.requestTimeoutMs ?? 15_000),
    });
  }

  async #call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw classifyCloudError(error, this.host, what);
    }
  }

  async info(): Promise<CloudInfo> {
    return await this.#call("read the cloud database", async () => {
      const tables = await queryRows(
        this.#remote,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('_migrations', '_jdo_meta')",
      );
      const names = new Set(tables.map((t) => String(t.name)));
      if (!names.has("_migrations")) return { schemaVersion: 0, cloudId: null };
      const version = await queryOne(
        this.#remote,
        "SELECT coalesce(max(version), 0) AS v FROM _migrations",
      );
      const id = names.has("_jdo_meta")
        ? await queryOne(this.#remote, "SELECT value FROM _jdo_meta WHERE key = 'cloud_id'")
        : undefined;
      return {
        schemaVersion: Number(version?.v ?? 0),
        cloudId: id?.value ? String(id.value) : null,
      };
    });
  }

  async migrate(): Promise<void> {
    const { schemaVersion } = await this.info();
    if (schemaVersion > LATEST_SCHEMA_VERSION) throw schemaMismatch(schemaVersion);
    for (const migration of MIGRATIONS) {
      if (migration.version <= schemaVersion) continue;
      const statements: InStatement[] = [
        MIGRATIONS_TABLE,
        ...migration.statements("cloud"),
        {
          sql: "INSERT INTO _migrations (version, name, applied_at) VALUES (?, ?, ?)",
          args: [migration.version, migration.name, new Date().toISOString()],
        },
      ];
      try {
        await this.#call("create the cloud schema", () => this.#remote.batch(statements, "write"));
      } catch (error) {
        // Another device may have applied the same migration a moment ago.
        const now = await this.info();
        if (now.schemaVersion >= migration.version) continue;
        throw error;
      }
    }
  }

  async assertWritable(): Promise<void> {
    await this.#call("write to the cloud database", () =>
      this.#remote.execute(
        "UPDATE _jdo_meta SET value = value WHERE key = 'cloud_id'",
      ));
  }

  async #openReplica(): Promise<Client> {
    if (this.#replica) return this.#replica;
    const dir = this.#options.replicaDir;
    if (!dir) throw new Error("No replica directory configured");
    await ensurePrivateDir(dir);
    this.#replica = createClient({
      url: `file:${join(dir, "replica.db")}`,
      syncUrl: this.#options.url,
      authToken: this.#options.token ?? undefined,
    });
    return this.#replica;
  }

  async #resetReplica(): Promise<void> {
    this.#replica?.close();
    this.#replica = undefined;
    const dir = this.#options.replicaDir;
    if (dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }

  /**
   * Pulls the cloud's new frames into the replica. Transient replication
   * errors (a compacted log's "snapshot not found") are retried with backoff;
   * a replica that cannot catch up is rebuilt from scratch, since it is only
   * a cache of the cloud.
   */
  async snapshot(): Promise<number> {
    let lastError: unknown;
    for (let attempt = 0; attempt < REPLICA_RETRIES; attempt++) {
      try {
        const replica = await this.#openReplica();
        await replica.sync();
        const seq = await queryOne(replica, "SELECT value FROM _jdo_meta WHERE key = 'seq'");
        return Number(seq?.value ?? 0);
      } catch (error) {
        lastError = error;
        const unreachable = /connection refused|dns error|timed out/i.test(String(error));
        if (unreachable) break;
        await this.#resetReplica();
        await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
      }
    }
    throw classifyCloudError(lastError, this.host, "pull from the cloud database");
  }

  async changes(table: string, after: Cursor, upTo: number, limit: number): Promise<Row[]> {
    const replica = await this.#openReplica();
    return await queryRows(
      replica,
      `SELECT * FROM ${table} WHERE (_seq > ? OR (_seq = ? AND id > ?)) AND _seq <= ?
       ORDER BY _seq, id LIMIT ?`,
      [after.seq, after.seq, after.id, upTo, limit],
    );
  }

  async push(rows: PushRow[], watermark: number, deviceId: string): Promise<PushResult> {
    const statements: InStatement[] = [
      "UPDATE _jdo_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'seq'",
    ];
    for (const { table, row } of rows) {
      const columns = Object.keys(row).filter((c) => c !== "_seq");
      const updates = columns.filter((c) => c !== "id").map((c) => `${q(c)} = excluded.${q(c)}`);
      statements.push({
        sql: `INSERT INTO ${table} (${columns.map(q).join(", ")}, _seq)
VALUES (${
          columns.map(() => "?").join(", ")
        }, (SELECT CAST(value AS INTEGER) FROM _jdo_meta WHERE key = 'seq'))
ON CONFLICT(id) DO UPDATE SET ${updates.join(", ")}, _seq = excluded._seq
WHERE excluded.version > ${table}.version
  AND (${table}._seq <= ? OR substr(${table}.version, 20) = ?)`,
        args: [...columns.map((c) => row[c]), watermark, deviceId],
      });
    }
    statements.push("SELECT CAST(value AS INTEGER) AS seq FROM _jdo_meta WHERE key = 'seq'");
    const results = await this.#call(
      "push to the cloud database",
      () => this.#remote.batch(statements, "write"),
    );
    return {
      applied: results.slice(1, -1).map((r) => r.rowsAffected > 0),
      seq: Number(results[results.length - 1].rows[0]?.seq ?? 0),
    };
  }

  close(): void {
    this.#remote.close();
    this.#replica?.close();
  }
}

export function schemaMismatch(version: number): JdoError {
  return new JdoError(
    "SYNC_SCHEMA_MISMATCH",
    `The cloud database uses schema version ${version}, newer than this jdo supports (${LATEST_SCHEMA_VERSION}); sync is paused, local use continues`,
  );
}

export { sqliteMessage };
