/**
 * Upgrade path of the per-field merge: a working database written by the v1
 * release (tests/fixtures/v1/jdo.db, made by scripts/make_upgrade_fixture.sh
 * from the released commit) and a cloud created by v1 both upgrade in place,
 * with their data, and then merge per field. The rows' versions survive the
 * upgrade unchanged, so the upgraded device and the upgraded cloud agree
 * without re-uploading anything or recording a conflict.
 */
import assert from "node:assert/strict";
import { createClient, type InStatement } from "@libsql/client";
import { join } from "node:path";
import { MIGRATIONS, MIGRATIONS_TABLE, SYNCED_TABLES_V1 } from "../../src/db/migrations.ts";
import type { Row as DbRow } from "../../src/db/schema.ts";
import { isolatedFetch, startSqld } from "../helpers/sqld.ts";
import { type Device, device, type Row, setup, status, syncNow } from "../helpers/device.ts";

const FIXTURE = new URL("../fixtures/v1/jdo.db", import.meta.url);
/** The domain tables of schema 1 (the conflict log of the fixture is empty). */
const V1_TABLES = SYNCED_TABLES_V1.filter((t) => t !== "_sync_conflicts");

async function withFixture(name: string): Promise<Device> {
  const dev = await device(name);
  await Deno.mkdir(dev.home, { recursive: true });
  await Deno.copyFile(FIXTURE, join(dev.home, "jdo.db"));
  return dev;
}

async function fixtureRows(): Promise<Record<string, DbRow[]>> {
  const client = createClient({ url: `file:${new URL(FIXTURE).pathname}` });
  try {
    const out: Record<string, DbRow[]> = {};
    for (const table of V1_TABLES) {
      const rs = await client.execute(`SELECT * FROM ${table} ORDER BY id`);
      out[table] = rs.rows.map((r) => ({ ...r }) as unknown as DbRow);
    }
    return out;
  } finally {
    client.close();
  }
}

Deno.test("upgrade: a v1 working database migrates in place, keeps its data, and merges per field", async () => {
  await using laptop = await withFixture("laptop");
  const before = await fixtureRows();
  const listed = await laptop.json<Row[]>(["list", "commitments", "--all", "--json"]);
  const live = before.commitments.filter((r) => r.deleted_at === null);
  assert.deepEqual(listed.map((r) => r.id).sort(), live.map((r) => r.id).sort());
  for (const r of listed) {
    const old = before.commitments.find((o) => o.id === r.id)!;
    assert.equal(r.version, old.version, "versions are kept by the upgrade");
    assert.equal(r.deliverable, old.deliverable);
    assert.equal(r.notes, old.notes);
  }
  const db = await laptop.json<{ schema_version: number; latest_schema_version: number }>([
    "db",
    "status",
    "--json",
  ]);
  assert.equal(db.schema_version, db.latest_schema_version);

  // Upload to a new cloud, a second device downloads, then both edit
  // different fields of one upgraded row: both edits survive.
  await using server = await startSqld({ auth: true });
  const token = await server.token("rw");
  assert.equal((await setup(laptop, server.url, token, ["--no-backup"])).code, 0);
  await using phone = await device("phone");
  assert.equal((await setup(phone, server.url, token)).code, 0);
  const c = live.find((r) => r.status === "pending")!;
  await laptop.ok(["edit", String(c.id), "--notes", "upgraded notes"]);
  await phone.ok(["edit", String(c.id), "--due", "2027-06-30"]);
  await syncNow(laptop);
  assert.equal((await syncNow(phone)).conflicts, 0);
  await syncNow(laptop);
  for (const d of [laptop, phone]) {
    const row = await d.json<Row>(["show", String(c.id), "--json"]);
    assert.equal(row.notes, "upgraded notes", d.name);
    assert.equal(row.due_date, "2027-06-30", d.name);
  }
});

Deno.test("upgrade: a cloud created by v1 is migrated in place with its rows; an upgraded v1 device matches it", async () => {
  await using server = await startSqld({ auth: true });
  const token = await server.token("rw");
  // The cloud as the v1 release left it: migration 1 only, the fixture's rows at _seq 1.
  const http = isolatedFetch();
  const cloud = createClient({ url: server.url, authToken: token, fetch: http.fetch });
  try {
    const rows = await fixtureRows();
    const statements: InStatement[] = [
      MIGRATIONS_TABLE,
      ...MIGRATIONS[0].statements("cloud"),
      {
        sql: "INSERT INTO _migrations (version, name, applied_at) VALUES (1, ?, ?)",
        args: [MIGRATIONS[0].name, new Date().toISOString()],
      },
      "UPDATE _jdo_meta SET value = '1' WHERE key = 'seq'",
    ];
    for (const table of V1_TABLES) {
      for (const row of rows[table]) {
        const columns = Object.keys(row);
        statements.push({
          sql: `INSERT INTO ${table} (${[...columns, "_seq"].map((c) => `"${c}"`).join(", ")})
                VALUES (${[...columns, "_seq"].map(() => "?").join(", ")})`,
          args: [...columns.map((c) => row[c]), 1],
        });
      }
    }
    await cloud.batch(statements, "write");

    // A new device joins: the cloud is upgraded first, then downloaded.
    await using desk = await device("desk");
    assert.equal((await setup(desk, server.url, token)).code, 0);
    const version = await cloud.execute("SELECT max(version) AS v FROM _migrations");
    assert.equal(Number(version.rows[0].v), MIGRATIONS[MIGRATIONS.length - 1].version);
    const fv = await cloud.execute("SELECT count(*) AS n FROM commitments WHERE _fv IS NULL");
    assert.equal(Number(fv.rows[0].n), 0, "every cloud row has per-field versions");
    const onDesk = await desk.json<Row[]>(["list", "commitments", "--all", "--json"]);
    assert.equal(onDesk.length, rows.commitments.filter((r) => r.deleted_at === null).length);

    // The device the v1 release left behind (its own copy of the same rows,
    // with its v1 queue still full) upgrades and joins: nothing conflicts.
    await using laptop = await withFixture("laptop");
    assert.equal((await setup(laptop, server.url, token, ["--no-backup"])).code, 0);
    assert.equal((await syncNow(laptop)).conflicts, 0);
    assert.equal((await status(laptop)).pending_changes, 0);
    const c = onDesk.find((r) => r.status === "pending")!;
    await desk.ok(["edit", c.id, "--notes", "edited on desk"]);
    await laptop.ok(["complete", c.id]);
    await syncNow(desk);
    await syncNow(laptop);
    await syncNow(desk);
    for (const d of [desk, laptop]) {
      const row = await d.json<Row>(["show", c.id, "--json"]);
      assert.equal(row.notes, "edited on desk", d.name);
      assert.equal(row.status, "completed", d.name);
    }
  } finally {
    cloud.close();
    http.close();
  }
});
