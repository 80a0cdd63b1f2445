/**
 * In-process simulated devices for sync property tests: each one is a real
 * working database (a libSQL file in a temp directory, migrated the way
 * src/app/context.ts does it) with its own fake wall clock, plus helpers to
 * read every synced table for comparisons.
 */
import type { Client } from "@libsql/client";
import { join } from "node:path";
import { openWorkingDatabase, queryRows } from "../../src/db/database.ts";
import type { Executor } from "../../src/db/database.ts";
import { ENTITIES, type Row } from "../../src/db/schema.ts";
import { Store, type WallClock } from "../../src/db/store.ts";
import type { Domain } from "../../src/domain/actions.ts";

/** The tables sync replicates: the domain tables, parents first, then the conflict log. */
export const DOMAIN_TABLES: readonly string[] = ENTITIES.map((e) => e.table);
export const SYNCED_TABLES: readonly string[] = [...DOMAIN_TABLES, "_sync_conflicts"];

/** Shared fake time: every device reads it through its own skew. */
export class FakeTime {
  constructor(public ms: number) {}
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A device's wall clock: the shared fake time plus a fixed skew. */
export class SkewedClock implements WallClock {
  constructor(readonly time: FakeTime, readonly skewMs: number) {}
  now(): Date {
    return new Date(this.time.ms + this.skewMs);
  }
}

export interface SimDevice {
  name: string;
  path: string;
  client: Client;
  store: Store;
  clock: SkewedClock;
  domain: Domain;
  deviceId: string;
  close(): void;
}

export async function openSimDevice(
  dir: string,
  name: string,
  clock: SkewedClock,
): Promise<SimDevice> {
  const path = join(dir, `${name}.db`);
  const client = await openWorkingDatabase(path, () => clock.now());
  const store = new Store(client, clock, path);
  const deviceId = await store.deviceId();
  return {
    name,
    path,
    client,
    store,
    clock,
    deviceId,
    domain: { store, dates: () => ({ now: clock.now(), timeZone: "UTC" }) },
    close: () => client.close(),
  };
}

/** Every row of `table` ordered by id, without the cloud's _seq and _by columns. */
export async function tableRows(ex: Executor, table: string): Promise<Row[]> {
  const rows = await queryRows(ex, `SELECT * FROM ${table} ORDER BY id`);
  return rows.map(({ _seq: _, _by: __, ...row }) => row);
}

/** Every synced table, table name → rows ordered by id. */
export async function dumpTables(
  ex: Executor,
  tables: readonly string[] = SYNCED_TABLES,
): Promise<Record<string, Row[]>> {
  const out: Record<string, Row[]> = {};
  for (const table of tables) out[table] = await tableRows(ex, table);
  return out;
}

/** "table:id" → field versions (the `_fv` JSON) of every domain row, tombstones included. */
export async function versionsOf(ex: Executor): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const table of DOMAIN_TABLES) {
    for (const r of await queryRows(ex, `SELECT id, _fv FROM ${table}`)) {
      out.set(`${table}:${r.id}`, String(r._fv));
    }
  }
  return out;
}

export async function outboxSize(ex: Executor): Promise<number> {
  const rows = await queryRows(ex, "SELECT count(*) AS n FROM _sync_outbox");
  return Number(rows[0]?.n ?? 0);
}
