/**
 * Per-field versions: every synced row carries, in its `_fv` column, a JSON
 * object from merge group to the version of the write that last set that
 * group. Two copies of a row merge group by group — each group's columns come
 * from the copy whose version of that group is greater — so edits of
 * different fields on different devices all survive. The merge is a join
 * (commutative, associative, idempotent): any devices that have seen the same
 * writes hold the same row, whatever the order they saw them in.
 *
 * The same rule exists twice, in TypeScript (mergeRows, for the memory cloud
 * and the rows that may conflict) and in SQL (fieldMergeSql, for the set-based
 * merges on the cloud and from the replica); tests hold them to each other.
 */
import { parseVersion } from "./hlc.ts";
import { DELETED_GROUP, FIELD_VERSIONS, type FieldGroup, q, type Row } from "./schema.ts";

/** Group name → version of the write that last set it. */
export type FieldVersions = Record<string, string>;

/** The device that made a version. */
export function authorOf(version: string | null | undefined): string | undefined {
  return version ? parseVersion(version)?.deviceId : undefined;
}

/**
 * Reads a row's field versions. A row without them (never the case after
 * migration 2, kept for safety) has every group at the row's version.
 */
export function parseFieldVersions(
  value: unknown,
  groups: readonly FieldGroup[],
  rowVersion: unknown,
): FieldVersions {
  let parsed: FieldVersions = {};
  if (typeof value === "string" && value) {
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = {};
    }
  }
  const out: FieldVersions = {};
  for (const g of groups) out[g.name] = parsed[g.name] ?? String(rowVersion ?? "");
  return out;
}

/** The greatest version among the groups: the row's `version`. */
export function rowVersionOf(versions: FieldVersions): string {
  let max = "";
  for (const v of Object.values(versions)) if (v > max) max = v;
  return max;
}

export interface MergedRow {
  row: Row;
  /** Groups that took the other copy's value. */
  fromOther: string[];
  /** Groups where this copy kept a value the other did not have. */
  keptOwn: string[];
}

/**
 * Merges `other` into `own`, group by group. Columns outside every group
 * (id, created_at) stay as `own` has them; updated_at follows the greater
 * row version. Extra keys of `own` (a cloud's _seq) are kept.
 */
export function mergeRows(own: Row, other: Row, groups: readonly FieldGroup[]): MergedRow {
  const mine = parseFieldVersions(own[FIELD_VERSIONS], groups, own.version);
  const theirs = parseFieldVersions(other[FIELD_VERSIONS], groups, other.version);
  const row: Row = { ...own };
  const versions: FieldVersions = {};
  const fromOther: string[] = [];
  const keptOwn: string[] = [];
  for (const g of groups) {
    if (theirs[g.name] > mine[g.name]) {
      for (const c of g.columns) if (c in other) row[c] = other[c];
      versions[g.name] = theirs[g.name];
      fromOther.push(g.name);
    } else {
      versions[g.name] = mine[g.name];
      if (mine[g.name] > theirs[g.name]) keptOwn.push(g.name);
    }
  }
  row[FIELD_VERSIONS] = JSON.stringify(versions);
  const ownVersion = String(own.version);
  const otherVersion = String(other.version);
  // As the SQL merge does: the greater row version (equal to the greatest group's).
  row.version = otherVersion > ownVersion ? otherVersion : ownVersion;
  if (otherVersion > ownVersion) row.updated_at = other.updated_at ?? row.updated_at;
  return { row, fromOther, keptOwn };
}

/** Canonical JSON of field versions in group order (what the SQL merge writes too). */
export function fieldVersionsJson(versions: FieldVersions, groups: readonly FieldGroup[]): string {
  return JSON.stringify(Object.fromEntries(groups.map((g) => [g.name, versions[g.name] ?? ""])));
}

function groupVersion(alias: string, group: string): string {
  return `coalesce(json_extract(${alias}.${FIELD_VERSIONS}, '$.${group}'), ${alias}.version, '')`;
}

/**
 * The DO UPDATE part of an upsert that merges the incoming row (`excluded`)
 * into the stored one (`table`) group by group; with `changedOnly` the update
 * happens only when some incoming group is newer (so rowsAffected counts real
 * changes). SQLite evaluates every SET expression on the old row.
 */
export function fieldMergeSql(
  table: string,
  groups: readonly FieldGroup[],
  options: { extraSets?: string[]; where?: string } = {},
): string {
  const sets: string[] = [];
  for (const g of groups) {
    const newer = `${groupVersion("excluded", g.name)} > ${groupVersion(table, g.name)}`;
    for (const c of g.columns) {
      sets.push(`${q(c)} = CASE WHEN ${newer} THEN excluded.${q(c)} ELSE ${table}.${q(c)} END`);
    }
  }
  sets.push(
    `${FIELD_VERSIONS} = json_object(${
      groups.map((g) =>
        `'${g.name}', max(${groupVersion("excluded", g.name)}, ${groupVersion(table, g.name)})`
      ).join(", ")
    })`,
    `updated_at = CASE WHEN excluded.version > ${table}.version THEN excluded.updated_at ELSE ${table}.updated_at END`,
    `version = max(excluded.version, ${table}.version)`,
    ...(options.extraSets ?? []),
  );
  return `ON CONFLICT(id) DO UPDATE SET ${sets.join(",\n  ")}${
    options.where ? `\nWHERE ${options.where}` : ""
  }`;
}

/** SQL condition: some group of `a` is newer than the same group of `b`. */
export function someGroupNewer(a: string, b: string, groups: readonly FieldGroup[]): string {
  return `(${
    groups.map((g) => `${groupVersion(a, g.name)} > ${groupVersion(b, g.name)}`).join(" OR ")
  })`;
}

/** Whether a merged row still holds a group the deleted-or-not state hides. */
export function isDeleted(row: Row): boolean {
  return row[DELETED_GROUP] !== null && row[DELETED_GROUP] !== undefined;
}
