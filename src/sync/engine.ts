/**
 * The sync algorithm: pull → merge → push, row-level last-write-wins on the
 * hybrid-logical-clock version. It knows the local Store and a CloudStore,
 * nothing of HTTP or files, and every step is safe to replay after a crash.
 */
import { optimizeAfterBulk, queryRows, tablesEmpty, withRollbackJournal } from "../db/database.ts";
import { bulkRowsJson, bulkUpsertSql } from "../db/bulk.ts";
import {
  CONFLICT_GROUPS,
  DELETED_GROUP,
  ENTITIES,
  type EntityDef,
  FIELD_VERSIONS,
  type FieldGroup,
  groupsOf,
  q,
  type Row,
} from "../db/schema.ts";
import { CONFLICT_ENTITY, type Store, type Writer } from "../db/store.ts";
import {
  authorOf,
  fieldMergeSql,
  mergeRows,
  parseFieldVersions,
  someGroupNewer,
} from "../db/field_versions.ts";
import type { CloudStore, Cursor, QuickChanges } from "./cloud_store.ts";
import { readSyncState, writeSyncState } from "./state.ts";
import { noteClockSkew, saveClockSkew, type SkewSeen } from "./clock_skew.ts";
import { mergeDuplicateStakeholders } from "./stakeholder_merge.ts";

export const PAGE_SIZE = 2_000;
/** Pulls of at least this many rows refresh the planner's statistics afterwards. */
const ANALYZE_AFTER_PULL = 10_000;
export const PUSH_CHUNK = 1_000;
/** From this many queued rows of a kind, pushes send chunks SQLite encoded (pushEncoded). */
const ENCODE_PUSH_AT = 100;
const MAX_ROUNDS = 3;

/** One lost value, as sync reports it. */
export interface ConflictRecord {
  entity: string;
  rowId: string;
  /** The merge group (a field, or the status group); null for a whole row. */
  field: string | null;
  kind: "field" | "delete";
  winner: "local" | "remote";
  localVersion: string;
  remoteVersion: string;
}

export interface SyncStats {
  pushed: number;
  pulled: number;
  conflicts: ConflictRecord[];
}

export interface SyncHooks {
  onPushProgress?(done: number, total: number): void;
  onPullProgress?(done: number): void;
  /** Pull through the embedded replica even when the change is small (setup's first sync). */
  replicaOnly?: boolean;
}

/** A synced table: the domain tables in parent-first order, then the conflict log. */
interface SyncedTable {
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
function withoutCloudColumns(row: Row): Row {
  const { _seq: _, _by: __, ...rest } = row;
  return rest;
}

async function upsertLocal(w: Writer, table: string, rows: Row[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]);
  await w.tx.execute({
    sql: bulkUpsertSql({ table, columns }),
    args: [bulkRowsJson(columns, rows)],
  });
}

