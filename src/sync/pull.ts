/**
 * Pull: the cloud's rows changed since this device's watermark come in —
 * through the embedded replica (a first download, a large change: merged
 * set-based from the attached replica file) or in one quick request (a
 * small change) — and are merged page by page; then orphans and same-name
 * stakeholders are repaired and the watermark moves.
 */
import { optimizeAfterBulk, tablesEmpty, withRollbackJournal } from "../db/database.ts";
import { q, type Row } from "../db/schema.ts";
import type { Store, Writer } from "../db/store.ts";
import { fieldMergeSql, someGroupNewer } from "../db/field_versions.ts";
import { CONFLICT_ENTITY } from "../db/store.ts";
import type { CloudStore, Cursor, QuickChanges } from "./cloud_store.ts";
import { noteClockSkew, saveClockSkew, type SkewSeen } from "./clock_skew.ts";
import type { ConflictRecord } from "./conflict_log.ts";
import { mergePage } from "./merge.ts";
import {
  queueWhereCloudIsBehind,
  REPAIR_TARGETED_MAX,
  repairOrphans,
  repairOrphansIn,
} from "./repair_rows.ts";
import { deleteAbsentFromRestore, restoreMark } from "./restore.ts";
import { mergeDuplicateStakeholders } from "./stakeholder_merge.ts";
import { readSyncState, writeSyncState } from "./state.ts";
import { SYNCED, type SyncedTable, type SyncHooks, withoutCloudColumns } from "./synced.ts";

export const PAGE_SIZE = 2_000;
/** Pulls of at least this many rows refresh the planner's statistics afterwards. */
const ANALYZE_AFTER_PULL = 10_000;

/** Above this many rows, a first download builds the table's indexes after inserting. */
const REBUILD_INDEXES_AT = 10_000;

async function countInRange(
  w: Writer,
  t: SyncedTable,
  range: string,
  watermark: number,
  upTo: number,
): Promise<number> {
  const row = await w.one(`SELECT count(*) AS n FROM cloud.${t.table} r WHERE ${range}`, [
    watermark,
    upTo,
  ]);
  return Number(row?.n ?? 0);
}

/** A table's secondary indexes, dropped: build them again with their `sql` afterwards. */
async function dropIndexes(w: Writer, table: string): Promise<Row[]> {
  const indexes = await w.query(
    `SELECT name, sql FROM main.sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`,
    [table],
  );
  for (const index of indexes) await w.tx.execute(`DROP INDEX main.${q(String(index.name))}`);
  return indexes;
}

/**
 * What a pull brought into a table, from `rows` (a FROM … WHERE clause with
 * alias r): per author the newest version advances the clock and tells a
 * device whose clock runs far ahead; the first ids go to the orphan repair.
 */
async function notePulled(
  w: Writer,
  t: SyncedTable,
  rows: { sql: string; args: (string | number)[] },
  changedIds: string[],
  skew: SkewSeen,
): Promise<void> {
  const newest = await w.query(
    `SELECT max(r.version) AS v FROM ${rows.sql} GROUP BY substr(r.version, 20)`,
    rows.args,
  );
  for (const n of newest) {
    w.observe(String(n.v));
    skew.see(String(n.v));
  }
  if (t.entity === CONFLICT_ENTITY) return;
  const ids = await w.query(`SELECT r.id FROM ${rows.sql} LIMIT ?`, [
    ...rows.args,
    REPAIR_TARGETED_MAX + 1,
  ]);
  for (const r of ids) changedIds.push(String(r.id));
}

/**
 * The same rules as mergePage, set-based, reading the replica file attached
 * as "cloud": rows with a queued local change go through mergePage (they may
 * conflict); every other changed row is one guarded INSERT … SELECT, so a
 * first download of many rows costs a few statements, not one per row.
 */
