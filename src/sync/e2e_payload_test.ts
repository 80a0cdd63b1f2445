import nodeAssert from "node:assert/strict";
import { MIGRATIONS, SYNCED_TABLES, type Target } from "../db/migrations.ts";
import {
  PAYLOAD_COLUMNS,
  payloadKey,
  payloadSql,
  payloadText,
  recodeE1Payload,
  rowOfPayload,
} from "./e2e_payload.ts";

const assertEquals = (a: unknown, b: unknown) => nodeAssert.deepStrictEqual(a, b);
const assert = (v: unknown, message?: string) => nodeAssert.ok(v, message);

/** Every table of a new database of `target`, with its columns in table order. */
async function schemaColumns(target: Target): Promise<Map<string, string[]>> {
  const { createClient } = await import("@libsql/client");
  const db = createClient({ url: ":memory:" });
  try {
    for (const m of MIGRATIONS) for (const sql of m.statements(target)) await db.execute(sql);
    const out = new Map<string, string[]>();
    for (const table of SYNCED_TABLES) {
      const info = await db.execute(`PRAGMA table_info(${table})`);
      out.set(table, info.rows.map((r) => String(r.name)));
    }
    return out;
  } finally {
    db.close();
  }
}

const NOT_SEALED = new Set(["id", "version", "_fv", "_seq", "_by"]);

Deno.test("every sealed column of every synced table has a payload code, on both sides", async () => {
  for (const target of ["local", "cloud"] as const) {
    for (const [table, columns] of await schemaColumns(target)) {
      const sealed = columns.filter((c) => !NOT_SEALED.has(c));
      assertEquals([...sealed].sort(), [...PAYLOAD_COLUMNS[table]].sort());
      for (const c of sealed) {
        // A code is one or two of [0-9a-z]; no column name looks like one.
        assert(/^[0-9a-z]{1,2}$/.test(payloadKey(table, c)), `${table}.${c}`);
        assert(!/^[0-9a-z]{1,2}$/.test(c), `${table}.${c} could be read as a code`);
      }
    }
  }
});

Deno.test("SQLite's payload and JavaScript's hold the same values; NULLs are left out", async () => {
  const { createClient } = await import("@libsql/client");
  const db = createClient({ url: ":memory:" });
  try {
    await db.execute(
      `CREATE TABLE tasks (id TEXT, title TEXT, "order" INTEGER, estimated_hours REAL,
        scope TEXT, status TEXT, extra TEXT, spare TEXT)`,
    );
    const row = {
      id: "t-1",
      title: `it's "quoted" ✓ \\ \n`,
      order: 3,
      estimated_hours: 1.5,
      scope: null,
      status: "pending",
      extra: "a column without a code",
      spare: null,
    };
    await db.execute({
      sql: "INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      args: Object.values(row),
    });
    const columns = Object.keys(row).filter((c) => c !== "id");
    const fromSql = String(
      (await db.execute(`SELECT ${payloadSql("tasks", columns)} AS p FROM tasks c`)).rows[0].p,
    );
    const fromJs = payloadText("tasks", row, columns);
    assertEquals(JSON.parse(fromSql), JSON.parse(fromJs));
    // Codes for listed columns, names (NULL kept) for the others, no listed NULL.
    assertEquals(
      Object.keys(JSON.parse(fromJs)).sort(),
      [
        payloadKey("tasks", "estimated_hours"),
        payloadKey("tasks", "order"),
        payloadKey("tasks", "status"),
        payloadKey("tasks", "title"),
        "extra",
        "spare",
      ].sort(),
    );
    const opened = rowOfPayload("tasks", fromSql);
    const { id: _, ...sealed } = row;
    for (const [column, value] of Object.entries(sealed)) assertEquals(opened[column], value);
    // Every listed column is in the row, NULL where the payload lacks it.
    for (const column of PAYLOAD_COLUMNS.tasks) assert(column in opened, column);
    assertEquals(opened.deleted_at, null);
  } finally {
    db.close();
  }
});

Deno.test("an e1 payload recoded reads as the e1 payload read by name", () => {
  const e1 = JSON.stringify({
    created_at: "2026-01-01T00:00:00.000Z",
    updated_at: "2026-01-02T00:00:00.000Z",
    deleted_at: null,
    text: "buy milk",
    status: "open",
    later_column: null,
  });
  const recoded = recodeE1Payload("inbox_items", e1);
  assert(recoded.length < e1.length);
  assertEquals(rowOfPayload("inbox_items", recoded), rowOfPayload("inbox_items", e1));
  // Read by name, as it was sealed.
  assertEquals(rowOfPayload("inbox_items", e1), JSON.parse(e1));
});
