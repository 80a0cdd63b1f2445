/**
 * Stakeholder names are unique regardless of case, but two devices offline
 * can each create "Zelda"; after a pull both rows are live. This merges them:
 * the oldest row (smallest created_at, then smallest id) survives on every
 * device alike, keeps notes or contact details only a duplicate had, every
 * live commitment (and recurring commitment) of the others moves to it, and the others are tombstoned. Each fix is an ordinary versioned write, so the
 * devices converge on the same single Zelda.
 *
 * A unique index is not possible: sync creates such pairs transiently.
 */
import { ENTITIES, entity, q, type Row } from "../db/schema.ts";
import type { Writer } from "../db/store.ts";
import { stakeholderKey } from "../domain/actions.ts";

/** The survivor first: oldest created_at, then smallest id (the same on every device). */
function survivorOrder(a: Row, b: Row): number {
  const ca = String(a.created_at);
  const cb = String(b.created_at);
  if (ca !== cb) return ca < cb ? -1 : 1;
  const ia = String(a.id);
  const ib = String(b.id);
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}

/**
 * Merges live stakeholders whose names collide case-insensitively, inside the
 * caller's write transaction. Returns how many duplicates were tombstoned.
 */
export async function mergeDuplicateStakeholders(w: Writer): Promise<number> {
  const live = await w.query(
    "SELECT id, name, created_at, notes, contact_info FROM stakeholders WHERE deleted_at IS NULL",
  );
  const groups = new Map<string, Row[]>();
  for (const row of live) {
    const key = stakeholderKey(String(row.name));
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  const stakeholders = entity("stakeholder");
  const referrers = ENTITIES.flatMap((def) =>
    def.parents.filter((p) => p.entity === "stakeholder").map((p) => ({ def, column: p.column }))
  );
  let merged = 0;
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const [survivor, ...others] = group.sort(survivorOrder);
    // What only a duplicate knew (notes, contact) is kept: the first one given fills a gap.
    const fill: Row = {};
    for (const column of ["notes", "contact_info"]) {
      if (survivor[column] !== null) continue;
      const given = others.find((o) => o[column] !== null);
      if (given) fill[column] = given[column];
    }
    if (Object.keys(fill).length > 0) await w.update(stakeholders, String(survivor.id), fill);
    for (const other of others) {
      // Move references first (commitments, recurring commitments): the link is "restrict".
      for (const { def, column } of referrers) {
        const refs = await w.query(
          `SELECT id FROM ${def.table} WHERE ${q(column)} = ? AND deleted_at IS NULL`,
          [other.id],
        );
        for (const ref of refs) {
          await w.update(def, String(ref.id), { [column]: survivor.id });
        }
      }
      merged += await w.tombstone(stakeholders, String(other.id)) > 0 ? 1 : 0;
    }
  }
  return merged;
}
