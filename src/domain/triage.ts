/**
 * Triage: an inbox item becomes a commitment, goal, vision, milestone or
 * task, or is dismissed. Either way it ends `triaged`, in the same
 * transaction as the row it became.
 */
import { entity, type Row } from "../db/schema.ts";
import type { Store, Writer } from "../db/store.ts";
import { JdoError } from "../errors.ts";
import type { Domain } from "./input.ts";

/** The open inbox items, oldest capture first (the order the original walks them). */
export function triageQueue(store: Store): Promise<Row[]> {
  return store.query(
    "SELECT * FROM inbox_items WHERE status = 'open' AND deleted_at IS NULL ORDER BY created_at, id",
  );
}

async function markTriaged(w: Writer, itemId: string): Promise<Row> {
  const item = await w.one(
    "SELECT status FROM inbox_items WHERE id = ? AND deleted_at IS NULL",
    [itemId],
  );
  if (!item) throw new JdoError("NOT_FOUND", "This inbox item no longer exists");
  if (item.status !== "open") {
    throw new JdoError("INVALID_INPUT", "This inbox item is already triaged");
  }
  return await w.update(entity("inbox"), itemId, { status: "triaged" });
}

/** Refuses an item that is not open before anything is asked or created. */
export function assertOpen(item: Row): void {
  if (item.status !== "open") {
    throw new JdoError(
      "INVALID_INPUT",
      "This inbox item is already triaged (jdo edit ID --status open reopens it)",
    );
  }
}

/**
 * Runs `create` (one of the domain's add actions) so that the row it writes
 * and the item's move to `triaged` commit together, or neither does.
 */
export function triageInto(
  d: Domain,
  item: Row,
  create: (d: Domain) => Promise<Row>,
): Promise<Row> {
  assertOpen(item);
  const store = d.store;
  const joined = Object.create(store) as Store;
  joined.write = (fn, options) =>
    store.write(async (w) => {
      const row = await fn(w);
      await markTriaged(w, String(item.id));
      return row;
    }, options);
  return create({ store: joined, dates: d.dates });
}

/** Dismisses an item: it is kept, triaged, and turned into nothing. */
export function dismiss(d: Domain, item: Row): Promise<Row> {
  assertOpen(item);
  return d.store.write((w) => markTriaged(w, String(item.id)));
}