async function lookup(
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

/** The queued entry of a row: its base per edited group, or null when unknown. */
function queuedBase(entry: Row): Record<string, string> | null {
  if (entry.base === null || entry.base === undefined) return null;
  try {
    return JSON.parse(String(entry.base));
  } catch {
    return null;
  }
}

function groupValue(row: Row, group: FieldGroup): Record<string, unknown> {
  return Object.fromEntries(group.columns.map((c) => [c, row[c] ?? null]));
}

function sameGroupValue(a: Row, b: Row, group: FieldGroup): boolean {
  return group.columns.every((c) => (a[c] ?? null) === (b[c] ?? null));
}

interface LostValue {
  group: FieldGroup;
  kind: "field" | "delete";
  winner: "local" | "remote";
  /** The versions of the two writes that met: this device's and the remote one. */
  localVersion: string;
  remoteVersion: string;
  kept: Record<string, unknown>;
  lost: Record<string, unknown>;
}

/**
 * The values a merge loses, for a row with queued local edits. `base` holds,
 * per group edited here, the version it had before; a remote version of that
 * group other than the base is a concurrent edit of the same field, and the
 * greater version wins. A delete beats edits made concurrently with it, in
 * both directions: our queued edits of a row deleted elsewhere, and edits
 * from elsewhere of a row deleted here.
 */
function lostValues(
  mine: Row,
  remote: Row,
  merged: Row,
  groups: readonly FieldGroup[],
  base: Record<string, string> | null,
  deviceId: string,
): LostValue[] {
  const mineV = parseFieldVersions(mine[FIELD_VERSIONS], groups, mine.version);
  const remoteV = parseFieldVersions(remote[FIELD_VERSIONS], groups, remote.version);
  const editedHere = (g: string) =>
    base ? g in base : authorOf(mineV[g]) === deviceId && mineV[g] !== remoteV[g];
  const changedThere = (g: string) =>
    remoteV[g] !== mineV[g] && (base ? remoteV[g] !== (base[g] ?? "") : true) &&
    authorOf(remoteV[g]) !== deviceId;
  const out: LostValue[] = [];
  const deleted = (r: Row) => r[DELETED_GROUP] !== null && r[DELETED_GROUP] !== undefined;
  for (const g of groups) {
    if (!editedHere(g.name) || !changedThere(g.name)) continue;
    if (g.name === DELETED_GROUP && deleted(mine) && deleted(remote)) continue; // both deleted
    if (sameGroupValue(mine, remote, g)) continue; // the same value: nothing lost
    const remoteWins = remoteV[g.name] > mineV[g.name];
    out.push({
      group: g,
      kind: "field",
      winner: remoteWins ? "remote" : "local",
      localVersion: mineV[g.name],
      remoteVersion: remoteV[g.name],
      kept: groupValue(remoteWins ? remote : mine, g),
      lost: groupValue(remoteWins ? mine : remote, g),
    });
  }
  if (!deleted(merged)) return out;
  const deletion = groups.find((g) => g.name === DELETED_GROUP)!;
  if (!deleted(mine) && changedThere(DELETED_GROUP)) {
    // Deleted elsewhere while we edited: our queued edits lose to the delete.
    for (const g of groups) {
      if (g.name === DELETED_GROUP || !editedHere(g.name)) continue;
      if (out.some((l) => l.group === g && l.winner === "remote")) continue;
      out.push({
        group: g,
        kind: "delete",
        winner: "remote",
        localVersion: mineV[g.name],
        remoteVersion: remoteV[DELETED_GROUP],
        kept: groupValue(remote, deletion),
        lost: groupValue(mine, g),
      });
    }
  } else if (deleted(mine) && editedHere(DELETED_GROUP)) {
    // Deleted here while another device edited: its edits lose to our delete.
    for (const g of groups) {
      if (g.name === DELETED_GROUP || !changedThere(g.name) || remoteV[g.name] < mineV[g.name]) {
        continue;
      }
      if (out.some((l) => l.group === g && l.winner === "local")) continue;
      out.push({
        group: g,
        kind: "delete",
        winner: "local",
        localVersion: mineV[DELETED_GROUP],
        remoteVersion: remoteV[g.name],
        kept: groupValue(mine, deletion),
        lost: groupValue(remote, g),
      });
    }
  }
  return out;
}

/**
 * Merges one page of remote rows into the working database (one transaction),
 * group by group (src/db/field_versions.ts). Rows with queued local edits may
 * lose values: each lost value goes to the conflict log. A row whose merge
 * keeps something the cloud lacks stays queued; one the cloud already has
 * whole leaves the queue. Changed rows are written with one statement.
 */
async function mergePage(
  w: Writer,
  t: SyncedTable,
  remoteRows: Row[],
  conflicts: ConflictRecord[],
  changedIds: string[],
  skew: SkewSeen,
): Promise<number> {
  const ids = remoteRows.map((r) => String(r.id));
  const local = await lookup(w, `SELECT * FROM ${t.table} WHERE id IN (?)`, ids);
  const outbox = await lookup(
    w,
    "SELECT id, version, base FROM _sync_outbox WHERE entity = ? AND id IN (?)",
    ids,
    [t.entity],
  );
  const winners: Row[] = [];
  for (const raw of remoteRows) {
    const remote = withoutCloudColumns(raw);
    const id = String(remote.id);
    const remoteVersion = String(remote.version);
    w.observe(remoteVersion);
    skew.see(remoteVersion);
    const mine = local.get(id);
    const pending = outbox.get(id);
    if (!mine) {
      winners.push(remote);
      continue;
    }
    const { row: merged, fromOther, keptOwn } = mergeRows(mine, remote, t.groups);
    if (pending && t.def) {
      const base = queuedBase(pending);
      const lost = lostValues(mine, remote, merged, t.groups, base, w.deviceId);
      for (const l of lost) {
        const record: ConflictRecord = {
          entity: t.entity,
          rowId: id,
          field: l.group.name,
          kind: l.kind,
          winner: l.winner,
          localVersion: l.localVersion,
          remoteVersion: l.remoteVersion,
        };
        if (await conflictKnown(w, record)) continue;
        conflicts.push(record);
        await recordConflict(w, record, l, mine, remote);
      }
      if (keptOwn.length === 0) {
        // The cloud has everything this row holds: nothing left to push.
        await dropOutbox(w, t.entity, id, String(pending.version));
      } else {
        // Still queued. Groups whose edit lost are no longer ours to push;
        // the others have now seen the remote version (their new base).
        const remoteV = parseFieldVersions(remote[FIELD_VERSIONS], t.groups, remote.version);
        let nextBase: Record<string, string> | null = null;
        if (base) {
          nextBase = {};
          for (const [g, v] of Object.entries(base)) {
            if (fromOther.includes(g)) continue;
            nextBase[g] = remoteV[g] ?? v;
          }
        }
        await w.tx.execute({
          sql: "UPDATE _sync_outbox SET version = ?, base = ? WHERE entity = ? AND id = ?",
          args: [
            String(merged.version),
            nextBase ? JSON.stringify(nextBase) : null,
            t.entity,
            id,
          ],
        });
      }
    } else if (keptOwn.length > 0) {
      // The cloud holds older values than ours and nothing is queued: queue
      // ours so the cloud catches up.
      await w.enqueue(t.entity, id, String(merged.version));
    } else if (pending) {
      await dropOutbox(w, t.entity, id, String(pending.version));
    }
    if (fromOther.length > 0) winners.push(merged);
  }
  await upsertLocal(w, t.table, winners);
  if (t.entity === CONFLICT_ENTITY) return 0;
  for (const r of winners) changedIds.push(String(r.id));
  return winners.length;
}

async function dropOutbox(w: Writer, entityName: string, id: string, version: string) {
  await w.tx.execute({
    sql: "DELETE FROM _sync_outbox WHERE entity = ? AND id = ? AND version = ?",
    args: [entityName, id, version],
  });
}

/** Removes outbox entries whose queued version is the one the cloud accepted. */
async function dropOutboxMany(
  w: Writer,
  entityName: string,
  rows: { id: string; version: string }[],
): Promise<void> {
  if (rows.length === 0) return;
  await w.tx.execute({
    sql: `DELETE FROM _sync_outbox WHERE entity = ? AND (id, version) IN
          (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))`,
    args: [entityName, JSON.stringify(rows.map((r) => [r.id, r.version]))],
  });
}

/**
 * A pull cut off before it recorded its watermark merges the same pages
 * again: a lost value already logged (same row, field and two versions) is
 * not logged twice.
 */
async function conflictKnown(w: Writer, c: ConflictRecord): Promise<boolean> {
  const hit = await w.one(
    `SELECT 1 AS hit FROM _sync_conflicts
     WHERE entity = ? AND row_id = ? AND field IS ? AND local_version = ? AND remote_version = ?
     LIMIT 1`,
    [c.entity, c.rowId, c.field, c.localVersion, c.remoteVersion],
  );
  return hit !== undefined;
}

async function recordConflict(
  w: Writer,
  c: ConflictRecord,
  l: LostValue,
  local: Row,
  remote: Row,
) {
  const now = w.nowIso();
  const version = w.nextVersion();
  const keptVersion = c.winner === "local" ? c.localVersion : c.remoteVersion;
  const lostVersion = c.winner === "local" ? c.remoteVersion : c.localVersion;
  const row: Row = {
    id: crypto.randomUUID(),
    entity: c.entity,
    row_id: c.rowId,
    field: c.field,
    kind: c.kind,
    winner: c.winner,
    local_version: c.localVersion,
    remote_version: c.remoteVersion,
    local_row: JSON.stringify(local),
    remote_row: JSON.stringify(remote),
    kept_value: JSON.stringify(l.kept),
    lost_value: JSON.stringify(l.lost),
    kept_version: keptVersion,
    lost_version: lostVersion,
    kept_device: authorOf(keptVersion) ?? null,
    lost_device: authorOf(lostVersion) ?? null,
    detected_by: w.deviceId,
    resolved_at: null,
    created_at: now,
    updated_at: now,
    version,
    deleted_at: null,
    [FIELD_VERSIONS]: JSON.stringify(
      Object.fromEntries(CONFLICT_GROUPS.map((g) => [g.name, version])),
    ),
  };
  await upsertLocal(w, "_sync_conflicts", [row]);
  await w.enqueue(CONFLICT_ENTITY, String(row.id), version);
}

/**
 * A delete on one device and a new child on another (a task added to a
 * commitment deleted elsewhere) each sync cleanly, leaving a live row under a
 * tombstoned parent. After a pull, the delete rules are applied again: the
 * child is tombstoned (cascade) or unlinked (nullify); a parent that must not
 * vanish under live rows (restrict: a stakeholder) is brought back. Each fix
 * is an ordinary versioned write, so every device converges on it.
 */
export async function repairOrphans(
  store: Store,
  changed?: Map<string, string[]>,
): Promise<number> {
  return await store.write((w) => repairOrphansIn(w, changed));
}

/** repairOrphans inside a write transaction the caller holds. */
async function repairOrphansIn(w: Writer, changed?: Map<string, string[]>): Promise<number> {
  const total = changed ? [...changed.values()].reduce((n, ids) => n + ids.length, 0) : Infinity;
  // Few changed rows: look only at them and their children (cost follows the
  // change, not the database). Many: one scan per link is cheaper.
  const targeted = total <= REPAIR_TARGETED_MAX;
  {
    let fixed = 0;
    for (const child of ENTITIES) {
      for (const link of child.parents) {
        const parent = ENTITIES.find((e) => e.name === link.entity)!;
        const base = `SELECT c.id AS child_id, p.id AS parent_id FROM ${child.table} c
           JOIN ${parent.table} p ON p.id = c.${q(link.column)}
           WHERE c.deleted_at IS NULL AND p.deleted_at IS NOT NULL`;
        const found = new Map<string, Row>();
        if (!targeted) {
          for (const r of await w.query(base)) found.set(String(r.child_id), r);
        } else {
          const probes: [string, string[]][] = [
            ["p.id", changed!.get(parent.name) ?? []],
            ["c.id", changed!.get(child.name) ?? []],
          ];
          for (const [column, ids] of probes) {
            for (let i = 0; i < ids.length; i += 500) {
              const chunk = ids.slice(i, i + 500);
              const rows = await w.query(
                `${base} AND ${column} IN (${chunk.map(() => "?").join(",")})`,
                chunk,
              );
              for (const r of rows) found.set(String(r.child_id), r);
            }
          }
        }
        for (const r of found.values()) {
          const childId = String(r.child_id);
          if (link.onDelete === "restrict") {
            // A parent with several live children is restored once (undelete
            // of a live row writes nothing).
            await w.undelete(parent, String(r.parent_id));
          } else if (link.onDelete === "cascade") {
            await w.tombstone(child, childId);
          } else {
            await w.update(child, childId, { [link.column]: null });
          }
          fixed++;
        }
      }
    }
    return fixed;
  }
}

const REPAIR_TARGETED_MAX = 5_000;

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

/** Rows where the cloud holds older values than ours and nothing is queued: queue ours. */
async function queueWhereCloudIsBehind(
  w: Writer,
  t: SyncedTable,
  range: string,
  watermark: number,
  upTo: number,
): Promise<void> {
  await w.tx.execute({
    sql: `INSERT INTO _sync_outbox (entity, id, version, base)
SELECT ?, m.id, m.version, '{}' FROM main.${t.table} m JOIN cloud.${t.table} r ON r.id = m.id
WHERE ${range} AND m.${FIELD_VERSIONS} IS NOT r.${FIELD_VERSIONS}
  AND ${someGroupNewer("m", "r", t.groups)}
ON CONFLICT(entity, id) DO NOTHING`,
    args: [t.entity, watermark, upTo],
  });
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
  let applied = pendingRows.length
    ? await mergePage(w, t, pendingRows, conflicts, changedIds, skew)
    : 0;
  const columns = (await w.query(`PRAGMA main.table_info(${t.table})`)).map((c) => String(c.name));
  // An empty local table (a new device's first download): plain inserts, no
  // merge to evaluate and nothing of ours for the cloud to catch up on.
  const empty = await tablesEmpty(w.tx, [`main.${t.table}`]);
  // Many rows into an empty table: its indexes are built once afterwards
  // (a sort) instead of being updated row by row.
  const indexes = empty && await countInRange(w, t, range, watermark, upTo) >= REBUILD_INDEXES_AT
    ? await w.query(
      `SELECT name, sql FROM main.sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`,
      [t.table],
    )
    : [];
  for (const index of indexes) await w.tx.execute(`DROP INDEX main.${q(String(index.name))}`);
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
  // Per author, the newest version: advances the clock and tells a device
  // whose clock runs far ahead.
  const newest = await w.query(
    `SELECT max(r.version) AS v FROM cloud.${t.table} r WHERE ${range}
     GROUP BY substr(r.version, 20)`,
    [watermark, upTo],
  );
  for (const n of newest) {
    w.observe(String(n.v));
    skew.see(String(n.v));
  }
  if (t.entity === CONFLICT_ENTITY) return 0;
  applied += result.rowsAffected;
  const ids = await w.query(
    `SELECT r.id FROM cloud.${t.table} r WHERE ${range} LIMIT ?`,
    [watermark, upTo, REPAIR_TARGETED_MAX + 1],
  );
  for (const r of ids) changedIds.push(String(r.id));
  return applied;
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
  const upTo = await cloud.snapshot();
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
 * A quick pull another caller read (a read command's catch-up): merged the
 * same way as the sync's own, under the sync lock the caller holds.
 */
export async function mergeQuickChanges(
  store: Store,
  quick: QuickChanges,
  watermark: number,
): Promise<{ pulled: number; conflicts: ConflictRecord[] }> {
  return await mergeQuick(store, quick, watermark);
}

/**
 * A small pull read in one request: the same per-row merge as pages from the
 * replica, with all tables in one local transaction and orphan repair,
 * same-name stakeholders and the watermark in a second one (the repairs are
 * new local writes made after seeing the merged rows; a crash in between
 * re-merges, a no-op, and repairs again).
 */
async function mergeQuick(
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

/** A chunk of queued rows read from the outbox, ready to go to the cloud. */
interface ReadChunk {
  count: number;
  last: string;
  /** Pushes it; answers the (id, version) the cloud applied and the new seq. */
  send(): Promise<{ accepted: { id: string; version: string }[]; seq: number }>;
}

type ChunkReader = (afterId: string) => Promise<ReadChunk | null>;

/** Chunks of `t` read as row objects (cheap for a few rows). */
function rowChunks(
  store: Store,
  cloud: CloudStore,
  t: SyncedTable,
  watermark: number,
  deviceId: string,
): ChunkReader {
  return async (afterId) => {
    const rows = await queryRows(
      store.client,
      `SELECT t.* FROM _sync_outbox o JOIN ${t.table} t ON t.id = o.id
       WHERE o.entity = ? AND o.id > ? ORDER BY o.id LIMIT ?`,
      [t.entity, afterId, PUSH_CHUNK],
    );
    if (rows.length === 0) return null;
    return {
      count: rows.length,
      last: String(rows[rows.length - 1].id),
      send: async () => {
        const result = await cloud.push(
          rows.map((row) => ({ table: t.table, row })),
          watermark,
          deviceId,
        );
        return {
          accepted: rows.filter((_, i) => result.applied[i])
            .map((r) => ({ id: String(r.id), version: String(r.version) })),
          seq: result.seq,
        };
      },
    };
  };
}

/** Chunks of `t` encoded by SQLite as one JSON string each (no row objects). */
function encodedChunks(
  store: Store,
  pushEncoded: NonNullable<CloudStore["pushEncoded"]>,
  t: SyncedTable,
  columns: string[],
  watermark: number,
  deviceId: string,
): ChunkReader {
  return async (afterId) => {
    const chunk = await store.one(
      `SELECT json_group_array(json_array(${columns.map((c) => `c.${q(c)}`).join(", ")})) AS rows,
              json_group_array(json_array(c.id, c.version)) AS keys, count(*) AS n,
              max(c.id) AS last
       FROM (SELECT t.* FROM _sync_outbox o JOIN ${t.table} t ON t.id = o.id
             WHERE o.entity = ? AND o.id > ? ORDER BY o.id LIMIT ?) c`,
      [t.entity, afterId, PUSH_CHUNK],
    );
    const count = Number(chunk?.n ?? 0);
    if (count === 0) return null;
    return {
      count,
      last: String(chunk!.last),
      send: async () => {
        const result = await pushEncoded(
          { table: t.table, columns, rowsJson: String(chunk!.rows) },
          watermark,
          deviceId,
        );
        const keys: [string, string][] = JSON.parse(String(chunk!.keys));
        return {
          accepted: keys.filter(([id]) => result.applied.has(id))
            .map(([id, version]) => ({ id, version })),
          seq: result.seq,
        };
      },
    };
  };
}

/**
 * Push: send queued rows in atomic chunks; drop the outbox entries the cloud
 * accepted. When every chunk got the next sequence number in turn, no other
 * device wrote in between, so the watermark moves past our own rows and the
 * next pull does not read them back. While one chunk is on its way, the next
 * one is read, so the local and the cloud's work overlap; an entry still
 * leaves the outbox only once the cloud has accepted its row.
 */
export async function push(
  store: Store,
  cloud: CloudStore,
  hooks: SyncHooks,
): Promise<{ pushed: number; rejected: number }> {
  const state = await readSyncState(store);
  const deviceId = await store.deviceId();
  // Queued rows per kind: kinds with nothing queued cost no query at all.
  const queued = new Map(
    (await store.query("SELECT entity, count(*) AS n FROM _sync_outbox GROUP BY entity"))
      .map((r) => [String(r.entity), Number(r.n)]),
  );
  const total = [...queued.values()].reduce((a, b) => a + b, 0);
  let pushed = 0;
  let rejected = 0;
  let done = 0;
  let contiguousSeq: number | null = state.watermark;
  for (const t of SYNCED) {
    if (!queued.get(t.entity)) continue;
    // Many rows: SQLite encodes each chunk itself. A few: plain rows are as cheap.
    const read = cloud.pushEncoded && queued.get(t.entity)! >= ENCODE_PUSH_AT
      ? encodedChunks(
        store,
        cloud.pushEncoded.bind(cloud),
        t,
        (await store.query(`PRAGMA main.table_info(${t.table})`)).map((c) => String(c.name)),
        state.watermark,
        deviceId,
      )
      : rowChunks(store, cloud, t, state.watermark, deviceId);
    // Each chunk is sent first; while it is on its way, the previous chunk's
    // accepted entries are dropped and the next chunk is read.
    const drop = async (entries: { id: string; version: string }[]) => {
      if (entries.length > 0) await store.write((w) => dropOutboxMany(w, t.entity, entries));
    };
    let chunk = await read("");
    let toDrop: { id: string; version: string }[] = [];
    while (chunk) {
      const sending = chunk.send();
      sending.catch(() => {}); // awaited below, after the local work
      await drop(toDrop);
      const next = chunk.count < PUSH_CHUNK ? null : await read(chunk.last);
      const sent = await sending;
      contiguousSeq = contiguousSeq !== null && sent.seq === contiguousSeq + 1 ? sent.seq : null;
      toDrop = sent.accepted;
      if (t.entity !== CONFLICT_ENTITY) pushed += sent.accepted.length;
      rejected += chunk.count - sent.accepted.length;
      done += chunk.count;
      hooks.onPushProgress?.(done, total);
      chunk = next;
    }
    await drop(toDrop);
  }
  if (rejected === 0 && contiguousSeq !== null && contiguousSeq > state.watermark) {
    const seq = contiguousSeq;
    await store.write((w) => writeSyncState(w, { watermark: String(seq) }));
  }
  return { pushed, rejected };
}

/**
 * One full sync. Repeats pull+push while the cloud rejected rows that changed
 * concurrently, so a single `sync now` normally ends converged.
 */
export async function syncOnce(
  store: Store,
  cloud: CloudStore,
  hooks: SyncHooks = {},
): Promise<SyncStats> {
  const stats: SyncStats = { pushed: 0, pulled: 0, conflicts: [] };
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const pulled = await pull(store, cloud, hooks);
    stats.pulled += pulled.pulled;
    stats.conflicts.push(...pulled.conflicts);
    const pushed = await push(store, cloud, hooks);
    stats.pushed += pushed.pushed;
    if (pushed.rejected === 0) break;
  }
  return stats;
}

/** Queues every row of every synced table (first upload to a new cloud). */
export async function enqueueEverything(store: Store): Promise<void> {
  await store.write(enqueueAll);
}

async function enqueueAll(w: Writer): Promise<void> {
  for (const t of SYNCED) {
    await w.tx.execute({
      sql: `INSERT INTO _sync_outbox (entity, id, version, base)
            SELECT ?, id, version, '{}' FROM ${t.table} WHERE true
            ON CONFLICT(entity, id) DO UPDATE SET version = excluded.version`,
      args: [t.entity],
    });
  }
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

/**
 * Points the working database at another cloud: forget the old watermark and
 * queue every row, so all local data reaches the new cloud and no sequence
 * number of one database is ever compared with another's.
 */
export async function resetForCloud(store: Store, cloudId: string): Promise<void> {
  // One transaction: killed in between, the new cloud id would be recorded
  // with nothing queued, and rows synced to the old cloud would never reach
  // the new one.
  await store.write(async (w) => {
    await writeSyncState(w, { watermark: "0", cloud_id: cloudId });
    await enqueueAll(w);
  });
}

/**
 * Gives every field of every row a new version and queues it (after `db
 * restore` with sync on): the restored values become current everywhere,
 * and values they overwrite on other devices go to the conflict log, since
 * each queued group's base is the version the backup had.
 */
export async function restampForSync(store: Store): Promise<void> {
  await store.write(async (w) => {
    const version = w.nextVersion();
    const now = w.nowIso();
    for (const def of ENTITIES) {
      // Queue first, while _fv still holds the backup's versions (the base).
      await w.tx.execute({
        sql: `INSERT INTO _sync_outbox (entity, id, version, base)
              SELECT ?, id, ?, ${FIELD_VERSIONS} FROM ${def.table} WHERE true
              ON CONFLICT(entity, id) DO UPDATE SET version = excluded.version,
                base = CASE WHEN base IS NULL THEN NULL ELSE json_patch(excluded.base, base) END`,
        args: [def.name, version],
      });
      await w.tx.execute({
        sql: `UPDATE ${def.table} SET version = ?, updated_at = ?, ${FIELD_VERSIONS} = ?`,
        args: [
          version,
          now,
          JSON.stringify(Object.fromEntries(groupsOf(def).map((g) => [g.name, version]))),
        ],
      });
    }
  });
}
