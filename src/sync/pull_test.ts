/**
 * pull.ts: the cloud's changes since the watermark come in by one of three
 * paths (pages of changes(), one quick request, or the embedded replica
 * merged set-based), all with the same result; orphans are repaired; the
 * watermark moves only once everything is merged.
 */
import assert from "node:assert/strict";
import { entity, type Row } from "../db/schema.ts";
import type { Store } from "../db/store.ts";
import {
  capture,
  conflictRows,
  deleteInbox,
  editInbox,
  openPair,
  outboxKeys,
  type Pair,
  watermark,
  withReplica,
} from "../../tests/helpers/sync_pair.ts";
import {
  type MemoryClientOptions,
  type MemoryCloud,
  MemoryCloudClient,
} from "../../tests/helpers/memory_cloud.ts";
import type { Cursor, QuickChanges } from "./cloud_store.ts";
import { syncOnce } from "./engine.ts";
import { pull } from "./pull.ts";
import { push } from "./push.ts";

/** A memory cloud handle that counts which read path a pull took. */
class CountingClient extends MemoryCloudClient {
  calls = { changes: 0, quick: 0, replica: 0 };
  constructor(server: MemoryCloud, options: MemoryClientOptions) {
    super(server, options);
  }
  override changes(table: string, after: Cursor, upTo: number, limit: number): Promise<Row[]> {
    this.calls.changes++;
    return super.changes(table, after, upTo, limit);
  }
  override async quickChanges(tables: string[], after: number): Promise<QuickChanges | null> {
    const quick = await super.quickChanges(tables, after);
    if (quick) this.calls.quick++;
    return quick;
  }
  override replicaFile(): string | undefined {
    const file = super.replicaFile();
    if (file) this.calls.replica++;
    return file;
  }
}

type Path = "paged" | "quick" | "replica";
const PATHS: Path[] = ["paged", "quick", "replica"];

function handle(p: Pair, path: Path): CountingClient {
  const options = path === "quick"
    ? { quickPullLimit: 500 }
    : path === "replica"
    ? withReplica(p.a.dir)
    : {};
  return new CountingClient(p.server, options);
}

function assertPath(cloud: CountingClient, path: Path): void {
  const took = cloud.calls.quick ? "quick" : cloud.calls.replica ? "replica" : "paged";
  assert.equal(took, path);
  if (path !== "paged") assert.equal(cloud.calls.changes, 0);
}

/** What a device holds, in values only (versions differ by device id). */
async function contents(store: Store) {
  return {
    inbox: (await store.query(
      "SELECT text, status, deleted_at IS NOT NULL AS gone FROM inbox_items ORDER BY text",
    ))
      .map((r) => `${r.text}|${r.status}|${r.gone}`),
    tasks:
      (await store.query("SELECT title, deleted_at IS NOT NULL AS gone FROM tasks ORDER BY title"))
        .map((r) => `${r.title}|${r.gone}`),
    conflicts: (await conflictRows(store)).map((r) =>
      `${r.entity}|${r.field}|${r.kind}|${r.winner}|${r.lost_value}`
    ),
    queued: (await outboxKeys(store)).filter((k) => !k.startsWith("conflict:")).length,
  };
}

/** A stakeholder, a commitment and a task that both devices have. */
async function sharedCommitment(store: Store): Promise<string> {
  return await store.write(async (w) => {
    const s = await w.insert(entity("stakeholder"), { name: "Ann", type: "person" });
    const c = await w.insert(entity("commitment"), {
      deliverable: "Report",
      stakeholder_id: s.id,
      due_date: "2031-03-14",
      due_time: "17:00",
      status: "pending",
    });
    return String(c.id);
  });
}

