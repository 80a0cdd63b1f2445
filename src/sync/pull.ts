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
import { JdoError } from "../errors.ts";
import type { CloudStore, Cursor, QuickChanges } from "./cloud_store.ts";
import { noteClockSkew, saveClockSkew, type SkewSeen } from "./clock_skew.ts";
import type { ConflictRecord } from "./conflict_log.ts";
import { openedInsertSql } from "./e2e_envelope.ts";
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

/** How long a first download waits for more rows from the replica's sync under way. */
const SYNC_POLL_MS = 40;

/**
 * What the replica showed while its sync ran is not what the cloud holds
 * now: a row sealed under a key since rotated away, or rows since deleted.
 * The download starts over from the synced replica.
 */
class HistoryNotFinal extends Error {}

/**
 * Fails a pull whose snapshot shows the cloud's encryption switched since
 * the sync began (another device's `sync encrypt on|off` or `key rotate`):
 * the rows it read in the old form are not all there is, and the watermark
 * must not pass the ones it could not read. Before the watermark moves; the
 * next sync starts in the new form from where this one did.
 */
async function assertModeKept(cloud: CloudStore): Promise<void> {
  if (await cloud.modeKept?.() === false) {
    throw new JdoError(
      "SYNC_FAILED",
      "The cloud's encryption was switched by another device while this one synced; nothing past the last sync was kept",
      { hint: "Sync again" },
    );
  }
}

/**
 * A first download from an encrypted cloud into empty tables, while the
 * replica's sync runs: its sealed rows are opened (on the row workers, a
 * page ahead) and inserted here a JSON page at a time as the sync commits
 * them, instead of after it (the sync is network and one core; opening and
 * inserting is the other core). Rounds go over every table, each from its
 * cursor, until a round that began after the sync ended; a row that comes
 * again (changed meanwhile, at a higher sequence) replaces its first
 * version. The sync replays the cloud's history, so a row may show that the
 * cloud no longer holds: HistoryNotFinal (see pull()). `sync` is a number
 * once the sync has ended: one round then reads everything. One
 * transaction: all of it or nothing.
 */
async function insertOpened(
  w: Writer,
  cloud: CloudStore,
  sync: Promise<number> | number,
  changed: Map<string, string[]>,
  skew: SkewSeen,
  onProgress: (rows: number) => void,
): Promise<number> {
  const whileSyncing = typeof sync !== "number";
  let ended: { upTo: number } | { error: unknown } | undefined;
  if (typeof sync === "number") ended = { upTo: sync };
  else sync.then((upTo) => ended = { upTo }, (error) => ended = { error });
  const tables = [];
  for (const t of SYNCED) {
    const columns = (await w.query(`PRAGMA main.table_info(${t.table})`)).map((c) =>
      String(c.name)
    );
    tables.push({
      t,
      indexes: await dropIndexes(w, t.table),
      cursor: { seq: 0, id: "~" } as Cursor,
      insert: openedInsertSql(`main.${t.table}`, t.table, columns),
    });
  }
  let inserted = 0;
  for (;;) {
    if (ended && "error" in ended) throw ended.error;
    const upTo = ended?.upTo; // set: this round reads everything the sync brought
    let progressed = false;
    for (const table of tables) {
      try {
        for await (const page of cloud.openedRows!(table.t.table, table.cursor, upTo)) {
          inserted += (await w.tx.execute({ sql: table.insert, args: [page.rowsJson] }))
            .rowsAffected;
          table.cursor = page.last;
          progressed = true;
          onProgress(inserted);
        }
      } catch (error) {
        // Under way, a row under another key may be one the rotation replaced.
        if (
          upTo === undefined && error instanceof JdoError && error.code === "SYNC_KEY_WRONG"
        ) throw new HistoryNotFinal();
        throw error;
      }
    }
    if (upTo !== undefined) break;
    if (!progressed) await settledOrAfter(sync as Promise<number>, SYNC_POLL_MS);
  }
  let applied = 0;
  for (const { t, indexes } of tables) {
    const held = Number((await w.one(`SELECT count(*) AS n FROM main.${t.table}`))?.n ?? 0);
    const inCloud = await cloud.openedRowCount!(t.table, ended!.upTo);
    if (held !== inCloud) {
      // Read while syncing, a row since deleted in the cloud would stay here.
      if (whileSyncing) throw new HistoryNotFinal();
      throw new JdoError(
        "SYNC_FAILED",
        `The first download read ${held} ${t.table} rows where the cloud's copy holds ${inCloud}; nothing was saved`,
      );
    }
    for (const index of indexes) await w.tx.execute(String(index.sql));
    const ids: string[] = [];
    changed.set(t.entity, ids);
    // The table held nothing before: its rows are the ones just pulled.
    await notePulled(w, t, { sql: `main.${t.table} r`, args: [] }, ids, skew);
    if (t.entity !== CONFLICT_ENTITY) applied += held;
  }
  await assertModeKept(cloud); // in the transaction: nothing of it is kept
  return applied;
}

