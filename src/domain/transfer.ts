import { ENTITIES, entity, type EntityDef, q, type Row } from "../db/schema.ts";
import type { Store, Writer } from "../db/store.ts";
import { LATEST_SCHEMA_VERSION } from "../db/migrations.ts";
import { JdoError } from "../errors.ts";
import {
  DEFAULT_DUE_TIME,
  findStakeholder,
  requireText,
  stakeholderByName,
  stakeholderKey,
} from "./actions.ts";
import {
  type DateContext,
  InvalidDateError,
  loadDateParser,
  parseDateTime,
  parseTime,
} from "./dates.ts";
import { toRecord } from "./records.ts";
import { type JsonEvent, JsonStreamError, scanJson } from "./json_stream.ts";
import {
  dropLocalIndexes,
  ensureLocalIndexes,
  optimizeAfterBulk,
  tablesEmpty,
  withRollbackJournal,
} from "../db/database.ts";

export const EXPORT_FORMAT = "jdo-export";

/** Rows a page: small, like `list`'s pages (see records.ts). */
const EXPORT_PAGE = 100;

/**
 * Every live row of every kind as one JSON document — the text of
 * JSON.stringify(doc, null, 2) — written a page of rows at a time as one
 * statement per kind steps (all in one snapshot), so memory stays flat
 * however many rows there are. `write` gets whole lines, without their
 * final newline. Rows are in id order. Returns how many rows of each kind
 * were written.
 */
export async function writeExport(
  store: Store,
  now: Date,
  write: (lines: string) => void | Promise<void>,
): Promise<Record<string, number>> {
  const header = {
    format: EXPORT_FORMAT,
    format_version: 1,
    schema_version: LATEST_SCHEMA_VERSION,
    exported_at: now.toISOString(),
  };
  const head = JSON.stringify(header, null, 2);
  await write(head.slice(0, head.lastIndexOf("\n}")) + ",");
  const counts: Record<string, number> = {};
  await store.reading(async (cursor) => {
    for (const [k, def] of ENTITIES.entries()) {
      const comma = k < ENTITIES.length - 1 ? "," : "";
      let pending: string | undefined; // the previous page, held back for its comma
      counts[def.plural] = await cursor.pages(
        `SELECT * FROM ${def.table} WHERE deleted_at IS NULL ORDER BY id`,
        [],
        async (rows) => {
          // One stringify per page, at the document's depth: its rows, 4 spaces in.
          const records = rows.map((r) => toRecord(def, r));
          const text = JSON.stringify({ [def.plural]: records }, null, 2);
          const body = text.slice(text.indexOf("[\n") + 2, text.lastIndexOf("\n  ]"));
          await write(pending === undefined ? `  ${JSON.stringify(def.plural)}: [` : pending + ",");
          pending = body;
        },
        EXPORT_PAGE,
      );
      await write(
        pending === undefined
          ? `  ${JSON.stringify(def.plural)}: []${comma}`
          : `${pending}\n  ]${comma}`,
      );
    }
  });
  await write("}");
  return counts;
}

export interface ImportResult {
  imported: number;
  /** Rows already present and live here. */
  skipped: number;
  /** Rows deleted here and left deleted (without `undelete`). */
  deleted: number;
  /** Rows deleted here and brought back (with `undelete`). */
  restored: number;
  byKind: Record<string, number>;
}

export interface ImportOptions {
  /** Bring back rows of the file that were deleted here. */
  undelete?: boolean;
  /** A large load: local indexes are dropped and built once at the end. */
  bulk?: boolean;
}

type Item = { def: EntityDef; fields: Row; where: string };

