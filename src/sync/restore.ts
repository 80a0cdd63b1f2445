/**
 * `db restore` on a device that syncs: every device is to look like the
 * backup. The backup's rows are written into the working database as new
 * edits (fresh versions, so they win everywhere); rows the backup lacks are
 * tombstoned (tombstones sync); every value this overwrites goes to the
 * conflict log, restorable. The sync bookkeeping (device id and name, clock,
 * watermark, outbox, conflict log) is the working database's own and is not
 * rolled back. Rows the device has not pulled yet are handled at the pull:
 * a row older than the restore that the backup lacked arrives deleted.
 */
import { join } from "node:path";
import { dirname } from "node:path";
import type { Client } from "@libsql/client";
import { closeDatabase, openWorkingDatabase } from "../db/database.ts";
import {
  DELETED_GROUP,
  ENTITIES,
  type EntityDef,
  FIELD_VERSIONS,
  type FieldGroup,
  groupsOf,
  type Row,
} from "../db/schema.ts";
import type { Store, Writer } from "../db/store.ts";
import { JdoError } from "../errors.ts";
import { parseFieldVersions } from "../db/field_versions.ts";
import { type ConflictRecord, recordConflict } from "./conflict_log.ts";
import { upsertLocal } from "./synced.ts";
import { writeSyncState } from "./state.ts";

/** _sync_state key: the version of the last restore (rows older than it that it lacked are gone). */
export const RESTORE_MARK = "restored_at_version";

export interface RestoreSummary {
  /** Rows of the backup written back (live or deleted, as in the backup). */
  restored: number;
  /** Live rows the backup lacks, now deleted. */
  deleted: number;
  /** Values overwritten, each in the conflict log. */
  overwritten: number;
}

export async function restoreMark(w: Pick<Writer, "one">): Promise<string | null> {
  const row = await w.one("SELECT value FROM _sync_state WHERE key = ?", [RESTORE_MARK]);
  return row?.value ? String(row.value) : null;
}

/** A live remote row unknown here and older than the restore: the backup lacked it. */
export function deletedByRestore(remote: Row, mark: string): boolean {
  return remote.deleted_at === null && String(remote.version) < mark;
}

function groupValue(row: Row, group: FieldGroup): Record<string, unknown> {
  return Object.fromEntries(group.columns.map((c) => [c, row[c] ?? null]));
}

function sameGroup(a: Row, b: Row, group: FieldGroup): boolean {
  return group.columns.every((c) => (a[c] ?? null) === (b[c] ?? null));
}

/**
 * Remote rows the last restore deleted (they are older than it and the
 * backup lacked them): stored, then tombstoned as a new local write, each
 * delete in the conflict log (restorable, which brings the row back).
 */
export async function deleteAbsentFromRestore(
  w: Writer,
  def: EntityDef,
  rows: Row[],
  conflicts: ConflictRecord[],
): Promise<void> {
  if (rows.length === 0) return;
  await upsertLocal(w, def.table, rows);
  const deletion = groupsOf(def).find((g) => g.name === DELETED_GROUP)!;
  for (const remote of rows) {
    const id = String(remote.id);
    try {
      await w.tombstone(def, id);
    } catch (error) {
      // A row something live here still needs (restrict) stays.
      if (error instanceof JdoError && error.code === "INVALID_INPUT") continue;
      throw error;
    }
    const local = (await w.one(`SELECT * FROM ${def.table} WHERE id = ?`, [id]))!;
    const remoteVersion = parseFieldVersions(
      remote[FIELD_VERSIONS],
      groupsOf(def),
      remote.version,
    )[DELETED_GROUP];
    const record: ConflictRecord = {
      entity: def.name,
      rowId: id,
      field: DELETED_GROUP,
      kind: "delete",
      winner: "local",
      localVersion: String(local.version),
      remoteVersion,
    };
    conflicts.push(record);
    await recordConflict(
      w,
      record,
      {
        group: deletion,
        kind: "delete",
        winner: "local",
        localVersion: record.localVersion,
        remoteVersion,
        kept: groupValue(local, deletion),
        lost: groupValue(remote, deletion),
      },
      local,
      remote,
    );
  }
}

