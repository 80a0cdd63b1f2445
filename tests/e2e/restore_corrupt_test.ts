/**
 * `db restore` must rescue a working database that SQLite can no longer
 * read: the broken file is copied aside byte for byte (with -wal/-shm), not
 * backed up through SQL, which fails on it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { device, exists, ids, type Row } from "../helpers/device.ts";

/** Checkpoints the WAL into jdo.db, then overwrites every page after the first with junk. */
async function corrupt(db: string): Promise<void> {
  const client = createClient({ url: `file:${db}` });
  await client.execute("PRAGMA wal_checkpoint(TRUNCATE)");
  client.close();
  const file = await Deno.open(db, { read: true, write: true });
  try {
    const size = (await file.stat()).size;
    await file.seek(4096, Deno.SeekMode.Start);
    await file.write(new Uint8Array(size - 4096).fill(0xa5));
  } finally {
    file.close();
  }
}

Deno.test("db restore: a corrupt jdo.db is copied aside byte for byte, then replaced", async () => {
  await using a = await device("A");
  const kept = await a.json<Row>(["capture", "kept in the backup", "--json"]);
  const good = join(a.home, "good.db");
  await a.ok(["db", "backup", "--out", good]);
  await a.ok(["capture", "only in the broken file"]);
  const db = join(a.home, "jdo.db");
  await corrupt(db);
  await Deno.writeTextFile(db + "-wal", "not a wal"); // a leftover -wal goes aside too
  const brokenBytes = await Deno.readFile(db);

  const broken = await a.run(["list", "inbox", "--json"]);
  assert.notEqual(broken.code, 0, "the corrupt file really is unreadable");
  assert.match(broken.stderr, /malformed|not a database|corrupt/i);

  const restored = await a.run(["db", "restore", good, "--yes"]);
  assert.equal(restored.code, 0, restored.stderr);
  const m = /copied it byte for byte to (\S+?\.db)(?:,|$)/m.exec(restored.stderr);
  assert.ok(m, `says where the broken file went: ${restored.stderr}`);
  const aside = m[1];
  assert.ok(aside.startsWith(join(a.home, "backups")), aside);
  assert.deepEqual(await Deno.readFile(aside), brokenBytes, "an exact copy");
  assert.equal(await Deno.readTextFile(aside + "-wal"), "not a wal");
  assert.match(restored.stderr, new RegExp(`${aside}-wal`));
  assert.equal((await Deno.stat(aside)).mode! & 0o777, 0o600);

  assert.deepEqual(await ids(a, "inbox"), [kept.id]);
  assert.equal(
    await exists(db + "-wal") && (await Deno.readTextFile(db + "-wal")) === "not a wal",
    false,
  );
});

Deno.test("db restore: a readable jdo.db is still backed up consistently first", async () => {
  await using a = await device("A");
  await a.ok(["capture", "one"]);
  const good = join(a.home, "good.db");
  await a.ok(["db", "backup", "--out", good]);
  await a.ok(["capture", "two"]);
  const restored = await a.run(["db", "restore", good, "--yes"]);
  assert.equal(restored.code, 0, restored.stderr);
  const m = /Backed up the current database to (\S+\.db)/.exec(restored.stderr);
  assert.ok(m, restored.stderr);
  assert.equal(await exists(m[1] + "-wal"), false, "a single consistent file");
  assert.equal((await ids(a, "inbox")).length, 1);
});
