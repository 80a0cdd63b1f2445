import assert from "node:assert/strict";
import { JdoError } from "../errors.ts";
import { openTempStore, testEngine } from "../../tests/helpers/temp_store.ts";
import { testClock } from "../../tests/helpers/test_clock.ts";
import { openDatabaseFile, openWorkingDatabase } from "./database.ts";
import { withRowCursor } from "./row_cursor.ts";
import { entity } from "./schema.ts";
import { Store } from "./store.ts";

async function addInbox(store: Store, n: number, from = 0) {
  await store.write(async (w) => {
    for (let i = from; i < from + n; i++) {
      await w.insert(entity("inbox"), {
        text: `item ${String(i).padStart(4, "0")}`,
        status: "open",
      });
    }
  });
}

Deno.test("row cursor: every row once, in order, in pages of the asked size", async () => {
  await using t = await openTempStore();
  await addInbox(t.store, 250);
  const pages: number[] = [];
  const texts: string[] = [];
  const total = await t.store.reading((cursor) =>
    cursor.pages("SELECT text FROM inbox_items ORDER BY text", [], (rows) => {
      pages.push(rows.length);
      for (const row of rows) texts.push(String(row.text));
    }, 100)
  );
  assert.equal(total, 250);
  assert.deepEqual(pages, [100, 100, 50]);
  assert.deepEqual(
    texts,
    Array.from({ length: 250 }, (_, i) => `item ${String(i).padStart(4, "0")}`),
  );
  // Same values as Store.query gives (numbers as numbers, NULL as null).
  const viaCursor: unknown[] = [];
  await t.store.reading((cursor) =>
    cursor.pages(
      "SELECT id, version, deleted_at, created_at FROM inbox_items ORDER BY id LIMIT 3",
      [],
      (rows) => void viaCursor.push(...rows),
      10,
    )
  );
  assert.deepEqual(
    viaCursor,
    await t.store.query(
      "SELECT id, version, deleted_at, created_at FROM inbox_items ORDER BY id LIMIT 3",
    ),
  );
});

Deno.test("row cursor: one snapshot for the whole read, however others write meanwhile", async () => {
  await using t = await openTempStore();
  await addInbox(t.store, 150);
  // Another connection on the file (as another jdo process would be).
  const engine = testEngine();
  const other = await openWorkingDatabase(t.path, () => testClock.now(), engine);
  const otherStore = new Store(other, testClock, t.path);
  const counts: number[] = [];
  let wrote = false;
  await t.store.reading(async (cursor) => {
    await cursor.pages("SELECT id FROM inbox_items", [], async () => {
      // It commits rows while the read is half-way.
      if (!wrote) await addInbox(otherStore, 20, 1000);
      wrote = true;
    }, 100);
    await cursor.pages("SELECT count(*) AS n FROM inbox_items", [], (rows) => {
      counts.push(Number(rows[0].n));
    }, 1);
  });
  assert.deepEqual(counts, [150]);
  const after = await t.store.one("SELECT count(*) AS n FROM inbox_items");
  assert.equal(after?.n, 170);
  other.close();
});

Deno.test("row cursor: inside a write, reads see the write's own rows", async () => {
  await using t = await openTempStore();
  await addInbox(t.store, 3);
  const seen = await t.store.write(async (w) => {
    await w.insert(entity("inbox"), { text: "not committed yet", status: "open" });
    return await t.store.reading((cursor) =>
      cursor.pages("SELECT text FROM inbox_items", [], () => {}, 2)
    );
  });
  assert.equal(seen, 4);
});

