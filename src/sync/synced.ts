/**
 * What sync moves: the synced tables (domain tables parent-first, then the
 * conflict log), and the small local row operations every step shares.
 */
import { bulkRowsJson, bulkUpsertSql } from "../db/bulk.ts";
import {
  CONFLICT_GROUPS,
  ENTITIES,
  type EntityDef,
  type FieldGroup,
  groupsOf,
  type Row,
} from "../db/schema.ts";
import { CONFLICT_ENTITY, type Store, type Writer } from "../db/store.ts";

export interface SyncHooks {
  onPushProgress?(done: number, total: number): void;
  onPullProgress?(done: number): void;
  /** Pull through the embedded replica even when the change is small (setup's first sync). */
  replicaOnly?: boolean;
}

/** A synced table: the domain tables in parent-first order, then the conflict log. */
export interface SyncedTable {
  entity: string;
  table: string;
  def?: EntityDef;
  groups: readonly FieldGroup[];
}

export const SYNCED: SyncedTable[] = [
  ...ENTITIES.map((def) => ({ entity: def.name, table: def.table, def, groups: groupsOf(def) })),
  { entity: CONFLICT_ENTITY, table: "_sync_conflicts", groups: CONFLICT_GROUPS },
];

/** A cloud row without the cloud's own bookkeeping columns. */
export function withoutCloudColumns(row: Row): Row {
  const { _seq: _, _by: __, ...rest } = row;
  return rest;
}

export async function upsertLocal(w: Writer, table: string, rows: Row[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]);
  await w.tx.execute({
    sql: bulkUpsertSql({ table, columns }),
    args: [bulkRowsJson(columns, rows)],
  });
}

export async function lookup(
  w: Writer,
  sql: string,
  ids: string[],
  args: (string | number)[] = [],
): Promise<Map<string, Row>> {
  const found = new Map<string, Row>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const rows = await w.query(sql.replace("(?)", `(${chunk.map(() => "?").join(",")})`), [
      ...args,
      ...chunk,
    ]);
    for (const r of rows) found.set(String(r.id), r);
  }
  return found;
}

/** Live rows of every kind (decides whether setup offers a backup and an upload). */
export async function liveRowCount(store: Store): Promise<number> {
  let n = 0;
  for (const def of ENTITIES) {
    const row = await store.one(`SELECT count(*) AS n FROM ${def.table} WHERE deleted_at IS NULL`);
    n += Number(row?.n ?? 0);
  }
  return n;
}
