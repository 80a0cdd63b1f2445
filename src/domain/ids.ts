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
  // Most text has no white space but single spaces: nothing to replace.
  const oneLine = SPACES_TO_JOIN.test(text) ? text.replace(/\s+/g, " ") : text;
  return oneLine.length <= max ? oneLine : oneLine.slice(0, max - 1) + "…";
}

/** White space that truncate() turns into one space: a run, or any but a plain space. */
export const SPACES_TO_JOIN = /\s\s|[^\S ]/;

/** Up to this many ids, short ids come from neighbour queries; beyond, from a ShortIdIndex. */
export const NEIGHBOUR_LIMIT = 200;

/**
 * The shortest unique prefix (at least six characters) of each given id,
 * unique among every live id of every kind. Looks only at each id's two
 * neighbours in primary-key order (indexed queries), so the cost follows
 * the number of ids asked for, not the number stored.
 */
export async function shortIds(
  store: Store,
  ids: string[],
): Promise<Map<string, string>> {
  if (ids.length > NEIGHBOUR_LIMIT) {
    const lookup = await (await ShortIdIndex.load(store)).shortsOf(ids);
    return new Map(ids.map((id) => [id, lookup.get(id)!]));
  }
  const result = new Map<string, string>();
  const asking: string[] = [];
  for (const id of ids) {
    // A few ids (`capture`, `commit`, a transition, `show`): a statement half
    // the size of the neighbours' answers the common case (~0.25 ms less).
    const own = ids.length <= FEW_IDS ? await ownPrefix(store, id) : undefined;
    if (own === undefined) asking.push(id);
    else result.set(id, own);
  }
  for (let i = 0; i < asking.length; i += 100) {
    const chunk = asking.slice(i, i + 100);
    for (const [id, neighbours] of await neighboursOf(store, chunk)) {
      result.set(id, shortFrom(id, neighbours));
    }
  }
  return result;
}

/** Up to this many ids, shortIds first asks whether each one's first six characters are its own. */
const FEW_IDS = 4;

/**
 * The id's first six characters when no other live id of any kind starts
 * with them, else undefined (its neighbours decide). Only for printable
 * ASCII: then the ids starting with a prefix are exactly those from the
 * prefix up to the prefix with its last character raised by one, in SQLite's
 * byte order, and each table's primary key finds them with one seek. An id
 * is not its own neighbour in any table, as in neighboursOf.
 */
async function ownPrefix(store: Store, id: string): Promise<string | undefined> {
  if (id.length < SHORT_ID_LENGTH || !PRINTABLE_ASCII.test(id)) return undefined;
  const prefix = id.slice(0, SHORT_ID_LENGTH);
  const next = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  ownPrefixSql ??= `SELECT ${
    ENTITIES.map((d) =>
      `EXISTS (SELECT 1 FROM ${d.table} WHERE id >= ?1 AND id < ?2 AND id <> ?3 AND deleted_at IS NULL)`
    ).join(" OR ")
  } AS shared`;
  const row = await store.one(ownPrefixSql, [prefix, next, id]);
  return Number(row?.shared) === 0 ? prefix : undefined;
}

/** ownPrefix's statement, written once (a few ids ask it in turn). */
let ownPrefixSql: string | undefined;

function shortFrom(id: string, neighbours: string[]): string {
  let shared = 0;
  for (const n of neighbours) shared = Math.max(shared, commonPrefix(id, n));
  return id.slice(0, Math.max(SHORT_ID_LENGTH, shared + 1));
}

/** The live ids just before and just after each id, in every table (one statement). */
async function neighboursOf(store: Store, ids: string[]): Promise<Map<string, string[]>> {
  const columns = ENTITIES.flatMap((d, i) => [
    `(SELECT id FROM ${d.table} WHERE id < j.value AND deleted_at IS NULL ORDER BY id DESC LIMIT 1) AS b${i}`,
    `(SELECT id FROM ${d.table} WHERE id > j.value AND deleted_at IS NULL ORDER BY id LIMIT 1) AS a${i}`,
  ]);
  const rows = await store.query(
    `SELECT j.value AS id, ${columns.join(", ")} FROM json_each(?) j`,
    [JSON.stringify(ids)],
  );
  const out = new Map<string, string[]>();
  for (const row of rows) {
    const neighbours = Object.entries(row)
      .filter(([k, v]) => k !== "id" && v !== null)
      .map(([, v]) => String(v));
    out.set(String(row.id), neighbours);
  }
  return out;
}

/**
 * Short ids of many rows at once (`jdo list` of a large table). One statement
 * finds the six-character prefixes that more than one live id shares (a
 * GROUP BY over every live id of every kind, done by SQLite: with random ids
 * there are almost never any, so almost nothing crosses into JavaScript). An
 * id whose first six characters are its own is shortened to them, exactly
 * what its neighbours would say; the few others ask their neighbours
 * (neighbour queries, as shortIds).
 */
export class ShortIdIndex {
  private constructor(private readonly store: Store, private readonly crowded: Set<string>) {}

  static async load(store: Store): Promise<ShortIdIndex> {
    const live = ENTITIES.map((d) => `SELECT id FROM ${d.table} WHERE deleted_at IS NULL`);
    const rows = await store.query(
      `SELECT substr(id, 1, ${SHORT_ID_LENGTH}) AS prefix FROM (${
        live.join(" UNION ALL ")
      }) GROUP BY prefix HAVING count(*) > 1`,
    );
    return new ShortIdIndex(store, new Set(rows.map((row) => String(row.prefix))));
  }

  /**
   * The short ids of `ids`: the few that need their neighbours are asked
   * for now, the others are cut when looked up (a 1,000-row list builds no
   * map of them).
   */
  async shortsOf(ids: string[]): Promise<ShortIdLookup> {
    // Almost always no prefix is shared and every id is printable ASCII: then
    // each id's short id is its first six characters, found with one test
    // for all of them instead of one per id.
    if (this.crowded.size === 0 && PRINTABLE_ASCII.test(ids.join(""))) {
      return { get: (id) => id.slice(0, SHORT_ID_LENGTH) };
    }
    const crowded = ids.filter((id) => this.#own(id) === undefined);
    const asked = new Map<string, string>();
    for (let i = 0; i < crowded.length; i += 100) {
      for (const [id, neighbours] of await neighboursOf(this.store, crowded.slice(i, i + 100))) {
        asked.set(id, shortFrom(id, neighbours));
      }
    }
    return { get: (id) => this.#own(id) ?? asked.get(id) };
  }

  /** The id's first six characters when no other live id starts with them. */
  #own(id: string): string | undefined {
    const prefix = id.slice(0, SHORT_ID_LENGTH);
    // SQLite's substr counts characters, slice UTF-16 units: the same for
    // printable ASCII (every id jdo makes); anything else asks its neighbours.
    if (this.crowded.size > 0 && this.crowded.has(prefix)) return undefined;
    return PRINTABLE_ASCII.test(prefix) ? prefix : undefined;
  }
}

/** Short ids by full id: a Map of them, or a ShortIdIndex's answer for the ids it was asked. */
export interface ShortIdLookup {
  get(id: string): string | undefined;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

function commonPrefix(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}
