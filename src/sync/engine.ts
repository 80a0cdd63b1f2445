/**
 * The sync algorithm: pull → merge → push, row-level last-write-wins on the
 * hybrid-logical-clock version. It knows the local Store and a CloudStore,
 * nothing of HTTP or files, and every step is safe to replay after a crash.
 */
import { queryRows } from "../db/database.ts";
import { bulkRowsJson, bulkUpsertSql, excludedAssignments } from "../db/bulk.ts";
import { ENTITIES, type EntityDef, q, type Row } from "../db/schema.ts";
import { CONFLICT_ENTITY, type Store, type Writer } from "../db/store.ts";
import { parseVersion } from "../db/hlc.ts";
import type { CloudStore, Cursor, PushRow } from "./cloud_store.ts";
import { readSyncState, writeSyncState } from "./state.ts";
import { mergeDuplicateStakeholders } from "./stakeholder_merge.ts";

export const PAGE_SIZE = 2_000;
export const PUSH_CHUNK = 1_000;
const MAX_ROUNDS = 3;

export interface ConflictRecord {
  entity: string;
  rowId: string;
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
}

/** A synced table: the domain tables in parent-first order, then the conflict log. */
interface SyncedTable {
  entity: string;
  table: string;
  def?: EntityDef;
}

export const SYNCED: SyncedTable[] = [
  ...ENTITIES.map((def) => ({ entity: def.name, table: def.table, def })),
  { entity: CONFLICT_ENTITY, table: "_sync_conflicts" },
];

function authorOf(version: string): string | undefined {
  return parseVersion(version)?.deviceId;
}

