/**
 * The conflict log as users see it: every value a merge lost (one record per
 * field, or per whole row for records made before per-field merging), open
 * until restored. Restoring re-applies the lost value as a new local edit —
 * a fresh version, so it wins everywhere on the next sync — and marks the
 * record resolved; a value that lost to a delete brings the row back.
 */
import { CONFLICT_GROUPS, entity, FIELD_VERSIONS, isEntityName, type Row } from "../db/schema.ts";
import { CONFLICT_ENTITY, type Store } from "../db/store.ts";
import { JdoError } from "../errors.ts";

export interface ConflictView {
  /** The entity kind of the row (commitment, task, …). */
  entity: string;
  /** The row's id. */
  id: string;
  conflict_id: string;
  /** The field (or field group, e.g. status) whose value was lost; null: the whole row. */
  field: string | null;
  kind: "field" | "delete" | "row";
  winner: string;
  kept: Record<string, unknown> | null;
  lost: Record<string, unknown> | null;
  kept_version: string | null;
  lost_version: string | null;
  kept_device: string | null;
  lost_device: string | null;
  local: Record<string, unknown>;
  remote: Record<string, unknown>;
  local_version: string;
  remote_version: string;
  detected_by: string;
  detected_at: string;
  /** When it was restored (or otherwise resolved); null while open. */
  resolved_at: string | null;
}

function parse(value: unknown): Record<string, unknown> | null {
  if (value === null || value === undefined) return null;
  try {
    return JSON.parse(String(value));
  } catch {
    return null;
  }
}

/** Columns of `kind` that hold JSON text: per-field versions and json fields. */
function jsonColumns(kind: string): Set<string> {
  const columns = new Set([FIELD_VERSIONS]);
  if (isEntityName(kind)) {
    for (const f of entity(kind).fields) if (f.type === "json") columns.add(f.name);
  }
  return columns;
}

/** A stored snapshot as an object whose JSON columns are objects too (no JSON in strings). */
function snapshot(value: unknown, kind: string): Record<string, unknown> | null {
  const parsed = parse(value);
  if (!parsed) return parsed;
  for (const column of jsonColumns(kind)) {
    const text = parsed[column];
    if (typeof text !== "string") continue;
    try {
      parsed[column] = JSON.parse(text);
    } catch {
      // Not JSON after all: keep the text.
    }
  }
  return parsed;
}

function toView(r: Row): ConflictView {
  const kind = String(r.entity);
  return {
    entity: String(r.entity),
    id: String(r.row_id),
    conflict_id: String(r.id),
    field: r.field === null ? null : String(r.field),
    kind: String(r.kind) as ConflictView["kind"],
    winner: String(r.winner),
    kept: snapshot(r.kept_value, kind),
    lost: snapshot(r.lost_value, kind),
    kept_version: r.kept_version === null ? null : String(r.kept_version),
    lost_version: r.lost_version === null ? null : String(r.lost_version),
    kept_device: r.kept_device === null ? null : String(r.kept_device),
    lost_device: r.lost_device === null ? null : String(r.lost_device),
    local: snapshot(r.local_row, kind) ?? {},
    remote: snapshot(r.remote_row, kind) ?? {},
    local_version: String(r.local_version),
    remote_version: String(r.remote_version),
    detected_by: String(r.detected_by),
    detected_at: String(r.created_at),
    resolved_at: r.resolved_at === null ? null : String(r.resolved_at),
  };
}

/** Open conflicts, newest first (all of them with `all`); `limit` 0 means no limit. */
export async function listConflicts(
  store: Store,
  options: { limit: number; all?: boolean },
): Promise<ConflictView[]> {
  const rows = await store.query(
    `SELECT * FROM _sync_conflicts WHERE deleted_at IS NULL ${
      options.all ? "" : "AND resolved_at IS NULL"
    } ORDER BY created_at DESC, id LIMIT ?`,
    [options.limit > 0 ? options.limit : -1],
  );
  return rows.map(toView);
}

