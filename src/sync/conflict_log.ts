/**
 * The conflict log: every value a merge (or a restore) overwrites is kept as
 * a row of _sync_conflicts, which syncs like any row, so a lost value is
 * never lost and `jdo sync conflicts restore` can bring it back.
 */
import { CONFLICT_GROUPS, FIELD_VERSIONS, type FieldGroup, type Row } from "../db/schema.ts";
import { CONFLICT_ENTITY, type Writer } from "../db/store.ts";
import { authorOf } from "../db/field_versions.ts";
import { upsertLocal } from "./synced.ts";

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

export interface LostValue {
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
 * A pull cut off before it recorded its watermark merges the same pages
 * again: a lost value already logged (same row, field and two versions) is
 * not logged twice.
 */
export async function conflictKnown(w: Writer, c: ConflictRecord): Promise<boolean> {
  const hit = await w.one(
    `SELECT 1 AS hit FROM _sync_conflicts
     WHERE entity = ? AND row_id = ? AND field IS ? AND local_version = ? AND remote_version = ?
     LIMIT 1`,
    [c.entity, c.rowId, c.field, c.localVersion, c.remoteVersion],
  );
  return hit !== undefined;
}

export async function recordConflict(
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
