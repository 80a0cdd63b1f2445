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
import { type JsonRecord, toRecord } from "./records.ts";

export const EXPORT_FORMAT = "jdo-export";

/** Every live row of every kind, as one JSON document. */
export async function exportAll(store: Store, now: Date): Promise<JsonRecord> {
  const doc: JsonRecord = {
    format: EXPORT_FORMAT,
    format_version: 1,
    schema_version: LATEST_SCHEMA_VERSION,
    exported_at: now.toISOString(),
  };
  for (const def of ENTITIES) {
    const rows = await store.query(
      `SELECT * FROM ${def.table} WHERE deleted_at IS NULL ORDER BY created_at, id`,
    );
    doc[def.plural] = rows.map((r) => toRecord(def, r));
  }
  return doc;
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
  onProgress?: (done: number, total: number) => void;
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

/** Parses an import document: an export, or a JSON array of commitments. */
export async function parseImport(
  text: string,
  dates: DateContext,
): Promise<{ items: Item[]; simple: SimpleCommitment[] }> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new JdoError(
      "INVALID_INPUT",
      `Cannot import: not valid JSON (${(error as Error).message})`,
    );
  }
  if (Array.isArray(doc)) {
    await loadDateParser();
    const simple: SimpleCommitment[] = [];
    for (const [i, value] of doc.entries()) {
      simple.push(await simpleCommitment(value, `item ${i + 1}`, dates));
    }
    return { items: [], simple };
  }
  if (!isObject(doc) || doc.format !== EXPORT_FORMAT) {
    throw new JdoError(
      "INVALID_INPUT",
      `Cannot import: expected a jdo export (format "${EXPORT_FORMAT}") or a JSON array of commitments`,
    );
  }
  if (typeof doc.schema_version === "number" && doc.schema_version > LATEST_SCHEMA_VERSION) {
    throw new JdoError("DB_TOO_NEW", "Cannot import: the export comes from a newer jdo");
  }
  const items: Item[] = [];
  for (const def of ENTITIES) {
    const list = doc[def.plural] ?? [];
    if (!Array.isArray(list)) fail(def.plural, "must be a list");
    for (const [i, record] of list.entries()) {
      const where = `${def.plural}[${i}]`;
      if (!isObject(record)) fail(where, "must be an object");
      items.push({ def, fields: recordToRow(def, record, where), where });
    }
  }
  return { items, simple: [] };
}

/** Which of the ids exist here: id → whether that row is deleted (a tombstone). */
async function existingIds(
  w: Writer,
  def: EntityDef,
  ids: string[],
): Promise<Map<string, boolean>> {
  const found = new Map<string, boolean>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const rows = await w.query(
      `SELECT id, deleted_at FROM ${def.table} WHERE id IN (${chunk.map(() => "?").join(",")})`,
      chunk,
    );
    for (const r of rows) found.set(String(r.id), r.deleted_at !== null);
  }
  return found;
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

/**
 * Loads parsed items in one transaction: rows whose id already exists are
 * skipped, so running the same import twice changes nothing; rows deleted
 * here stay deleted unless `undelete` is set, which brings them back with the
 * file's values; any error rolls everything back.
 */