async function mergeFromReplica(
  w: Writer,
  t: SyncedTable,
  watermark: number,
  upTo: number,
  conflicts: ConflictRecord[],
  changedIds: string[],
  skew: SkewSeen,
): Promise<number> {
  const range = "r._seq > ? AND r._seq <= ?";
  const pendingRows = await w.query(
    `SELECT r.* FROM cloud.${t.table} r JOIN _sync_outbox o ON o.entity = ? AND o.id = r.id
     WHERE ${range}`,
    [t.entity, watermark, upTo],
  );
  const applied = pendingRows.length
    ? await mergePage(w, t, pendingRows, conflicts, changedIds, skew)
    : 0;
  const mark = t.def ? await restoreMark(w) : null;
  if (mark) {
    // Rows older than a restore here that the restored backup lacked: deleted.
    const absent = await w.query(
      `SELECT r.* FROM cloud.${t.table} r WHERE ${range} AND r.deleted_at IS NULL
         AND r.version < ? AND NOT EXISTS (SELECT 1 FROM main.${t.table} m WHERE m.id = r.id)`,
      [watermark, upTo, mark],
    );
    const rows = absent.map(withoutCloudColumns);
    await deleteAbsentFromRestore(w, t.def!, rows, conflicts);
    for (const r of rows) changedIds.push(String(r.id));
  }
  const columns = (await w.query(`PRAGMA main.table_info(${t.table})`)).map((c) => String(c.name));
  // An empty local table (a new device's first download): plain inserts, no
  // merge to evaluate and nothing of ours for the cloud to catch up on.
  const empty = await tablesEmpty(w.tx, [`main.${t.table}`]);
  // Many rows into an empty table: its indexes are built once afterwards
  // (a sort) instead of being updated row by row.
  const indexes = empty && await countInRange(w, t, range, watermark, upTo) >= REBUILD_INDEXES_AT
    ? await dropIndexes(w, t.table)
    : [];
  const result = await w.tx.execute({
    sql: `INSERT INTO main.${t.table} (${columns.map(q).join(", ")})
SELECT ${columns.map((c) => `r.${q(c)}`).join(", ")} FROM cloud.${t.table} r WHERE ${range}
${
      empty ? "" : fieldMergeSql(t.table, t.groups, {
        where: someGroupNewer("excluded", t.table, t.groups),
      })
    }`,
    args: [watermark, upTo],
  });
  for (const index of indexes) await w.tx.execute(String(index.sql));
  if (!empty) await queueWhereCloudIsBehind(w, t, range, watermark, upTo);
  await notePulled(
    w,
    t,
    { sql: `cloud.${t.table} r WHERE ${range}`, args: [watermark, upTo] },
    changedIds,
    skew,
  );
  return t.entity === CONFLICT_ENTITY ? 0 : applied + result.rowsAffected;
}

/**
 * A first download from an encrypted cloud into empty tables: the replica's
 * sealed rows are opened (on the row worker, a page ahead) and inserted here
 * a JSON page at a time — the rows mergeFromReplica's empty-table insert
 * writes, without writing them to the opened copy first and reading them
 * back (that was half of an encrypted first download).
 */
async function insertOpened(
  w: Writer,
  t: SyncedTable,
  cloud: CloudStore,
  upTo: number,
  changedIds: string[],
  skew: SkewSeen,
): Promise<number> {
  const columns = (await w.query(`PRAGMA main.table_info(${t.table})`)).map((c) => String(c.name));
  const indexes = await dropIndexes(w, t.table);
  const insert = `INSERT INTO main.${t.table} (${columns.map(q).join(", ")})
SELECT ${columns.map((_, i) => `json_extract(value, '$[${i}]')`).join(", ")} FROM json_each(?)`;
  let applied = 0;
  for await (const page of cloud.openedRows!(t.table, columns, 0, upTo)) {
    applied += (await w.tx.execute({ sql: insert, args: [page] })).rowsAffected;
  }
  for (const index of indexes) await w.tx.execute(String(index.sql));
  // The table held nothing before: its rows are the ones just pulled.
  await notePulled(w, t, { sql: `main.${t.table} r`, args: [] }, changedIds, skew);
  return t.entity === CONFLICT_ENTITY ? 0 : applied;
}

/**
 * Whether a pull can take an encrypted cloud's rows straight in
 * (insertOpened): the cloud opens rows, and this device has never pulled,
 * holds no synced row, queues nothing and has not restored a backup.
 */
async function opensStraightIn(
  store: Store,
  cloud: CloudStore,
  watermark: number,
): Promise<boolean> {
  if (watermark !== 0 || cloud.opensRows?.() !== true) return false;
  if (!await tablesEmpty(store.client, [...SYNCED.map((t) => t.table), "_sync_outbox"])) {
    return false;
  }
  return await restoreMark(store) === null;
}

/**
 * Pull: bring the replica up to date, then merge every row changed since the
 * watermark, page by page. Foreign keys are off while merging remote rows:
 * the cloud is the authority on references, and a page may hold a child
 * before a parent from a later page.
 */
