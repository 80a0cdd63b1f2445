import assert from "node:assert/strict";
import { JdoError } from "../errors.ts";
import { openTempStore } from "../../tests/helpers/temp_store.ts";
import { oneChunk } from "./json_stream.ts";
import { importStream, writeExport } from "./transfer.ts";

const dates = { now: new Date("2026-11-27T12:00:00Z"), timeZone: "UTC" };
const S = "00000000-0000-4000-8000-00000000000a";

function uuid(n: number): string {
  return `${n.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000`;
}

function exportDoc(ids: string[]): string {
  return JSON.stringify({
    format: "jdo-export",
    format_version: 1,
    schema_version: 1,
    stakeholders: [{ id: S, name: "Alex", type: "person" }],
    commitments: ids.map((id, i) => ({
      id,
      deliverable: `d${i}`,
      stakeholder_id: S,
      due_date: "2026-12-01",
      due_time: "17:00",
      status: "pending",
    })),
  });
}

async function* pieces(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

Deno.test("importStream: an id repeated in a later chunk fails the whole import", async () => {
  await using t = await openTempStore();
  const ids = Array.from({ length: 4500 }, (_, i) => uuid(i + 1));
  ids[4100] = ids[3];
  await assert.rejects(
    () => importStream(t.store, pieces(exportDoc(ids), 4096), dates),
    (e: unknown) =>
      e instanceof JdoError &&
      /commitments\[4100\]: id .* appears twice \(also at commitments\[3\]\)/
        .test(e.message),
  );
  const n = await t.store.one("SELECT count(*) AS n FROM commitments");
  assert.equal(n?.n, 0, "nothing was imported");
});

Deno.test("importStream: many chunks in, the same rows out; a second run skips them all", async () => {
  await using t = await openTempStore();
  const ids = Array.from({ length: 1200 }, (_, i) => uuid(i + 1));
  const first = await importStream(t.store, pieces(exportDoc(ids), 777), dates);
  assert.deepEqual(first, {
    imported: 1201,
    skipped: 0,
    deleted: 0,
    restored: 0,
    byKind: { stakeholders: 1, commitments: 1200 },
  });
  const again = await importStream(t.store, oneChunk(exportDoc(ids)), dates, undefined, {
    bulk: true,
  });
  assert.deepEqual(again, { imported: 0, skipped: 1201, deleted: 0, restored: 0, byKind: {} });
  // The export, written a page at a time, is one pretty-printed document.
  let text = "";
  const counts = await writeExport(t.store, dates.now, (lines) => {
    text += lines + "\n";
  });
  assert.equal(counts.commitments, 1200);
  const doc = JSON.parse(text);
  assert.equal(text, JSON.stringify(doc, null, 2) + "\n");
  assert.deepEqual(doc.commitments.map((c: { id: string }) => c.id), [...ids].sort());
});

Deno.test("importStream: a list of commitments repeating an item across chunks imports it once", async () => {
  await using t = await openTempStore();
  const items = Array.from({ length: 700 }, (_, i) => ({
    deliverable: `item ${i % 600}`,
    to: "Alex",
    due: "2026-12-01",
  }));
  const r = await importStream(t.store, pieces(JSON.stringify(items), 1000), dates);
  assert.equal(r.imported, 600);
  assert.equal(r.skipped, 100);
});

Deno.test("importStream: a large file's commitments join a same-named stakeholder here, whatever the order", async () => {
  // Another device's export: its own "alex" (another id), commitments listed first and
  // more than one chunk of them, so they are inserted before its stakeholders are read.
  const other = "00000000-0000-4000-8000-0000000000bb";
  const ids = Array.from({ length: 4500 }, (_, i) => uuid(i + 100));
  const doc = JSON.parse(exportDoc(ids));
  const file = JSON.stringify({
    format: doc.format,
    format_version: 1,
    schema_version: 1,
    commitments: doc.commitments.map((c: Record<string, unknown>) => ({
      ...c,
      stakeholder_id: other,
    })),
    stakeholders: [{ id: other, name: "alex", type: "person" }],
  });
  for (const bulk of [false, true]) {
    await using t = await openTempStore();
    const here = await importStream(t.store, oneChunk(exportDoc([uuid(1)])), dates);
    assert.equal(here.imported, 2);
    const result = await importStream(t.store, pieces(file, 8192), dates, undefined, { bulk });
    assert.equal(result.imported, 4500, `bulk ${bulk}`);
    assert.equal(result.skipped, 1, "the file's alex is not added");
    const owners = await t.store.query(
      "SELECT stakeholder_id AS s, count(*) AS n FROM commitments GROUP BY stakeholder_id",
    );
    assert.deepEqual(owners, [{ s: S, n: 4501 }], `bulk ${bulk}`);
  }
});