function fail(where: string, message: string): never {
  throw new JdoError("INVALID_INPUT", `Cannot import ${where}: ${message}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Converts an exported record back to column values, checking each field. */
function recordToRow(def: EntityDef, record: Record<string, unknown>, where: string): Row {
  const row: Row = {};
  const id = record.id;
  if (typeof id !== "string" || !UUID_RE.test(id)) fail(where, "id must be a lowercase UUID");
  row.id = id;
  if (typeof record.created_at === "string") row.created_at = record.created_at;
  for (const field of def.fields) {
    const value = record[field.name];
    if (value === undefined || value === null) {
      if (field.required) fail(where, `${field.name} is missing`);
      row[field.name] = null;
      continue;
    }
    switch (field.type) {
      case "json":
        if (!Array.isArray(value)) fail(where, `${field.name} must be a list`);
        row[field.name] = JSON.stringify(value);
        break;
      case "bool":
        if (value === true || value === 1) row[field.name] = 1;
        else if (value === false || value === 0) row[field.name] = 0;
        else fail(where, `${field.name} must be true or false`);
        break;
      case "int":
      case "real":
        if (typeof value !== "number") fail(where, `${field.name} must be a number`);
        row[field.name] = value;
        break;
      default:
        if (typeof value !== "string") fail(where, `${field.name} must be text`);
        if (field.required && value.trim() === "") fail(where, `${field.name} is empty`);
        row[field.name] = value;
    }
  }
  if (def.statuses && !def.statuses.includes(String(row.status))) {
    fail(where, `unknown status "${row.status}"`);
  }
  return row;
}

/** A stable UUID from content, so importing the same id-less list twice adds nothing. */
async function contentId(value: unknown): Promise<string> {
  const bytes = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(value))),
  );
  bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8 (custom)
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes.slice(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20, 32)
  }`;
}

interface SimpleCommitment {
  id: string;
  deliverable: string;
  stakeholder: string;
  due_date: string;
  due_time: string;
  notes: string | null;
  status: string;
  where: string;
}

async function simpleCommitment(
  value: unknown,
  where: string,
  dates: DateContext,
): Promise<SimpleCommitment> {
  if (!isObject(value)) fail(where, "each item must be an object");
  const text = (key: string) => {
    const v = value[key];
    if (v !== undefined && v !== null && typeof v !== "string") fail(where, `${key} must be text`);
    return v as string | undefined;
  };
  let deliverable: string, stakeholder: string;
  try {
    deliverable = requireText(text("deliverable"), "deliverable");
    stakeholder = requireText(text("stakeholder") ?? text("to"), "stakeholder");
  } catch (error) {
    fail(where, (error as Error).message);
  }
  const dueInput = text("due_date") ?? text("due");
  if (!dueInput) fail(where, "due_date is missing");
  let dueDate: string, dueTime: string;
  try {
    const due = parseDateTime(dueInput, dates);
    dueDate = due.date;
    // A time in the due phrase ("tomorrow 3pm") counts unless due_time is given.
    dueTime = parseTime(text("due_time") ?? due.time ?? DEFAULT_DUE_TIME);
  } catch (error) {
    fail(where, error instanceof InvalidDateError ? error.message : (error as Error).message);
  }
  const status = text("status") ?? "pending";
  if (!entity("commitment").statuses!.includes(status)) fail(where, `unknown status "${status}"`);
  const given = text("id");
  if (given !== undefined && !UUID_RE.test(given)) fail(where, "id must be a lowercase UUID");
  const id = given ?? await contentId([deliverable, stakeholder.toLowerCase(), dueDate]);
  return {
    id,
    deliverable,
    stakeholder,
    due_date: dueDate,
    due_time: dueTime,
    notes: text("notes") ?? null,
    status,
    where,
  };
}

/** Which of these ids exist here (one statement): id → whether that row is deleted. */
async function existingIds(
  w: Writer,
  def: EntityDef,
  ids: string[],
): Promise<Map<string, boolean>> {
  const rows = await w.query(
    `SELECT t.id, t.deleted_at FROM json_each(?) j CROSS JOIN ${def.table} t ON t.id = j.value`,
    [JSON.stringify(ids)],
  );
  return new Map(rows.map((r) => [String(r.id), r.deleted_at !== null]));
}

/** A restored row must not hang under a parent that stays deleted. */
async function assertLiveParents(w: Writer, def: EntityDef, id: string): Promise<void> {
  for (const link of def.parents) {
    const parent = entity(link.entity);
    const row = await w.one(
      `SELECT p.id FROM ${def.table} c JOIN ${parent.table} p ON p.id = c.${q(link.column)}
       WHERE c.id = ? AND p.deleted_at IS NOT NULL`,
      [id],
    );
    if (row) {
      fail(
        `${def.name} ${id.slice(0, 8)}`,
        `its ${parent.name} ${
          String(row.id).slice(0, 8)
        } is deleted here and not in the file (nothing was imported)`,
      );
    }
  }
}

// Rows parsed and checked per round: fewer, larger statements (each libSQL statement
// is freed only when the garbage collector runs).
const IMPORT_CHUNK = 2000;
/** Above this many rows, the planner's statistics are refreshed after the import. */
export const ANALYZE_AFTER_ROWS = 10_000;

function invalidJson(error: unknown): JdoError {
  return new JdoError(
    "INVALID_INPUT",
    `Cannot import: not valid JSON (${(error as Error).message})`,
  );
}

/**
 * Imports a document — an export, or a JSON array of commitments — read as
 * a stream of text chunks, in one transaction: rows whose id already exists
 * are skipped, so running the same import twice changes nothing; rows deleted
 * here stay deleted unless `undelete` is set, which brings them back with the
 * file's values; any error rolls everything back. Rows are parsed and inserted 2,000 at a time and the
 * ids seen so far live in a temporary table, so memory stays flat however
 * large the document is. `onProgress` gets the number of items handled.
 */
export async function importStream(
  store: Store,
  chunks: AsyncIterable<string>,
  dates: DateContext,
  onProgress: (done: number) => void = () => {},
  options: ImportOptions = {},
): Promise<ImportResult> {
  const result: ImportResult = { imported: 0, skipped: 0, deleted: 0, restored: 0, byKind: {} };
  let done = 0;
  const header: Record<string, unknown> = {};
  let topArray = false;
  // This libSQL build keeps temporary tables in memory by default: the ids seen
  // (a million rows at most) and index sorts go to a temporary file instead.
  await store.client.execute("PRAGMA temp_store = FILE");
  // A large load into an empty database (a new home) goes to the file once,
  // not to the WAL and again at the checkpoint (1M rows: 68 s instead of 88 s).
  const freshBulk = options.bulk === true &&
    await tablesEmpty(store.client, ENTITIES.map((d) => d.table));
  const load = () =>
    store.write(async (w) => {
      await w.tx.execute(
        "CREATE TEMP TABLE IF NOT EXISTS _import_seen (kind TEXT NOT NULL, id TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (kind, id)) WITHOUT ROWID",
      );
      await w.tx.execute("DELETE FROM temp._import_seen");
      // A large load: building the local indexes once at the end beats updating them per row.
      if (options.bulk) await dropLocalIndexes(w.tx);
      try {
        const importer = new ChunkImporter(w, result, options.undelete === true);
        const pending = new Map<EntityDef, Item[]>();
        let simple: SimpleCommitment[] = [];
        const flush = async (def: EntityDef) => {
          const items = pending.get(def) ?? [];
          if (items.length === 0) return;
          pending.set(def, []);
          await importer.items(def, items);
          done += items.length;
          onProgress(done);
        };
        const flushSimple = async () => {
          if (simple.length === 0) return;
          const list = simple;
          simple = [];
          await importer.simple(list);
          done += list.length;
          onProgress(done);
        };
        const plurals = new Map(ENTITIES.map((d) => [d.plural, d]));
        let events: AsyncIterator<JsonEvent>;
        try {
          events = scanJson(chunks)[Symbol.asyncIterator]();
        } catch (error) {
          throw invalidJson(error);
        }
        for (;;) {
          let next: IteratorResult<JsonEvent>;
          try {
            next = await events.next();
          } catch (error) {
            if (error instanceof JsonStreamError) throw invalidJson(error);
            throw error;
          }
          if (next.done) break;
          const e = next.value;
          if (e.kind === "item" && e.key === null) {
            if (!topArray) await loadDateParser();
            topArray = true;
            simple.push(await simpleCommitment(e.value, `item ${e.index + 1}`, dates));
            if (simple.length >= IMPORT_CHUNK) await flushSimple();
            continue;
          }
          if (e.kind === "field") {
            if (e.key === "" && e.value !== undefined) break; // a scalar document: rejected below
            header[e.key] = e.value;
            if (e.key === "format" && e.value !== EXPORT_FORMAT) break;
            if (e.key === "schema_version") checkSchemaVersion(e.value);
            const def = plurals.get(e.key);
            if (def && e.value !== null && e.value !== undefined) {
              fail(def.plural, "must be a list");
            }
            continue;
          }
          const def = plurals.get(e.key!);
          if (!def) continue; // unknown keys are ignored
          const where = `${def.plural}[${e.index}]`;
          if (!isObject(e.value)) fail(where, "must be an object");
          const list = pending.get(def) ?? [];
          list.push({ def, fields: recordToRow(def, e.value, where), where });
          pending.set(def, list);
          if (list.length >= IMPORT_CHUNK) await flush(def);
        }
        if (!topArray && header.format !== EXPORT_FORMAT) {
          throw new JdoError(
            "INVALID_INPUT",
            `Cannot import: expected a jdo export (format "${EXPORT_FORMAT}") or a JSON array of commitments`,
          );
        }
        for (const def of ENTITIES) await flush(def);
        await flushSimple();
        await importer.moveToSameNamed();
        await importer.checkRestored();
        if (options.bulk) await ensureLocalIndexes(w.tx);
        // Deferred foreign keys are checked at commit; check here for a clear message.
        const broken = await w.query("PRAGMA foreign_key_check");
        if (broken.length > 0) {
          const b = broken[0];
          throw new JdoError(
            "INVALID_INPUT",
            `Cannot import: a ${b.table} row refers to a missing ${b.parent} row (nothing was imported)`,
          );
        }
      } finally {
        await w.tx.execute("DELETE FROM temp._import_seen").catch(() => {});
      }
    });
  await (freshBulk ? withRollbackJournal(store.client, load) : load());
  if (result.imported >= ANALYZE_AFTER_ROWS) await optimizeAfterBulk(store.client);
  // Kinds in their usual order (rows arrive in the document's order).
  const byKind: Record<string, number> = {};
  for (const def of ENTITIES) {
    if (result.byKind[def.plural]) byKind[def.plural] = result.byKind[def.plural];
  }
  result.byKind = byKind;
  return result;
}

function checkSchemaVersion(version: unknown): void {
  if (typeof version === "number" && version > LATEST_SCHEMA_VERSION) {
    throw new JdoError("DB_TOO_NEW", "Cannot import: the export comes from a newer jdo");
  }
}

/**
 * Inserts parsed rows a chunk at a time, skipping ids already present;
 * rows deleted here are counted, or brought back with `undelete`.
 */
class ChunkImporter {
  #stakeholders = new Map<string, string>();
  /** A stakeholder of the file named like one here (another id) → that one's id. */
  #sameStakeholder = new Map<string, string>();
  /** Stakeholder name key → id, for names the file itself repeats. */
  #stakeholderKeys = new Map<string, string>();
  #restored: [EntityDef, string][] = [];

  constructor(
    private readonly w: Writer,
    private readonly result: ImportResult,
    private readonly undelete: boolean,
  ) {}

  /** Rows of the file deleted here: counted, or brought back with `undelete`. */
  async #deletedHere(def: EntityDef, rows: Row[]): Promise<void> {
    if (!this.undelete) {
      this.result.deleted += rows.length;
      return;
    }
    for (const row of rows) {
      await this.w.restore(def, String(row.id), row);
      this.#restored.push([def, String(row.id)]);
    }
    this.result.restored += rows.length;
  }

  /**
   * After the whole file: its commitments of a stakeholder that was not added
   * (another of that name is here) move to the one here. Done once at the end,
   * as one indexed UPDATE per such stakeholder, because a large file's
   * commitments are inserted a chunk at a time, possibly before its
   * stakeholders were read (foreign keys are checked at commit). Only this
   * import's rows can point at those ids: they exist nowhere here.
   */
  async moveToSameNamed(): Promise<void> {
    for (const [from, to] of this.#sameStakeholder) {
      await this.w.tx.execute({
        sql: "UPDATE commitments SET stakeholder_id = ? WHERE stakeholder_id = ?",
        args: [to, from],
      });
    }
  }

  /** After the whole file: no restored row hangs under a parent that stays deleted. */
  async checkRestored(): Promise<void> {
    for (const [def, id] of this.#restored) await assertLiveParents(this.w, def, id);
  }

  /**
   * Stakeholder names are unique regardless of case: a stakeholder of the
   * file that would be added (or brought back) while a live one here, or an
   * earlier one of the file, has its name is not added; its id maps to that
   * one. Returns the items still to import.
   */
  async #mapSameNamed(items: Item[], present: Map<string, boolean>): Promise<Item[]> {
    const kept: Item[] = [];
    for (const item of items) {
      const id = String(item.fields.id);
      const state = present.get(id);
      const added = state === undefined || (state === true && this.undelete);
      const key = stakeholderKey(String(item.fields.name));
      if (!added) {
        if (state === false) this.#stakeholderKeys.set(key, id);
        kept.push(item);
        continue;
      }
      const existing = this.#stakeholderKeys.get(key) ??
        (await findStakeholder(this.w, String(item.fields.name)))?.id;
      if (existing !== undefined && existing !== id) {
        this.#sameStakeholder.set(id, String(existing));
        this.result.skipped += 1;
        continue;
      }
      this.#stakeholderKeys.set(key, id);
      kept.push(item);
    }
    return kept;
  }

  /** Records each id as seen; fails on an id seen earlier in this document. */
  async #see(kind: string, entries: { id: string; where: string }[]): Promise<void> {
    const mine = new Map<string, string>();
    for (const { id, where } of entries) {
      const first = mine.get(id);
      if (first) fail(where, `id ${id} appears twice (also at ${first})`);
      mine.set(id, where);
    }
    const json = JSON.stringify(entries.map((e) => [e.id, e.where]));
    // CROSS JOIN: the chunk drives, each id a primary-key lookup (not a scan per id).
    const earlier = await this.w.query(
      `SELECT s.id, s.at, j.value ->> 1 AS here FROM json_each(?) j
       CROSS JOIN temp._import_seen s ON s.kind = ? AND s.id = j.value ->> 0 LIMIT 1`,
      [json, kind],
    );
    if (earlier.length > 0) {
      const e = earlier[0];
      fail(String(e.here), `id ${e.id} appears twice (also at ${e.at})`);
    }
    await this.w.tx.execute({
      sql: `INSERT INTO temp._import_seen (kind, id, at)
            SELECT ?, value ->> 0, value ->> 1 FROM json_each(?) WHERE true`,
      args: [kind, json],
    });
  }

  async #insert(def: EntityDef, rows: Row[], skipped: number): Promise<void> {
    try {
      if (rows.length > 0) await this.w.insertMany(def, rows);
    } catch (error) {
      throw new JdoError(
        "INVALID_INPUT",
        `Cannot import ${def.plural}: ${
          (error as Error).message.split("\n")[0]
        } (nothing was imported)`,
      );
    }
    this.result.imported += rows.length;
    this.result.skipped += skipped;
    if (rows.length) {
      this.result.byKind[def.plural] = (this.result.byKind[def.plural] ?? 0) + rows.length;
    }
  }

  async items(def: EntityDef, list: Item[]): Promise<void> {
    await this.#see(def.name, list.map((i) => ({ id: String(i.fields.id), where: i.where })));
    const present = await existingIds(this.w, def, list.map((i) => String(i.fields.id)));
    const items = def.name === "stakeholder" ? await this.#mapSameNamed(list, present) : list;
    const fresh = items.filter((i) => !present.has(String(i.fields.id)));
    const deleted = items.filter((i) => present.get(String(i.fields.id)) === true);
    await this.#deletedHere(def, deleted.map((i) => i.fields));
    await this.#insert(
      def,
      fresh.map((i) => i.fields),
      items.length - fresh.length - deleted.length,
    );
  }

  async simple(list: SimpleCommitment[]): Promise<void> {
    const commitments = entity("commitment");
    // The same item twice in one list is imported once.
    const seen = await this.w.query(
      `SELECT j.value AS id FROM json_each(?) j
       CROSS JOIN temp._import_seen s ON s.kind = 'simple' AND s.id = j.value`,
      [JSON.stringify(list.map((s) => s.id))],
    );
    const present = await existingIds(this.w, commitments, list.map((s) => s.id));
    const skip = new Set(seen.map((r) => String(r.id)));
    const rows: Row[] = [];
    const deleted: Row[] = [];
    const fresh: { id: string; where: string }[] = [];
    let live = 0;
    for (const s of list) {
      if (skip.has(s.id)) continue;
      skip.add(s.id);
      fresh.push({ id: s.id, where: s.where });
      if (present.get(s.id) === false) {
        live++;
        continue;
      }
      let stakeholderId = this.#stakeholders.get(s.stakeholder);
      if (!stakeholderId) {
        stakeholderId = String((await stakeholderByName(this.w, s.stakeholder)).id);
        this.#stakeholders.set(s.stakeholder, stakeholderId);
      }
      (present.has(s.id) ? deleted : rows).push({
        id: s.id,
        deliverable: s.deliverable,
        stakeholder_id: stakeholderId,
        due_date: s.due_date,
        due_time: s.due_time,
        notes: s.notes,
        status: s.status,
        // An imported completion without details counts as on time.
        completed_on_time: s.status === "completed" ? 1 : null,
      });
    }
    if (fresh.length > 0) await this.#see("simple", fresh);
    await this.#deletedHere(commitments, deleted);
    // Skipped: live here already, or the same item twice in one list.
    await this.#insert(commitments, rows, live + list.length - fresh.length);
  }
}