function withoutSeq(row: Row): Row {
  const { _seq: _, ...rest } = row;
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

/**
 * Merges one page of remote rows into the working database (one transaction).
 * Remote wins when its version is greater. When the row also has an unpushed
 * local change made by another device's edit, both rows go to the conflict
 * log. Winning rows are written with one statement for the whole page.
 */
async function mergePage(
  w: Writer,
  t: SyncedTable,
  remoteRows: Row[],
  conflicts: ConflictRecord[],
  changedIds: string[],
): Promise<number> {
  const ids = remoteRows.map((r) => String(r.id));
  const local = await lookup(w, `SELECT id, version FROM ${t.table} WHERE id IN (?)`, ids);
  const outbox = await lookup(
    w,
    "SELECT id, version FROM _sync_outbox WHERE entity = ? AND id IN (?)",
    ids,
    [t.entity],
  );
  const winners: Row[] = [];
  for (const raw of remoteRows) {
    const remote = withoutSeq(raw);
    const id = String(remote.id);
    const remoteVersion = String(remote.version);
    w.observe(remoteVersion);
    const mine = local.get(id);
    const pending = outbox.get(id);
    if (!mine) {
      winners.push(remote);
      continue;
    }
    const localVersion = String(mine.version);
    if (remoteVersion === localVersion) {
      // Our own row coming back (also a push whose answer was lost): it is
      // in the cloud, so stop re-pushing it.
      if (pending) await dropOutbox(w, t.entity, id, localVersion);
      continue;
    }
    if (t.entity === CONFLICT_ENTITY) continue; // conflict records never change
    const remoteWins = remoteVersion > localVersion;
    // Our own earlier write coming back is never a conflict with ourselves.
    const concurrent = pending !== undefined && authorOf(remoteVersion) !== w.deviceId;
    if (concurrent && !await conflictKnown(w, t.entity, id, localVersion, remoteVersion)) {
      const record: ConflictRecord = {
        entity: t.entity,
        rowId: id,
        winner: remoteWins ? "remote" : "local",
        localVersion,
        remoteVersion,
      };
      conflicts.push(record);
      const full = await w.one(`SELECT * FROM ${t.table} WHERE id = ?`, [id]);
      await recordConflict(w, record, full!, remote);
    }
    if (remoteWins) {
      winners.push(remote);
      if (pending) await dropOutbox(w, t.entity, id, String(pending.version));
    } else if (!pending) {
      // The cloud holds an older version than ours and nothing is queued:
      // queue ours so the cloud catches up.
      await w.enqueue(t.entity, id, localVersion);
    }
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
async function dropOutboxMany(w: Writer, entityName: string, rows: Row[]): Promise<void> {
  if (rows.length === 0) return;
  await w.tx.execute({
    sql: `DELETE FROM _sync_outbox WHERE entity = ? AND (id, version) IN
          (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))`,
    args: [entityName, JSON.stringify(rows.map((r) => [r.id, r.version]))],
  });
}

/**
 * A pull cut off before it recorded its watermark merges the same pages
 * again: a conflict already logged (same row, same two versions) is not
 * logged twice.
 */
async function conflictKnown(
  w: Writer,
  entityName: string,
  rowId: string,
  localVersion: string,
  remoteVersion: string,
): Promise<boolean> {
  const hit = await w.one(
    `SELECT 1 AS hit FROM _sync_conflicts
     WHERE entity = ? AND row_id = ? AND local_version = ? AND remote_version = ? LIMIT 1`,
    [entityName, rowId, localVersion, remoteVersion],
  );
  return hit !== undefined;
}

async function recordConflict(w: Writer, c: ConflictRecord, local: Row, remote: Row) {
  const now = w.nowIso();
  const row = {
    id: crypto.randomUUID(),
    entity: c.entity,
    row_id: c.rowId,
    winner: c.winner,
    local_version: c.localVersion,
    remote_version: c.remoteVersion,
    local_row: JSON.stringify(local),
    remote_row: JSON.stringify(remote),
    detected_by: w.deviceId,
    resolved_at: now,
    created_at: now,
    updated_at: now,
    version: w.nextVersion(),
    deleted_at: null,
  };
  await upsertLocal(w, "_sync_conflicts", [row]);
  await w.enqueue(CONFLICT_ENTITY, row.id, row.version);
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
  const total = changed ? [...changed.values()].reduce((n, ids) => n + ids.length, 0) : Infinity;
  // Few changed rows: look only at them and their children (cost follows the
  // change, not the database). Many: one scan per link is cheaper.
  const targeted = total <= REPAIR_TARGETED_MAX;
  return await store.write(async (w) => {
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
            const version = w.nextVersion();
            const restored = await w.tx.execute({
              sql: `UPDATE ${parent.table} SET deleted_at = NULL, updated_at = ?, version = ?
                    WHERE id = ? AND deleted_at IS NOT NULL`,
              args: [w.nowIso(), version, r.parent_id],
            });
            // A parent with several live children is restored once: queuing a
            // version no row has would leave an outbox entry that never drains.
            if (restored.rowsAffected > 0) {
              await w.enqueue(parent.name, String(r.parent_id), version);
            }
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
  });
}

const REPAIR_TARGETED_MAX = 5_000;

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
): Promise<number> {
  const range = "r._seq > ? AND r._seq <= ?";
  const pendingRows = await w.query(
    `SELECT r.* FROM cloud.${t.table} r JOIN _sync_outbox o ON o.entity = ? AND o.id = r.id
     WHERE ${range}`,
    [t.entity, watermark, upTo],
  );
  let applied = pendingRows.length ? await mergePage(w, t, pendingRows, conflicts, changedIds) : 0;
  const columns = (await w.query(`PRAGMA main.table_info(${t.table})`)).map((c) => String(c.name));
  const result = await w.tx.execute({
    sql: `INSERT INTO main.${t.table} (${columns.map(q).join(", ")})
SELECT ${columns.map((c) => `r.${q(c)}`).join(", ")} FROM cloud.${t.table} r WHERE ${range}
ON CONFLICT(id) DO UPDATE SET ${
      excludedAssignments(columns)
    } WHERE excluded.version > ${t.table}.version`,
    args: [watermark, upTo],
  });
  // The cloud holds an older version than ours and nothing is queued: queue ours.
  await w.tx.execute({
    sql: `INSERT INTO _sync_outbox (entity, id, version)
SELECT ?, m.id, m.version FROM main.${t.table} m JOIN cloud.${t.table} r ON r.id = m.id
WHERE ${range} AND m.version > r.version
ON CONFLICT(entity, id) DO NOTHING`,
    args: [t.entity, watermark, upTo],
  });
  const newest = await w.one(
    `SELECT max(r.version) AS v FROM cloud.${t.table} r WHERE ${range}`,
    [watermark, upTo],
  );
  if (newest?.v) w.observe(String(newest.v));
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
  const upTo = await cloud.snapshot();
  const conflicts: ConflictRecord[] = [];
  let pulled = 0;
  if (upTo <= state.watermark) return { pulled, conflicts };
  const changed = new Map<string, string[]>();
  const replica = cloud.replicaFile?.();
  for (const t of SYNCED) {
    const changedIds: string[] = [];
    changed.set(t.entity, changedIds);
    if (replica) {
      pulled += await store.write(
        (w) => mergeFromReplica(w, t, state.watermark, upTo, conflicts, changedIds),
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
      pulled += await store.write((w) => mergePage(w, t, page, conflicts, changedIds), {
        foreignKeys: false,
      });
      hooks.onPullProgress?.(pulled);
      const last = page[page.length - 1];
      cursor = { seq: Number(last._seq), id: String(last.id) };
      if (page.length < PAGE_SIZE) break;
    }
  }
  // Repair before the watermark moves: a crash in between re-merges these
  // pages (a no-op) and repairs again.
  if (pulled > 0) await repairOrphans(store, changed);
  if (pulled > 0) await store.write((w) => mergeDuplicateStakeholders(w));
  await store.write((w) => writeSyncState(w, { watermark: String(upTo) }));
  return { pulled, conflicts };
}

/**
 * Push: send queued rows in atomic chunks; drop the outbox entries the cloud
 * accepted. When every chunk got the next sequence number in turn, no other
 * device wrote in between, so the watermark moves past our own rows and the
 * next pull does not read them back.
 */
export async function push(
  store: Store,
  cloud: CloudStore,
  hooks: SyncHooks,
): Promise<{ pushed: number; rejected: number }> {
  const state = await readSyncState(store);
  const deviceId = await store.deviceId();
  const total = Number(
    (await store.one("SELECT count(*) AS n FROM _sync_outbox"))?.n ?? 0,
  );
  let pushed = 0;
  let rejected = 0;
  let done = 0;
  let contiguousSeq: number | null = state.watermark;
  for (const t of SYNCED) {
    let afterId = "";
    for (;;) {
      const rows = await queryRows(
        store.client,
        `SELECT t.*, o.version AS _queued FROM _sync_outbox o JOIN ${t.table} t ON t.id = o.id
         WHERE o.entity = ? AND o.id > ? ORDER BY o.id LIMIT ?`,
        [t.entity, afterId, PUSH_CHUNK],
      );
      if (rows.length === 0) break;
      afterId = String(rows[rows.length - 1].id);
      const batch: PushRow[] = rows.map((r) => {
        const { _queued: _, ...row } = r;
        return { table: t.table, row };
      });
      const result = await cloud.push(batch, state.watermark, deviceId);
      const accepted = rows.filter((_, i) => result.applied[i]);
      contiguousSeq = contiguousSeq !== null && result.seq === contiguousSeq + 1
        ? result.seq
        : null;
      await store.write((w) => dropOutboxMany(w, t.entity, accepted));
      if (t.entity !== CONFLICT_ENTITY) pushed += accepted.length;
      rejected += rows.length - accepted.length;
      done += rows.length;
      hooks.onPushProgress?.(done, total);
      if (rows.length < PUSH_CHUNK) break;
    }
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
      sql: `INSERT INTO _sync_outbox (entity, id, version)
            SELECT ?, id, version FROM ${t.table} WHERE true
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

/** Gives every row a new version and queues it (after `db restore` with sync on). */
export async function restampForSync(store: Store): Promise<void> {
  await store.write(async (w) => {
    const version = w.nextVersion();
    const now = w.nowIso();
    for (const def of ENTITIES) {
      await w.tx.execute({
        sql: `UPDATE ${def.table} SET version = ?, updated_at = ?`,
        args: [version, now],
      });
    }
    // In the same transaction: restamped but not queued, rows would never be pushed.
    await enqueueAll(w);
  });
}
