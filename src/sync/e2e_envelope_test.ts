import nodeAssert from "node:assert/strict";

const assert = (v: unknown) => nodeAssert.ok(v);
const assertEquals = (a: unknown, b: unknown) => nodeAssert.deepStrictEqual(a, b);
const assertNotEquals = (a: unknown, b: unknown) => nodeAssert.notDeepStrictEqual(a, b);
const assertThrows = (f: () => unknown) => nodeAssert.throws(f);
import { JdoError } from "../errors.ts";
import {
  envelopeKeyId,
  makeCheckRecord,
  open,
  openedInsertSql,
  openRow,
  openRowsJson,
  openText,
  seal,
  type SealedTuple,
  sealRow,
  sealText,
  verifyKey,
} from "./e2e_envelope.ts";
import { dataKeyOf, keyFromPhrase, newDataKey } from "./e2e_key.ts";
import { PAYLOAD_COLUMNS } from "./e2e_payload.ts";

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);
/** A commitment row as the store reads it: every column, some NULL. */
const row = {
  id: "c-1",
  version: "0001764921600000-0000-dev1",
  ...Object.fromEntries(PAYLOAD_COLUMNS.commitments.map((c) => [c, null])),
  deliverable: "Pay Alice back 40 EUR",
  notes: "secret marker",
  completed_on_time: 1,
  _fv: '{"deliverable":"0001764921600000-0000-dev1"}',
};

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return error instanceof JdoError ? error.code : `not a JdoError: ${error}`;
  }
  return "no error";
}

Deno.test("a key round-trips through its 24-word phrase; the key id is stable and in hex", () => {
  const key = dataKeyOf(bytes(32, 7));
  assertEquals(key.phrase.split(" ").length, 24);
  const again = keyFromPhrase(`  ${key.phrase.toUpperCase().replaceAll(" ", "\n")}  `);
  assertEquals(again.id, key.id);
  assertEquals(again.rows, key.rows);
  assert(/^[0-9a-f]{16}$/.test(key.id));
  // Sub-keys differ from each other (HKDF with distinct infos).
  assertNotEquals(key.rows, key.check);
  assertNotEquals(newDataKey().id, newDataKey().id);
});

Deno.test("a phrase with a wrong word, a wrong count or a bad checksum is refused", () => {
  const words = dataKeyOf(bytes(32, 9)).phrase.split(" ");
  assertEquals(code(() => keyFromPhrase(words.slice(0, 23).join(" "))), "SYNC_KEY_WRONG");
  assertEquals(
    code(() => keyFromPhrase([...words.slice(0, 23), "zzzz"].join(" "))),
    "SYNC_KEY_WRONG",
  );
  // Two words swapped: every word is known, the checksum catches it.
  const swapped = [...words];
  [swapped[0], swapped[5]] = [swapped[5], swapped[0]];
  if (swapped.join(" ") !== words.join(" ")) {
    assertEquals(code(() => keyFromPhrase(swapped.join(" "))), "SYNC_KEY_WRONG");
  }
});

Deno.test("an envelope names its key in clear, uses a fresh nonce, and refuses tampering", () => {
  const key = dataKeyOf(bytes(32, 1));
  const aad = new TextEncoder().encode("aad");
  const plain = new TextEncoder().encode("hello");
  const a = seal(key.rows, key.id, plain, aad);
  const b = seal(key.rows, key.id, plain, aad);
  assertNotEquals(a, b);
  assertEquals(envelopeKeyId(a), key.id);
  assert(a.startsWith(`e1.${key.id}.`));
  assertEquals(new TextDecoder().decode(open(key.rows, key.id, a, aad)), "hello");
  assertThrows(() => open(key.rows, key.id, a, new TextEncoder().encode("other")));
  const flipped = a.slice(0, -3) + (a.at(-3) === "A" ? "B" : "A") + a.slice(-2);
  assertThrows(() => open(key.rows, key.id, flipped, aad));
  const other = dataKeyOf(bytes(32, 2));
  assertThrows(() => open(other.rows, other.id, a, aad));
});

Deno.test("a sealed row keeps only ids and versions in clear and is bound to its place", () => {
  const key = dataKeyOf(bytes(32, 3));
  const sealed = sealRow(key, "cloud-a", "commitments", row);
  assertEquals(Object.keys(sealed).sort(), ["_fv", "data", "id", "version"]);
  assert(!sealed.data.includes("secret") && !sealed.data.includes("Alice"));
  assert(sealed.data.startsWith(`e2.${key.id}.`));
  assertEquals(openRow(key, "cloud-a", "commitments", sealed), row);
  // Moved to another row, table, cloud, or replayed under another version: refused.
  const wrong = (f: () => unknown) => assertEquals(code(f), "SYNC_KEY_WRONG");
  wrong(() => openRow(key, "cloud-a", "commitments", { ...sealed, id: "c-2" }));
  wrong(() => openRow(key, "cloud-a", "goals", sealed));
  wrong(() => openRow(key, "cloud-b", "commitments", sealed));
  wrong(() => openRow(key, "cloud-a", "commitments", { ...sealed, version: "0002" }));
  wrong(() => openRow(key, "cloud-a", "commitments", { ...sealed, _fv: "{}" }));
  wrong(() => openRow(dataKeyOf(bytes(32, 4)), "cloud-a", "commitments", sealed));
});