/** Resolves once `work` has settled or `ms` have passed, whichever is first. */
function settledOrAfter(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    work.finally(() => {
      clearTimeout(timer);
      resolve();
    }).catch(() => {});
  });
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

/** Where a pull collects what it merged: conflicts, changed ids per kind, clock skew seen. */
interface PullNotes {
  conflicts: ConflictRecord[];
  changed: Map<string, string[]>;
  skew: Map<string, number>;
}

/**
 * Merges every row changed in (watermark, upTo]: set-based from the
 * replica file when the cloud has one, page by page otherwise.
 */
async function mergeChanges(
  store: Store,
  cloud: CloudStore,
  hooks: SyncHooks,
  watermark: number,
  upTo: number,
  { conflicts, changed, skew }: PullNotes,
): Promise<number> {
  let pulled = 0;
  const replica = cloud.replicaFile?.();
  const mergeAll = async () => {
    for (const t of SYNCED) {
      const changedIds: string[] = [];
      changed.set(t.entity, changedIds);
      if (replica) {
        pulled += await store.write(
          (w) =>
            mergeFromReplica(
              w,
              t,
              watermark,
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
      let cursor: Cursor = { seq: watermark, id: "~" };
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
    replica && watermark === 0 && await tablesEmpty(store.client, SYNCED.map((t) => t.table))
  ) {
    await withRollbackJournal(store.client, mergeAll);
  } else {
    await mergeAll();
  }
  return pulled;
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
  const conflicts: ConflictRecord[] = [];
  let pulled = 0;
  const changed = new Map<string, string[]>();
  const skew = new Map<string, number>();
  let upTo: number;
  if (await opensStraightIn(store, cloud, state.watermark)) {
    // The replica's sync runs while the rows it has brought are opened and inserted.
    const snapshot = cloud.snapshot();
    snapshot.catch(() => {}); // its failure is met below (insertOpened, the start-over)
    const download = (sync: Promise<number> | number) =>
      withRollbackJournal(store.client, () =>
        store.write(
          (w) =>
            insertOpened(w, cloud, sync, changed, noteClockSkew(w, skew), (n) =>
              hooks.onPullProgress?.(n)),
          { foreignKeys: false },
        ));
    try {
      pulled = await download(snapshot);
    } catch (error) {
      if (!(error instanceof HistoryNotFinal)) throw error;
      changed.clear();
      skew.clear();
      pulled = await download(await snapshot);
    } finally {
      // Nothing returns or fails while the sync still writes in cloud/.
      await snapshot.catch(() => {});
    }
    upTo = await snapshot;
    if (upTo <= state.watermark) return { pulled, conflicts };
  } else {
    upTo = await cloud.snapshot(state.watermark);
    if (upTo <= state.watermark) return { pulled, conflicts };
    await assertModeKept(cloud);
    pulled = await mergeChanges(store, cloud, hooks, state.watermark, upTo, {
      conflicts,
      changed,
      skew,
    });
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
