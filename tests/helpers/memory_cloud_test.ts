import assert from "node:assert/strict";
import { createClient } from "@libsql/client";
import { queryRows } from "../../src/db/database.ts";
import { LATEST_SCHEMA_VERSION } from "../../src/db/migrations.ts";
import type { Row } from "../../src/db/schema.ts";
import { JdoError } from "../../src/errors.ts";
import { MemoryCloud } from "./memory_cloud.ts";

const A = "aaaaaaaaaaaa";
const B = "bbbbbbbbbbbb";

function v(ms: number, device: string, counter = 0): string {
  return `${String(ms).padStart(13, "0")}-${counter.toString(16).padStart(4, "0")}-${device}`;
}

function item(id: string, version: string, text = "x"): Row {
  return {
    id,
    created_at: "2025-01-01T00:00:00.000Z",
    updated_at: "2025-01-01T00:00:00.000Z",
    version,
    deleted_at: null,
    text,
    status: "open",
  };
}

const push = (rows: Row[]) => rows.map((row) => ({ table: "inbox_items", row }));
const start = (seq: number) => ({ seq, id: "~" });

async function rejects(promise: Promise<unknown>, code?: string): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (code) {
      assert.ok(error instanceof JdoError, `expected a JdoError, got ${error}`);
      assert.equal(error.code, code);
    }
    return error as Error;
  }
  throw new Error("expected a rejection");
}

Deno.test("MemoryCloud starts without a schema; migrate() creates it with a cloud id", async () => {
  const server = new MemoryCloud();
  const c = server.client();
  assert.deepEqual(await c.info(), { schemaVersion: 0, cloudId: null, encryption: null });
  await rejects(c.push(push([item("1", v(1, A))]), 0, A));
  await c.migrate();
  const info = await c.info();
  assert.equal(info.schemaVersion, LATEST_SCHEMA_VERSION);
  assert.match(info.cloudId ?? "", /^[0-9a-f]{32}$/);
  await c.migrate();
  assert.deepEqual(await c.info(), info, "migrate() is idempotent");
  await c.assertWritable();
});

Deno.test("MemoryCloud refuses to migrate a newer cloud schema", async () => {
  const server = new MemoryCloud({ migrated: true });
  server.setSchemaVersion(LATEST_SCHEMA_VERSION + 1);
  await rejects(server.client().migrate(), "SYNC_SCHEMA_MISMATCH");
});

Deno.test("MemoryCloud push bumps the sequence once per call and reports applied rows", async () => {
  const server = new MemoryCloud({ migrated: true });
  const c = server.client();
  assert.deepEqual(
    await c.push(push([item("1", v(1, A)), item("2", v(1, A, 1))]), 0, A),
    { applied: [true, true], seq: 1 },
  );
  assert.equal(server.seq, 1);
  assert.equal(await c.snapshot(), 1);
  const rows = await c.changes("inbox_items", start(0), 1, 10);
  assert.deepEqual(rows.map((r) => [r.id, r._seq]), [["1", 1], ["2", 1]]);
  // Same version again (a replayed push): not applied, sequence still bumped.
  assert.deepEqual(await c.push(push([item("1", v(1, A))]), 1, A), { applied: [false], seq: 2 });
  assert.equal(server.seq, 2);
  // Like the libSQL batch, an empty push still takes a sequence number.
  assert.deepEqual(await c.push([], 2, A), { applied: [], seq: 3 });
  // Older version: not applied.
  assert.deepEqual((await c.push(push([item("1", v(0, A))]), 3, A)).applied, [false]);
  // Newer version: applied, moved to the new sequence.
  assert.deepEqual(await c.push(push([item("1", v(5, A), "new")]), 4, A), {
    applied: [true],
    seq: 5,
  });
  assert.deepEqual(server.rowsWithSeq("inbox_items").map((r) => [r.id, r._seq, r.text]), [
    ["2", 1, "x"],
    ["1", 5, "new"],
  ]);
});

