/**
 * Merge: a page of the cloud's rows meets the working database. Per field
 * group, the greater version wins (src/db/field_versions.ts); a group edited
 * here and changed elsewhere since is a conflict, and the losing value goes
 * to the conflict log. The outbox learns what the cloud now has.
 */
import { DELETED_GROUP, FIELD_VERSIONS, type FieldGroup, type Row } from "../db/schema.ts";
import { CONFLICT_ENTITY, type Writer } from "../db/store.ts";
import { authorOf, mergeRows, parseFieldVersions } from "../db/field_versions.ts";
import { isGeneratedVersion } from "../db/hlc.ts";
import type { SkewSeen } from "./clock_skew.ts";
import {
  conflictKnown,
  type ConflictRecord,
  type LostValue,
  recordConflict,
} from "./conflict_log.ts";
import { dropOutbox } from "./outbox.ts";
import { deleteAbsentFromRestore, deletedByRestore, restoreMark } from "./restore.ts";
import { lookup, type SyncedTable, upsertLocal, withoutCloudColumns } from "./synced.ts";

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

/**
 * The values a merge loses, for a row with queued local edits. `base` holds,
 * per group edited here, the version it had before; a remote version of that
 * group other than the base is a concurrent edit of the same field, and the
 * greater version wins. A delete beats edits made concurrently with it, in
 * both directions: our queued edits of a row deleted elsewhere, and edits
 * from elsewhere of a row deleted here.
 */
export function lostValues(
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
    // A generated value (a recurring instance as made) is nobody's edit: nothing lost.
    if (isGeneratedVersion(remoteWins ? mineV[g.name] : remoteV[g.name])) continue;
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
      if (isGeneratedVersion(mineV[g.name])) continue;
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
      if (isGeneratedVersion(remoteV[g.name])) continue;
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
export async function mergePage(
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
  const mark = t.def ? await restoreMark(w) : null;
  for (const raw of remoteRows) {
    const remote = withoutCloudColumns(raw);
    const id = String(remote.id);
    const remoteVersion = String(remote.version);
    w.observe(remoteVersion);
    skew.see(remoteVersion);
    const mine = local.get(id);
    const pending = outbox.get(id);
    if (!mine) {
      if (mark && deletedByRestore(remote, mark)) {
        await deleteAbsentFromRestore(w, t.def!, [remote], conflicts);
        changedIds.push(id);
      } else {
        winners.push(remote);
      }
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
