/**
 * What a merge leaves to repair: a live row under a parent deleted
 * elsewhere (orphans), and rows where the cloud holds older values than ours
 * with nothing queued (the cloud is behind: queue ours).
 */
import { ENTITIES, FIELD_VERSIONS, q, type Row } from "../db/schema.ts";
import type { Store, Writer } from "../db/store.ts";
import { someGroupNewer } from "../db/field_versions.ts";
import type { SyncedTable } from "./synced.ts";

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
export async function repairOrphansIn(w: Writer, changed?: Map<string, string[]>): Promise<number> {
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

/** Up to this many changed rows, orphans are looked for among them only. */
export const REPAIR_TARGETED_MAX = 5_000;

/** Rows where the cloud holds older values than ours and nothing is queued: queue ours. */
export async function queueWhereCloudIsBehind(
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
