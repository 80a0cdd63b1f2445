import { deletedError, type Store } from "../db/store.ts";
import { ENTITIES, type EntityDef, type Row } from "../db/schema.ts";
import { JdoError } from "../errors.ts";

export const MIN_PREFIX = 4;
export const SHORT_ID_LENGTH = 6;

export interface Resolved {
  def: EntityDef;
  row: Row;
}

function normalisePrefix(input: string): string {
  const prefix = input.trim().toLowerCase();
  if (prefix.length < MIN_PREFIX) {
    throw new JdoError(
      "USAGE",
      `An ID needs at least ${MIN_PREFIX} characters: "${input}"`,
    );
  }
  if (!/^[0-9a-f-]+$/.test(prefix)) {
    throw new JdoError("NOT_FOUND", `No item has the ID "${input}" (IDs are hexadecimal)`);
  }
  return prefix;
}

/**
 * Finds the one live row whose id starts with `input` among the given kinds.
 * Uses a range scan on the primary key, so cost does not grow with the table.
 */
export async function resolveId(
  store: Store,
  input: string,
  kinds: readonly EntityDef[] = ENTITIES,
): Promise<Resolved> {
  const prefix = normalisePrefix(input);
  const matches: Resolved[] = [];
  for (const def of kinds) {
    const rows = await store.query(
      `SELECT * FROM ${def.table} WHERE id >= ? AND id < ? AND deleted_at IS NULL LIMIT 10`,
      [prefix, prefix + "~"],
    );
    for (const row of rows) matches.push({ def, row });
  }
  const what = kinds.length === 1 ? kinds[0].name : "item";
  if (matches.length === 0) {
    // A tombstone: say it was deleted (and where) rather than "no such item",
    // so an edit after another device's delete is not a mystery.
    for (const def of kinds) {
      const gone = await store.query(
        `SELECT * FROM ${def.table} WHERE id >= ? AND id < ? AND deleted_at IS NOT NULL LIMIT 2`,
        [prefix, prefix + "~"],
      );
      if (gone.length === 1) throw deletedError(def, gone[0], await store.deviceId());
    }
    throw new JdoError("NOT_FOUND", `No ${what} has an ID starting with "${input}"`);
  }
  if (matches.length > 1) {
    const list = matches.slice(0, 10).map(({ def, row }) =>
      `${row.id} (${def.name} "${truncate(String(row[def.label] ?? ""), 40)}")`
    );
    throw new JdoError(
      "AMBIGUOUS_ID",
      `The ID "${input}" matches ${matches.length} items: ${list.join("; ")}. Use more characters.`,
    );
  }
  return matches[0];
}

export function truncate(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, " ");
  return oneLine.length <= max ? oneLine : oneLine.slice(0, max - 1) + "…";
}

/**
 * The shortest unique prefix (at least six characters) of each given id,
 * unique among every live id of every kind.
 */
export async function shortIds(
  store: Store,
  ids: string[],
): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  if (ids.length === 0) return result;
  const union = ENTITIES.map((d) => `SELECT id FROM ${d.table} WHERE deleted_at IS NULL`)
    .join(" UNION ALL ");
  const all = (await store.query(`SELECT id FROM (${union}) ORDER BY id`)).map((r) => String(r.id));
  const position = new Map(all.map((id, i) => [id, i]));
  for (const id of ids) {
    const i = position.get(id);
    let shared = 0;
    if (i !== undefined) {
      if (i > 0) shared = Math.max(shared, commonPrefix(id, all[i - 1]));
      if (i < all.length - 1) shared = Math.max(shared, commonPrefix(id, all[i + 1]));
    }
    result.set(id, id.slice(0, Math.max(SHORT_ID_LENGTH, shared + 1)));
  }
  return result;
}

function commonPrefix(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}