/** Runs one scenario, pulling on A by `path`; answers what A ends with. */
async function scenario(path: Path) {
  await using p = await openPair();
  const ca = handle(p, path);
  const x = await capture(p.a.store, "x");
  const y = await capture(p.a.store, "y");
  const z = await capture(p.a.store, "z");
  const commitment = await sharedCommitment(p.a.store);
  await syncOnce(p.a.store, ca);
  await syncOnce(p.b.store, p.cb);
  p.advance();
  // A: an edit that will conflict, and a delete of the commitment.
  await editInbox(p.a.store, x, { text: "x by A" });
  await p.a.store.write((w) => w.tombstone(entity("commitment"), commitment));
  p.advance();
  // B: the later edit of x, other changes, and a task under the commitment A deleted.
  await editInbox(p.b.store, x, { text: "x by B" });
  await editInbox(p.b.store, y, { status: "triaged" });
  await deleteInbox(p.b.store, z);
  await capture(p.b.store, "w by B");
  await p.b.store.write((w) =>
    w.insert(entity("task"), { commitment_id: commitment, title: "task by B", status: "pending" })
  );
  await push(p.b.store, p.cb, {});

  ca.calls = { changes: 0, quick: 0, replica: 0 };
  const result = await pull(p.a.store, ca, {});
  assertPath(ca, path);
  assert.equal(await watermark(p.a.store), p.server.seq, `${path}: the watermark moved`);
  return {
    pulled: result.pulled,
    reported: result.conflicts.length,
    ...await contents(p.a.store),
  };
}

Deno.test("pull: the paged, quick and replica paths give the same result", async () => {
  const [paged, ...others] = await Promise.all(PATHS.map(scenario));
  assert.deepEqual(paged.inbox, ["w by B|open|0", "x by B|open|0", "y|triaged|0", "z|open|1"]);
  assert.deepEqual(paged.tasks, ["task by B|1"], "the orphaned task was repaired (cascade)");
  assert.deepEqual(paged.conflicts, ['inbox|text|field|remote|{"text":"x by A"}']);
  assert.equal(paged.reported, 1, "the conflict is reported by pull");
  // Queued after the pull: the commitment delete and the repaired task.
  assert.equal(paged.queued, 2);
  for (const [i, other] of others.entries()) {
    assert.deepEqual(
      { ...other, pulled: undefined },
      { ...paged, pulled: undefined },
      `${PATHS[i + 1]} path differs from paged`,
    );
  }
});

Deno.test("pull: nothing new in the cloud leaves everything as it was", async () => {
  for (const path of PATHS) {
    await using p = await openPair();
    const ca = handle(p, path);
    await capture(p.a.store, "mine");
    await syncOnce(p.a.store, ca);
    const before = await watermark(p.a.store);
    const result = await pull(p.a.store, ca, {});
    assert.deepEqual([result.pulled, result.conflicts.length], [0, 0], path);
    assert.equal(await watermark(p.a.store), before, path);
  }
});

Deno.test("pull: cut off midway, the watermark stays; the retry completes", async () => {
  await using p = await openPair();
  const ca = handle(p, "paged");
  await syncOnce(p.a.store, ca);
  const before = await watermark(p.a.store);
  await p.b.store.write((w) => w.insert(entity("stakeholder"), { name: "Bo", type: "person" }));
  const item = await capture(p.b.store, "from B");
  await syncOnce(p.b.store, p.cb);

  // Stakeholders are read first; the next table's read is cut.
  ca.failChangesAfter(1);
  await assert.rejects(pull(p.a.store, ca, {}));
  assert.equal(await watermark(p.a.store), before);
  assert.ok(await p.a.store.one("SELECT 1 FROM stakeholders WHERE name = 'Bo'"), "merged already");
  assert.equal(await p.a.store.one("SELECT 1 FROM inbox_items WHERE id = ?", [item]), undefined);

  const result = await pull(p.a.store, ca, {});
  assert.equal(result.pulled, 1, "the stakeholder merged again is a no-op");
  assert.ok(await p.a.store.one("SELECT 1 FROM inbox_items WHERE id = ?", [item]));
  assert.equal(await watermark(p.a.store), p.server.seq);
});

Deno.test("pull: a quick pull over the store's limit falls back to the replica", async () => {
  await using p = await openPair();
  const ca = new CountingClient(p.server, { ...withReplica(p.a.dir), quickPullLimit: 2 });
  await syncOnce(p.a.store, ca);
  for (const text of ["one", "two", "three"]) await capture(p.b.store, text);
  await syncOnce(p.b.store, p.cb);
  ca.calls = { changes: 0, quick: 0, replica: 0 };
  const result = await pull(p.a.store, ca, {});
  assertPath(ca, "replica");
  assert.equal(result.pulled, 3);
  assert.equal(await watermark(p.a.store), p.server.seq);
});