export async function importItems(
  store: Store,
  parsed: { items: Item[]; simple: SimpleCommitment[] },
  options: ImportOptions = {},
): Promise<ImportResult> {
  const onProgress = options.onProgress ?? (() => {});
  const total = parsed.items.length + parsed.simple.length;
  const result: ImportResult = { imported: 0, skipped: 0, deleted: 0, restored: 0, byKind: {} };
  let done = 0;
  await store.write(async (w) => {
    const insert = async (def: EntityDef, rows: Row[], skipped: number) => {
      for (let i = 0; i < rows.length; i += IMPORT_CHUNK) {
        const chunk = rows.slice(i, i + IMPORT_CHUNK);
        try {
          await w.insertMany(def, chunk);
        } catch (error) {
          throw new JdoError(
            "INVALID_INPUT",
            `Cannot import ${def.plural}: ${
              (error as Error).message.split("\n")[0]
            } (nothing was imported)`,
          );
        }
        done += chunk.length;
        onProgress(done, total);
      }
      result.imported += rows.length;
      if (rows.length) result.byKind[def.plural] = (result.byKind[def.plural] ?? 0) + rows.length;
      done += skipped;
      onProgress(done, total);
    };
    const restored: [EntityDef, string][] = [];
    /** Rows of the file deleted here: counted, or brought back with `undelete`. */
    const handleDeleted = async (def: EntityDef, rows: Row[]) => {
      if (!options.undelete) {
        result.deleted += rows.length;
        return;
      }
      for (const row of rows) {
        await w.restore(def, String(row.id), row);
        restored.push([def, String(row.id)]);
      }
      result.restored += rows.length;
    };
    // A stakeholder of the file named like a live one here (another id) is that one.
    const sameStakeholder = new Map<string, string>();
    for (const def of ENTITIES) {
      let items = parsed.items.filter((i) => i.def === def);
      if (items.length === 0) continue;
      assertUnique(items.map((i) => ({ id: String(i.fields.id), where: i.where })));
      if (def.name === "commitment") {
        for (const i of items) {
          const to = sameStakeholder.get(String(i.fields.stakeholder_id));
          if (to) i.fields.stakeholder_id = to;
        }
      }
      const present = await existingIds(w, def, items.map((i) => String(i.fields.id)));
      if (def.name === "stakeholder") {
        items = await mapSameNamed(w, items, present, options.undelete, sameStakeholder);
        result.skipped += sameStakeholder.size;
      }
      const fresh = items.filter((i) => !present.has(String(i.fields.id)));
      const deleted = items.filter((i) => present.get(String(i.fields.id)) === true);
      result.skipped += items.length - fresh.length - deleted.length;
      await handleDeleted(def, deleted.map((i) => i.fields));
      await insert(def, fresh.map((i) => i.fields), items.length - fresh.length);
    }
    if (parsed.simple.length > 0) {
      const commitments = entity("commitment");
      const present = await existingIds(w, commitments, parsed.simple.map((s) => s.id));
      const stakeholders = new Map<string, string>();
      const rows: Row[] = [];
      const deleted: Row[] = [];
      const seen = new Set<string>();
      for (const s of parsed.simple) {
        if (seen.has(s.id)) continue; // the same item twice in one list is imported once
        seen.add(s.id);
        if (present.get(s.id) === false) {
          result.skipped += 1;
          continue;
        }
        let stakeholderId = stakeholders.get(s.stakeholder);
        if (!stakeholderId) {
          stakeholderId = String((await stakeholderByName(w, s.stakeholder)).id);
          stakeholders.set(s.stakeholder, stakeholderId);
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
      result.skipped += parsed.simple.length - seen.size;
      await handleDeleted(commitments, deleted);
      await insert(commitments, rows, parsed.simple.length - rows.length);
    }
    for (const [def, id] of restored) await assertLiveParents(w, def, id);
    // Deferred foreign keys are checked at commit; check here for a clear message.
    const broken = await w.query("PRAGMA foreign_key_check");
    if (broken.length > 0) {
      const b = broken[0];
      throw new JdoError(
        "INVALID_INPUT",
        `Cannot import: a ${b.table} row refers to a missing ${b.parent} row (nothing was imported)`,
      );
    }
  });
  return result;
}

/**
 * Stakeholder names are unique regardless of case: a stakeholder of the file
 * that would be added (or brought back) while a live one here, or an earlier
 * one of the file, has its name is not added; `map` sends its id to that one.
 * Returns the items still to import.
 */
async function mapSameNamed(
  w: Writer,
  items: Item[],
  present: Map<string, boolean>,
  undelete: boolean | undefined,
  map: Map<string, string>,
): Promise<Item[]> {
  const byKey = new Map<string, string>();
  const kept: Item[] = [];
  for (const item of items) {
    const id = String(item.fields.id);
    const state = present.get(id);
    const added = state === undefined || (state === true && undelete === true);
    const key = stakeholderKey(String(item.fields.name));
    if (!added) {
      if (state === false) byKey.set(key, id);
      kept.push(item);
      continue;
    }
    const existing = byKey.get(key) ?? (await findStakeholder(w, String(item.fields.name)))?.id;
    if (existing !== undefined && existing !== id) {
      map.set(id, String(existing));
      continue;
    }
    byKey.set(key, id);
    kept.push(item);
  }
  return kept;
}

const IMPORT_CHUNK = 500;

function assertUnique(entries: { id: string; where: string }[]): void {
  const seen = new Map<string, string>();
  for (const { id, where } of entries) {
    const first = seen.get(id);
    if (first) fail(where, `id ${id} appears twice (also at ${first})`);
    seen.set(id, where);
  }
}