Deno.test("MemoryCloud push refuses to overwrite a row another device changed after the watermark", async () => {
  const server = new MemoryCloud({ migrated: true });
  const a = server.client();
  const b = server.client();
  await a.push(push([item("1", v(1, A))]), 0, A); // seq 1, authored by A
  // B has not seen seq 1: even a newer version is refused.
  assert.deepEqual((await b.push(push([item("1", v(9, B))]), 0, B)).applied, [false]);
  // After pulling seq 1 (watermark 1), B may overwrite it.
  assert.deepEqual((await b.push(push([item("1", v(9, B))]), 2, B)).applied, [true]); // seq 3
  // A has not seen B's seq 3, but the cloud row is B's: refused.
  assert.deepEqual((await a.push(push([item("1", v(10, A))]), 1, A)).applied, [false]);
  // B's own later version goes through although B's watermark is older:
  // the cloud row was written by B itself.
  assert.deepEqual((await b.push(push([item("1", v(11, B))]), 0, B)).applied, [true]);
  assert.equal(server.rows("inbox_items")[0].version, v(11, B));
});

Deno.test("MemoryCloud push is atomic: one bad row rolls the whole call back", async () => {
  const server = new MemoryCloud({ migrated: true });
  const c = server.client();
  const bad = { ...item("2", v(1, A)), nope: 1 };
  await rejects(c.push(push([item("1", v(1, A)), bad]), 0, A));
  assert.equal(server.seq, 0);
  assert.deepEqual(server.rows("inbox_items"), []);
  await rejects(c.push([{ table: "nope", row: item("1", v(1, A)) }], 0, A));
});

Deno.test("MemoryCloud update keeps columns the push did not send (ON CONFLICT DO UPDATE)", async () => {
  const server = new MemoryCloud({ migrated: true });
  const c = server.client();
  await c.push(push([item("1", v(1, A), "old")]), 0, A);
  const { status: _, ...partial } = item("1", v(2, A), "new");
  assert.deepEqual((await c.push(push([partial]), 1, A)).applied, [true]);
  const [row] = server.rows("inbox_items");
  assert.equal(row.text, "new");
  assert.equal(row.status, "open");
});

Deno.test("MemoryCloud changes() pages in _seq order and reads the cloud as of upTo", async () => {
  const server = new MemoryCloud({ migrated: true });
  const c = server.client();
  await c.push(push([item("1", v(1, A), "one"), item("2", v(1, A, 1))]), 0, A); // seq 1
  await c.push(push([item("3", v(2, A))]), 1, A); // seq 2
  await c.push(push([item("1", v(3, A), "one again")]), 2, A); // seq 3
  assert.deepEqual((await c.changes("inbox_items", start(0), 3, 10)).map((r) => r.id), [
    "2",
    "3",
    "1",
  ]);
  assert.deepEqual((await c.changes("inbox_items", start(0), 3, 2)).map((r) => r.id), ["2", "3"]);
  assert.deepEqual((await c.changes("inbox_items", start(2), 3, 10)).map((r) => r.id), ["1"]);
  // As of seq 2, row 1 still has its seq-1 version.
  const old = await c.changes("inbox_items", start(0), 2, 10);
  assert.deepEqual(old.map((r) => [r.id, r._seq, r.text]), [
    ["1", 1, "one"],
    ["2", 1, "x"],
    ["3", 2, "x"],
  ]);
  assert.deepEqual(await c.changes("inbox_items", start(3), 3, 10), []);
  // Rows of one push share a _seq: the (_seq, id) cursor pages through them.
  const page1 = await c.changes("inbox_items", start(0), 3, 1);
  assert.deepEqual(page1.map((r) => [r.id, r._seq]), [["2", 1]]);
  const page2 = await c.changes("inbox_items", { seq: 1, id: "2" }, 3, 1);
  assert.deepEqual(page2.map((r) => [r.id, r._seq]), [["3", 2]]);
  const byId = await c.changes("inbox_items", { seq: 0, id: "~" }, 1, 10);
  assert.deepEqual(byId.map((r) => r.id), ["1", "2"], "ties are ordered by id");
  assert.deepEqual(await c.changes("_sync_conflicts", start(0), 3, 10), []);
});

Deno.test("MemoryCloud snapshot lag answers an older sequence but never goes back", async () => {
  const server = new MemoryCloud({ migrated: true });
  const writer = server.client();
  for (let i = 0; i < 5; i++) await writer.push(push([item(String(i), v(i, A))]), i, A);
  const lagging = server.client({ snapshotLag: 3 });
  assert.equal(await lagging.snapshot(), 2);
  lagging.setSnapshotLag(0);
  assert.equal(await lagging.snapshot(), 5);
  lagging.setSnapshotLag(4);
  assert.equal(await lagging.snapshot(), 5, "a replica never moves backwards");
  const random = server.client({ snapshotLag: (latest) => latest });
  assert.equal(await random.snapshot(), 0);
});