Deno.test("a row sealed before e2 (every column under its name) still opens", () => {
  const key = dataKeyOf(bytes(32, 3));
  const { id, version, _fv, ...payload } = row;
  const aad = new TextEncoder().encode(
    JSON.stringify(["jdo-row", "cloud-a", "commitments", id, version, _fv]),
  );
  const data = seal(key.rows, key.id, new TextEncoder().encode(JSON.stringify(payload)), aad);
  assert(data.startsWith(`e1.${key.id}.`));
  assertEquals(openRow(key, "cloud-a", "commitments", { id, version, _fv, data }), row);
});

Deno.test("a row sealed in a newer envelope than this jdo reads asks for an upgrade", () => {
  const key = dataKeyOf(bytes(32, 3));
  const sealed = sealRow(key, "cloud-a", "commitments", row);
  const newer = { ...sealed, data: `e3${sealed.data.slice(2)}` };
  assertEquals(code(() => openRow(key, "cloud-a", "commitments", newer)), "SYNC_SCHEMA_MISMATCH");
});

Deno.test("the check record tells a missing key and a wrong key from the right one", () => {
  const key = dataKeyOf(bytes(32, 5));
  const record = makeCheckRecord(key, "cloud-a");
  verifyKey(key, "cloud-a", record);
  assertEquals(code(() => verifyKey(undefined, "cloud-a", record)), "SYNC_KEY_MISSING");
  assertEquals(code(() => verifyKey(dataKeyOf(bytes(32, 6)), "cloud-a", record)), "SYNC_KEY_WRONG");
  // The same key id but a check sealed for another cloud: wrong.
  assertEquals(
    code(() => verifyKey(key, "cloud-b", record)),
    "SYNC_KEY_WRONG",
  );
});

Deno.test("device names are sealed; a name written before encryption reads as it is", () => {
  const key = dataKeyOf(bytes(32, 8));
  const sealed = sealText(key, "cloud-a", "device:d1", "laptop");
  assert(!sealed.includes("laptop"));
  assertEquals(openText(key, "cloud-a", "device:d1", sealed), "laptop");
  assertEquals(openText(key, "cloud-a", "device:d2", sealed), "(sealed with another key)");
  assertEquals(openText(key, "cloud-a", "device:d1", "old-name"), "old-name");
});

Deno.test("openedInsertSql: a page of opened rows lands in its columns with their types; a missing one is NULL", async () => {
  const { createClient } = await import("@libsql/client");
  const db = createClient({ url: ":memory:" });
  try {
    await db.execute(
      `CREATE TABLE t (id TEXT PRIMARY KEY, version TEXT, _fv TEXT, "order" INTEGER, hours REAL,
       notes TEXT, absent TEXT)`,
    );
    const columns = ["id", "version", "_fv", "order", "hours", "notes", "absent"];
    // Table t has no payload codes: its columns go under their names.
    const sql = openedInsertSql("main.t", "t", columns);
    const payload = { order: 3, hours: 1.0, notes: `it's "quoted" ✓`, extra: "not a column" };
    // As openRowsJson lays it out: [id, version, _fv, payload object].
    const page = JSON.stringify([["r1", "v1", '{"notes":"v1"}', payload]]);
    await db.execute({ sql, args: [page] });
    const row = (await db.execute(
      `SELECT id, version, _fv, "order", typeof("order") AS o, hours, typeof(hours) AS h, notes,
       absent FROM t`,
    )).rows[0];
    assertEquals(
      [row.id, row.version, row._fv, row.order, row.o, row.hours, row.h, row.notes, row.absent],
      ["r1", "v1", '{"notes":"v1"}', 3, "integer", 1, "real", `it's "quoted" ✓`, null],
    );
  } finally {
    db.close();
  }
});

Deno.test("a page mixing rows sealed before e2 and in e2 opens and lands whole", async () => {
  const { createClient } = await import("@libsql/client");
  const key = dataKeyOf(bytes(32, 11));
  const at = "2026-12-01T09:00:00.000Z";
  const rows = ["i-1", "i-2"].map((id, i) => ({
    id,
    version: `000176492160000${i}-0000-dev1`,
    _fv: null,
    created_at: at,
    updated_at: at,
    deleted_at: null,
    text: `item ${i} "quoted"`,
    status: "open",
  }));
  // i-1 as a jdo before e2 sealed it (every column under its name), i-2 as this one does.
  const { id, version, _fv, ...payload } = rows[0];
  const old = seal(
    key.rows,
    key.id,
    new TextEncoder().encode(JSON.stringify(payload)),
    new TextEncoder().encode(
      JSON.stringify(["jdo-row", "cloud-a", "inbox_items", id, version, _fv]),
    ),
  );
  const page: SealedTuple[] = [
    [id, version, _fv, old],
    ((r) => [r.id, r.version, r._fv, r.data])(sealRow(key, "cloud-a", "inbox_items", rows[1])),
  ];
  const db = createClient({ url: ":memory:" });
  try {
    await db.execute(
      `CREATE TABLE inbox_items (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, updated_at TEXT,
        version TEXT, deleted_at TEXT, text TEXT, status TEXT, _fv TEXT)`,
    );
    const columns = [
      "id",
      "created_at",
      "updated_at",
      "version",
      "deleted_at",
      "text",
      "status",
      "_fv",
    ];
    await db.execute({
      sql: openedInsertSql("main.inbox_items", "inbox_items", columns),
      args: [openRowsJson(key, "cloud-a", "inbox_items", page)],
    });
    const landed = (await db.execute(`SELECT ${columns.join(", ")} FROM inbox_items ORDER BY id`))
      .rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c]])));
    assertEquals(
      landed,
      rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c as keyof typeof r]]))),
    );
  } finally {
    db.close();
  }
});