export async function pull(
  store: Store,
  cloud: CloudStore,
  hooks: SyncHooks,
): Promise<{ pulled: number; conflicts: ConflictRecord[] }> {
  const state = await readSyncState(store);
  // The first pull (a new device, a new cloud) and setup's first sync go
  // through the replica: it may be large, and it leaves the offline copy in
  // cloud/ (and setup proves replication works before it saves anything).
  const quick = state.watermark > 0 && !hooks.replicaOnly
    ? await cloud.quickChanges?.(SYNCED.map((t) => t.table), state.watermark)
    : null;
  if (quick) return await mergeQuick(store, quick, state.watermark);
  const straightIn = await opensStraightIn(store, cloud, state.watermark);
  const upTo = await cloud.snapshot(straightIn ? undefined : state.watermark);
  const conflicts: ConflictRecord[] = [];
  let pulled = 0;
  if (upTo <= state.watermark) return { pulled, conflicts };
  const changed = new Map<string, string[]>();
  const replica = cloud.replicaFile?.();
  const skew = new Map<string, number>();
  const mergeAll = async () => {
    for (const t of SYNCED) {
      const changedIds: string[] = [];
      changed.set(t.entity, changedIds);
      if (straightIn) {
        pulled += await store.write(
          (w) => insertOpened(w, t, cloud, upTo, changedIds, noteClockSkew(w, skew)),
          { foreignKeys: false },
        );
        hooks.onPullProgress?.(pulled);
        continue;
      }
      if (replica) {
        pulled += await store.write(
          (w) =>
            mergeFromReplica(
              w,
              t,
              state.watermark,
              upTo,
              conflicts,
              changedIds,
              noteClockSkew(w, skew),
            ),
          { foreignKeys: false, attach: { path: replica, as: "cloud" } },
        );
        hooks.onPullProgress?.(pulled);
        continue;
      }
      // "~" sorts after every id: rows at exactly the watermark were merged already.
      let cursor: Cursor = { seq: state.watermark, id: "~" };
      for (;;) {
        const page = await cloud.changes(t.table, cursor, upTo, PAGE_SIZE);
        if (page.length === 0) break;
        pulled += await store.write(
          (w) => mergePage(w, t, page, conflicts, changedIds, noteClockSkew(w, skew)),
          { foreignKeys: false },
        );
        hooks.onPullProgress?.(pulled);
        const last = page[page.length - 1];
        cursor = { seq: Number(last._seq), id: String(last.id) };
        if (page.length < PAGE_SIZE) break;
      }
    }
  };
  // A new device's first download into empty tables is written once, to the
  // database file (a rollback journal keeps it atomic), instead of to the WAL
  // and then again by the checkpoint that folds the WAL back.
  if (
    straightIn ||
    replica && state.watermark === 0 && await tablesEmpty(store.client, SYNCED.map((t) => t.table))
  ) {
    await withRollbackJournal(store.client, mergeAll);
  } else {
    await mergeAll();
  }
  // A large merge changes the tables' shape: fresh statistics keep the
  // repair's joins (and every later query) on their indexes.
  if (pulled >= ANALYZE_AFTER_PULL) await optimizeAfterBulk(store.client);
  // Repair before the watermark moves: a crash in between re-merges these
  // pages (a no-op) and repairs again.
  if (pulled > 0) await repairOrphans(store, changed);
  if (pulled > 0) await store.write((w) => mergeDuplicateStakeholders(w));
  await store.write(async (w) => {
    await writeSyncState(w, { watermark: String(upTo) });
    if (skew.size > 0) await saveClockSkew(w, skew);
  });
  return { pulled, conflicts };
}

/**
 * A small pull read in one request (by the sync, or by a read command's
 * catch-up under the sync lock): the same per-row merge as pages from the
 * replica, with all tables in one local transaction and orphan repair,
 * same-name stakeholders and the watermark in a second one (the repairs are
 * new local writes made after seeing the merged rows; a crash in between
 * re-merges, a no-op, and repairs again).
 */
export async function mergeQuick(
  store: Store,
  quick: QuickChanges,
  watermark: number,
): Promise<{ pulled: number; conflicts: ConflictRecord[] }> {
  const conflicts: ConflictRecord[] = [];
  if (quick.seq <= watermark) return { pulled: 0, conflicts };
  const skew = new Map<string, number>();
  const changed = new Map<string, string[]>();
  const pulled = await store.write(async (w) => {
    let merged = 0;
    const seen = noteClockSkew(w, skew);
    for (const t of SYNCED) {
      const changedIds: string[] = [];
      changed.set(t.entity, changedIds);
      const rows = quick.rows.get(t.table) ?? [];
      if (rows.length) merged += await mergePage(w, t, rows, conflicts, changedIds, seen);
    }
    return merged;
  }, { foreignKeys: false });
  await store.write(async (w) => {
    if (pulled > 0) {
      await repairOrphansIn(w, changed);
      await mergeDuplicateStakeholders(w);
    }
    await writeSyncState(w, { watermark: String(quick.seq) });
    if (skew.size > 0) await saveClockSkew(w, skew);
  });
  return { pulled, conflicts };
}
