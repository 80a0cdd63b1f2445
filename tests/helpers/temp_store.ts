import type { Client } from "@libsql/client";
import { join } from "node:path";
import { openWorkingDatabase, type SqliteEngine } from "../../src/db/database.ts";
import { Store, type WallClock } from "../../src/db/store.ts";
import { testClock } from "./test_clock.ts";

export interface TempStore extends AsyncDisposable {
  store: Store;
  client: Client;
  dir: string;
  path: string;
  close(): Promise<void>;
}

/**
 * A migrated working database in a fresh temp directory, assembled the way
 * src/app/context.ts does it. Use with `await using`, or call close().
 */
export async function openTempStore(clock: WallClock = testClock): Promise<TempStore> {
  const dir = await Deno.makeTempDir({ prefix: "jdo-test-" });
  const path = join(dir, "jdo.db");
  const engine = testEngine();
  const client = await openWorkingDatabase(path, () => clock.now(), engine);
  const store = new Store(client, clock, path);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    client.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  return { store, client, dir, path, close, [Symbol.asyncDispose]: close };
}

/**
 * The SQLite library test stores open: libSQL, or node:sqlite with
 * JDO_TEST_SQLITE=node (the store tests pass on both: docs/DESIGN.md).
 */
export function testEngine(): SqliteEngine {
  return Deno.env.get("JDO_TEST_SQLITE") === "node" ? "node" : "libsql";
}

/** A clock that returns a fixed, settable instant. */
export function manualClock(start: Date | number): WallClock & { set(t: Date | number): void } {
  let now = new Date(start);
  return {
    now: () => new Date(now),
    set(t) {
      now = new Date(t);
    },
  };
}