Deno.test("MemoryCloud push faults: before commit nothing changes, after commit the row is there", async () => {
  const server = new MemoryCloud({ migrated: true });
  const c = server.client();
  c.failNextPush();
  await rejects(c.push(push([item("1", v(1, A))]), 0, A), "SYNC_UNREACHABLE");
  assert.equal(server.seq, 0);
  assert.deepEqual(server.rows("inbox_items"), []);
  c.failAfterCommit();
  await rejects(c.push(push([item("1", v(1, A))]), 0, A), "SYNC_UNREACHABLE");
  assert.equal(server.seq, 1);
  assert.equal(server.rows("inbox_items").length, 1);
  // The client retries: the cloud already has that version.
  assert.deepEqual((await c.push(push([item("1", v(1, A))]), 0, A)).applied, [false]);
  assert.equal(c.pendingFaults, 0);
});

Deno.test("MemoryCloud failChangesAfter(n) fails the (n+1)th changes() call once", async () => {
  const server = new MemoryCloud({ migrated: true });
  const c = server.client();
  await c.push(push([item("1", v(1, A))]), 0, A);
  c.failChangesAfter(1);
  assert.equal((await c.changes("inbox_items", start(0), 1, 10)).length, 1);
  await rejects(c.changes("inbox_items", start(0), 1, 10), "SYNC_UNREACHABLE");
  assert.equal((await c.changes("inbox_items", start(0), 1, 10)).length, 1);
  assert.equal(c.pendingFaults, 0);
});

Deno.test("MemoryCloud offline and read-only modes fail like the libSQL cloud", async () => {
  const server = new MemoryCloud({ migrated: true });
  const c = server.client();
  server.offline = true;
  await rejects(c.info(), "SYNC_UNREACHABLE");
  await rejects(c.snapshot(), "SYNC_UNREACHABLE");
  await rejects(c.push(push([item("1", v(1, A))]), 0, A), "SYNC_UNREACHABLE");
  server.offline = false;
  server.readOnly = true;
  await rejects(c.assertWritable(), "SYNC_READ_ONLY");
  await rejects(c.push(push([item("1", v(1, A))]), 0, A), "SYNC_READ_ONLY");
  assert.equal(server.seq, 0);
});

Deno.test("MemoryCloud rows are copies: changing a returned row does not change the cloud", async () => {
  const server = new MemoryCloud({ migrated: true });
  const c = server.client();
  const row = item("1", v(1, B));
  await c.push(push([row]), 0, B);
  row.text = "changed after push";
  const [read] = await c.changes("inbox_items", start(0), 1, 10);
  read.text = "changed after read";
  assert.equal(server.rows("inbox_items")[0].text, "x");
});

Deno.test("MemoryCloud replicaPath: snapshot() writes the cloud as of the snapshot into a file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jdo-memcloud-" });
  try {
    const server = new MemoryCloud({ migrated: true });
    const writer = server.client();
    await writer.push(push([item("1", v(1, A), "one")]), 0, A); // seq 1
    await writer.push(push([item("1", v(2, A), "two"), item("2", v(2, A, 1))]), 1, A); // seq 2
    const path = `${dir}/replica.db`;
    const c = server.client({ replicaPath: path, snapshotLag: 1 });
    assert.equal(c.replicaFile(), undefined, "no file before the first snapshot");
    assert.equal(await c.snapshot(), 1);
    assert.equal(c.replicaFile(), path);
    const read = async () => {
      const db = createClient({ url: `file:${path}` });
      try {
        const rows = await queryRows(db, "SELECT id, text, _seq FROM inbox_items ORDER BY id");
        const seq = await queryRows(db, "SELECT value FROM _jdo_meta WHERE key = 'seq'");
        return { rows, seq: Number(seq[0].value) };
      } finally {
        db.close();
      }
    };
    assert.deepEqual(await read(), { rows: [{ id: "1", text: "one", _seq: 1 }], seq: 1 });
    c.setSnapshotLag(0);
    assert.equal(await c.snapshot(), 2);
    assert.deepEqual(await read(), {
      rows: [{ id: "1", text: "two", _seq: 2 }, { id: "2", text: "x", _seq: 2 }],
      seq: 2,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