async function findConflict(store: Store, input: string): Promise<Row> {
  const prefix = input.trim().toLowerCase();
  if (prefix.length < 4 || !/^[0-9a-f-]+$/.test(prefix)) {
    throw new JdoError(
      "USAGE",
      `A conflict ID needs at least 4 hexadecimal characters: "${input}"`,
    );
  }
  const rows = await store.query(
    "SELECT * FROM _sync_conflicts WHERE id >= ? AND id < ? AND deleted_at IS NULL LIMIT 10",
    [prefix, prefix + "~"],
  );
  if (rows.length === 0) {
    throw new JdoError("NOT_FOUND", `No conflict has an ID starting with "${input}"`, {
      hint: "List them with: jdo sync conflicts --all",
    });
  }
  if (rows.length > 1) {
    throw new JdoError(
      "AMBIGUOUS_ID",
      `The conflict ID "${input}" matches ${rows.length} conflicts: ${
        rows.map((r) => String(r.id)).join("; ")
      }. Use more characters.`,
    );
  }
  return rows[0];
}

/** The columns a restore writes back: the lost field group, or every field of a lost row. */
function lostPatch(record: Row, fields: readonly string[]): Row {
  if (record.kind !== "row") {
    const lost = parse(record.lost_value) ?? {};
    return Object.fromEntries(Object.entries(lost)) as Row;
  }
  const loser = parse(record.winner === "local" ? record.remote_row : record.local_row) ?? {};
  const patch: Row = {};
  for (const f of fields) if (f in loser) patch[f] = loser[f] as Row[string];
  patch.deleted_at = (loser.deleted_at ?? null) as Row[string];
  return patch;
}

export interface RestoreResult {
  conflict: ConflictView;
  row: Row;
  undeleted: boolean;
}

/**
 * Re-applies a conflict's lost value as a new edit and marks the conflict
 * resolved, in one transaction. A value that lost to a delete (or a lost
 * undelete) brings the row back; a lost delete deletes it again.
 */
export async function restoreConflict(store: Store, input: string): Promise<RestoreResult> {
  const record = await findConflict(store, input);
  if (record.resolved_at !== null) {
    throw new JdoError(
      "INVALID_INPUT",
      `Conflict ${String(record.id).slice(0, 8)} was already resolved at ${record.resolved_at}`,
    );
  }
  const name = String(record.entity);
  if (!isEntityName(name)) {
    throw new JdoError("INVALID_INPUT", `Conflict ${record.id} is about an unknown kind: ${name}`);
  }
  const def = entity(name);
  const id = String(record.row_id);
  return await store.write(async (w) => {
    const current = await w.one(`SELECT * FROM ${def.table} WHERE id = ?`, [id]);
    if (!current) throw new JdoError("NOT_FOUND", `The ${def.name} ${id} no longer exists`);
    const patch = lostPatch(record, def.fields.map((f) => f.name));
    const wantDeleted = "deleted_at" in patch && patch.deleted_at !== null;
    delete patch.deleted_at;
    let row: Row;
    let undeleted = false;
    if (wantDeleted) {
      if (current.deleted_at === null) await w.tombstone(def, id);
      row = (await w.one(`SELECT * FROM ${def.table} WHERE id = ?`, [id]))!;
    } else if (current.deleted_at !== null) {
      row = await w.undelete(def, id, patch);
      undeleted = true;
    } else {
      row = await w.update(def, id, patch);
    }
    const version = w.nextVersion();
    const now = w.nowIso();
    await w.tx.execute({
      sql: `UPDATE _sync_conflicts SET resolved_at = ?, updated_at = ?, version = ?,
              ${FIELD_VERSIONS} = json_set(coalesce(${FIELD_VERSIONS}, ?), '$.resolved_at', ?)
            WHERE id = ?`,
      args: [
        now,
        now,
        version,
        JSON.stringify(Object.fromEntries(CONFLICT_GROUPS.map((g) => [g.name, record.version]))),
        version,
        record.id,
      ],
    });
    await w.enqueue(CONFLICT_ENTITY, String(record.id), version);
    const updated = await w.one("SELECT * FROM _sync_conflicts WHERE id = ?", [record.id]);
    return { conflict: toView(updated!), row, undeleted };
  });
}