Deno.test("row cursor: read-only, and bad SQL or a missing file is a DB_ERROR", async () => {
  await using t = await openTempStore();
  await assert.rejects(
    t.store.reading((cursor) =>
      cursor.pages("DELETE FROM inbox_items RETURNING id", [], () => {}, 10)
    ),
    (error) => error instanceof JdoError && error.code === "DB_ERROR",
  );
  await assert.rejects(
    t.store.reading((cursor) => cursor.pages("SELECT nope FROM inbox_items", [], () => {}, 10)),
    (error) =>
      error instanceof JdoError && error.code === "DB_ERROR" &&
      /no such column/.test(error.message),
  );
  await assert.rejects(
    withRowCursor(`${t.dir}/missing/jdo.db`, (cursor) => cursor.pages("SELECT 1", [], () => {}, 1)),
    (error) => error instanceof JdoError && error.code === "DB_ERROR",
  );
});

Deno.test("row cursor: node:sqlite and libSQL hand over the same rows (types, repeated names, key order)", async () => {
  // Two files, one per engine: never two SQLite engines on one file in one process.
  const dir = await Deno.makeTempDir({ prefix: "jdo-cursor-engines-" });
  try {
    const { DatabaseSync } = await import("node:sqlite");
    const setup = new DatabaseSync(`${dir}/a.db`);
    setup.exec(`CREATE TABLE t (i INTEGER, r REAL, s TEXT, n TEXT, b BLOB);
      INSERT INTO t VALUES (1, 1.5, 'one', NULL, x'6869'), (42, -0.25, 'é✓', NULL, NULL);`);
    setup.close();
    await Deno.copyFile(`${dir}/a.db`, `${dir}/b.db`);
    const sql = "SELECT i AS x, r, s AS x, n, b, i * 2 AS twice FROM t WHERE i > ? ORDER BY i";
    // A store's long read: on node:sqlite on its own connection, on libSQL on a cursor's.
    const read = async (path: string, engine: "node" | "libsql") => {
      const client = await openDatabaseFile(path, engine);
      try {
        return await new Store(client, testClock, path).reading(async (cursor) => {
          const rows: unknown[] = [];
          await cursor.pages(sql, [0], (page) => void rows.push(...page), 1);
          return rows;
        });
      } finally {
        client.close();
      }
    };
    const viaNode = await read(`${dir}/a.db`, "node");
    const viaLibsql = await read(`${dir}/b.db`, "libsql");
    assert.deepEqual(viaNode, viaLibsql);
    assert.deepEqual(viaNode.map((r) => Object.keys(r as object)), [
      ["x", "r", "n", "b", "twice"],
      ["x", "r", "n", "b", "twice"],
    ]);
    assert.deepEqual(viaNode[0], { x: "one", r: 1.5, n: null, b: "hi", twice: 2 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("row cursor on node:sqlite: the read runs on the store's own connection, read-only while it lasts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jdo-cursor-node-" });
  const path = `${dir}/jdo.db`;
  const client = await openWorkingDatabase(path, () => testClock.now(), "node");
  try {
    const store = new Store(client, testClock, path);
    await addInbox(store, 5);
    await store.reading(async (cursor) => {
      // Reads inside it (and nested long reads) share its snapshot and connection.
      assert.equal((await store.one("SELECT count(*) AS n FROM inbox_items"))?.n, 5);
      assert.equal(
        await store.reading((inner) => inner.pages("SELECT id FROM inbox_items", [], () => {}, 2)),
        5,
      );
      // A write would end the snapshot: refused, nothing written.
      await assert.rejects(
        addInbox(store, 1, 100),
        (error) => error instanceof JdoError && error.code === "INTERNAL",
      );
      assert.equal(await cursor.pages("SELECT id FROM inbox_items", [], () => {}, 10), 5);
      // The rows are read at once: each page says how many there are in all.
      const told: (number | undefined)[] = [];
      await cursor.pages("SELECT id FROM inbox_items", [], (_, total) => void told.push(total), 2);
      assert.deepEqual(told, [5, 5, 5]);
    });
    // Afterwards the connection writes again.
    await addInbox(store, 1, 200);
    assert.equal((await store.one("SELECT count(*) AS n FROM inbox_items"))?.n, 6);
  } finally {
    client.close();
    await Deno.remove(dir, { recursive: true });
  }
});