/** A copy of the backup next to the database, migrated to this binary's schema. */
async function migratedCopy(backup: string, database: string, now: () => Date): Promise<string> {
  const copy = join(dirname(database), `.restore-${crypto.randomUUID().slice(0, 8)}.db`);
  await Deno.copyFile(backup, copy);
  let client: Client | undefined;
  try {
    client = await openWorkingDatabase(copy, now);
  } finally {
    if (client) await closeDatabase(client, copy);
  }
  return copy;
}

async function removeCopy(copy: string): Promise<void> {
  for (const suffix of ["", "-wal", "-shm", "-journal"]) {
    await Deno.remove(copy + suffix).catch(() => {});
  }
}

/**
 * Makes the working database hold exactly the backup's rows, as new edits
 * (see the module comment). One transaction: all of it or nothing.
 */
export async function restoreForSync(
  store: Store,
  backup: string,
  database: string,
  now: () => Date,
): Promise<RestoreSummary> {
  const copy = await migratedCopy(backup, database, now);
  try {
    return await store.write(
      (w) => restoreTables(w),
      { foreignKeys: false, attach: { path: copy, as: "restored" } },
    );
  } finally {
    await removeCopy(copy);
  }
}

async function restoreTables(w: Writer): Promise<RestoreSummary> {
  const summary: RestoreSummary = { restored: 0, deleted: 0, overwritten: 0 };
  const version = w.nextVersion();
  const now = w.nowIso();
  for (const def of ENTITIES) {
    const groups = groupsOf(def);
    const stamp = JSON.stringify(Object.fromEntries(groups.map((g) => [g.name, version])));
    const current = new Map(
      (await w.query(`SELECT * FROM main.${def.table}`)).map((r) => [String(r.id), r]),
    );
    const columns = (await w.query(`PRAGMA main.table_info(${def.table})`))
      .map((c) => String(c.name));
    const wanted = new Map<string, Row>();
    const fromBackup = new Set<string>();
    for (const r of await w.query(`SELECT * FROM restored.${def.table}`)) {
      const row: Row = {};
      for (const c of columns) row[c] = r[c] ?? null;
      wanted.set(String(r.id), row);
      fromBackup.add(String(r.id));
      summary.restored++;
    }
    for (const [id, row] of current) {
      if (wanted.has(id)) continue;
      wanted.set(id, { ...row, deleted_at: row.deleted_at ?? now });
      if (row.deleted_at === null) summary.deleted++;
    }
    const rows: Row[] = [];
    for (const [id, next] of wanted) {
      const before = current.get(id);
      const fresh: Row = {
        ...next,
        version,
        updated_at: now,
        [FIELD_VERSIONS]: stamp,
      };
      rows.push(fresh);
      const beforeVersions = before
        ? parseFieldVersions(before[FIELD_VERSIONS], groups, before.version)
        : null;
      // Queued as a local edit of every group on what this device had (the
      // base): a version elsewhere other than that is an edit it overwrites,
      // which the merge logs.
      const base = Object.fromEntries(groups.map((g) => [g.name, beforeVersions?.[g.name] ?? ""]));
      await w.enqueue(def.name, id, version, base);
      if (!before) continue;
      for (const g of groups) {
        if (sameGroup(before, fresh, g)) continue;
        if (g.name === DELETED_GROUP && before.deleted_at !== null && fresh.deleted_at !== null) {
          continue; // deleted either way
        }
        const kind = fromBackup.has(id) ? "field" : "delete";
        const record: ConflictRecord = {
          entity: def.name,
          rowId: id,
          field: g.name,
          kind,
          winner: "local",
          localVersion: version,
          remoteVersion: beforeVersions![g.name],
        };
        await recordConflict(
          w,
          record,
          {
            group: g,
            kind,
            winner: "local",
            localVersion: version,
            remoteVersion: record.remoteVersion,
            kept: groupValue(fresh, g),
            lost: groupValue(before, g),
          },
          fresh,
          before,
        );
        summary.overwritten++;
      }
    }
    for (let i = 0; i < rows.length; i += 500) {
      await upsertLocal(w, def.table, rows.slice(i, i + 500));
    }
  }
  await writeSyncState(w, { [RESTORE_MARK]: version });
  return summary;
}
