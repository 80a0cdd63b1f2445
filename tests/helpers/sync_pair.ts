/**
 * Two devices on one memory cloud for the sync modules' unit tests: real
 * temp stores (tests/helpers/temp_store.ts) on one shared manual clock, so a
 * test decides whose write is newer by moving the clock between them.
 */
import { join } from "node:path";
import { entity, type Row } from "../../src/db/schema.ts";
import type { Store } from "../../src/db/store.ts";
import { readSyncState } from "../../src/sync/state.ts";
import { type MemoryClientOptions, MemoryCloud, type MemoryCloudClient } from "./memory_cloud.ts";
import { manualClock, openTempStore, type TempStore } from "./temp_store.ts";

/** The instant the pair's clock starts at: fixed, far from today. */
export const PAIR_T0 = Date.parse("2031-03-14T09:00:00.000Z");

export const inbox = entity("inbox");

export interface Pair extends AsyncDisposable {
  server: MemoryCloud;
  a: TempStore;
  b: TempStore;
  ca: MemoryCloudClient;
  cb: MemoryCloudClient;
  /** Moves the shared clock on (default one second): later writes win. */
  advance(ms?: number): void;
}

type ClientOptions = (dir: string) => MemoryClientOptions;

/** Devices A and B; each handle's options may depend on its temp dir (a replica path). */
export async function openPair(
  options: { a?: ClientOptions; b?: ClientOptions } = {},
): Promise<Pair> {
  const clock = manualClock(PAIR_T0);
  let now = PAIR_T0;
  const server = new MemoryCloud({ migrated: true });
  const a = await openTempStore(clock);
  const b = await openTempStore(clock);
  return {
    server,
    a,
    b,
    ca: server.client(options.a?.(a.dir) ?? {}),
    cb: server.client(options.b?.(b.dir) ?? {}),
    advance(ms = 1_000) {
      now += ms;
      clock.set(now);
    },
    [Symbol.asyncDispose]: async () => {
      await a.close();
      await b.close();
    },
  };
}

/** A handle with an embedded replica file in `dir` (the set-based merge path). */
export const withReplica: ClientOptions = (dir) => ({ replicaPath: join(dir, "replica.db") });

export async function capture(store: Store, text: string): Promise<string> {
  const row = await store.write((w) => w.insert(inbox, { text, status: "open" }));
  return String(row.id);
}

export async function editInbox(store: Store, id: string, patch: Row): Promise<void> {
  await store.write((w) => w.update(inbox, id, patch));
}

export async function deleteInbox(store: Store, id: string): Promise<void> {
  await store.write((w) => w.tombstone(inbox, id));
}

export async function inboxRow(store: Store, id: string): Promise<Row | undefined> {
  return await store.one("SELECT * FROM inbox_items WHERE id = ?", [id]);
}

/** The outbox as "entity:id", sorted. */
export async function outboxKeys(store: Store): Promise<string[]> {
  return (await store.query("SELECT entity, id FROM _sync_outbox ORDER BY entity, id"))
    .map((r) => `${r.entity}:${r.id}`);
}

export async function conflictRows(store: Store): Promise<Row[]> {
  return await store.query("SELECT * FROM _sync_conflicts ORDER BY created_at, id");
}

export async function watermark(store: Store): Promise<number> {
  return (await readSyncState(store)).watermark;
}
