/**
 * The per-field merge through the CLI, as users meet it, against a real sqld
 * with JWT auth: three devices editing different fields of one commitment
 * keep every edit; "complete here, edit notes there" ends completed with the
 * new notes; a same-field loser is listed and restorable; a delete beats
 * concurrent edits, which stay restorable; an edit after seeing the delete is
 * refused; a device whose clock runs a year ahead is named by `sync status`.
 */
import assert from "node:assert/strict";
import { startSqld } from "../helpers/sqld.ts";
import { type Device, device, type Row, setup, status, syncNow } from "../helpers/device.ts";

interface Conflict {
  conflict_id: string;
  entity: string;
  id: string;
  field: string | null;
  kind: string;
  winner: string;
  kept: Row | null;
  lost: Row | null;
  lost_device: string | null;
  kept_device: string | null;
  resolved_at: string | null;
}

async function show(dev: Device, id: string): Promise<Row> {
  return await dev.json<Row>(["show", id, "--json"]);
}

async function conflicts(dev: Device, all = false): Promise<Conflict[]> {
  return await dev.json<Conflict[]>(["sync", "conflicts", "--json", ...(all ? ["--all"] : [])]);
}

/** Syncs every device in turn, twice: everyone has everything. */
async function settle(devices: Device[]): Promise<void> {
  for (let round = 0; round < 2; round++) {
    for (const d of devices) await syncNow(d);
  }
}

/** Sets up sync on each device (no backups: they start empty). */
async function syncedDevices(url: string, token: string, devices: Device[]): Promise<void> {
  for (const d of devices) {
    assert.equal((await setup(d, url, token, ["--no-backup"])).code, 0, d.name);
  }
}

async function threeDevices(url: string, token: string) {
  const devices = [await device("laptop"), await device("desktop"), await device("phone")];
  await syncedDevices(url, token, devices);
  return devices as [Device, Device, Device];
}

Deno.test("field merge: edits of different fields on three devices all survive, in any sync order", async () => {
  await using server = await startSqld({ auth: true });
  const token = await server.token("rw");
  const [laptop, desktop, phone] = await threeDevices(server.url, token);
  try {
    const orders: [string, Device[]][] = [
      ["laptop, desktop, phone", [laptop, desktop, phone]],
      ["phone, desktop, laptop", [phone, desktop, laptop]],
    ];
    for (const [label, order] of orders) {
      const c = await laptop.json<Row>([
        "commit",
        `Quarterly report (${label})`,
        "--to",
        "Alice",
        "--due",
        "2027-03-01",
        "--json",
      ]);
      await settle([laptop, desktop, phone]);
      await laptop.ok(["edit", c.id, "--notes", "numbers from finance"]);
      await desktop.ok(["edit", c.id, "--due", "2027-03-15"]);
      await phone.ok(["edit", c.id, "--to", "Bob"]);
      const first = [];
      for (const d of order) first.push(await syncNow(d));
      assert.deepEqual(first.map((r) => r.conflicts), [0, 0, 0], `${label}: no conflicts`);
      await settle(order);
      for (const d of [laptop, desktop, phone]) {
        const row = await show(d, c.id);
        assert.equal(row.notes, "numbers from finance", `${label}, ${d.name}: notes`);
        assert.equal(row.due_date, "2027-03-15", `${label}, ${d.name}: due date`);
        assert.equal(row.stakeholder, "Bob", `${label}, ${d.name}: stakeholder`);
      }
    }
    for (const d of [laptop, desktop, phone]) {
      assert.deepEqual(await conflicts(d, true), [], `${d.name}: nothing recorded`);
    }
  } finally {
    for (const d of [laptop, desktop, phone]) await d[Symbol.asyncDispose]();
  }
});

Deno.test("field merge: complete on one device, edit notes on another — completed with the new notes", async () => {
  await using server = await startSqld({ auth: true });
  await using laptop = await device("laptop");
  await using phone = await device("phone");
  await syncedDevices(server.url, await server.token("rw"), [laptop, phone]);
  for (const completerFirst of [true, false]) {
    const c = await laptop.json<Row>([
      "commit",
      `Ship v2 (${completerFirst})`,
      "--to",
      "Dana",
      "--due",
      "2027-05-01",
      "--json",
    ]);
    await syncNow(laptop);
    await syncNow(phone);
    await laptop.ok(["complete", c.id]);
    await phone.ok(["edit", c.id, "--notes", "released on the 3rd"]);
    const order = completerFirst ? [laptop, phone, laptop] : [phone, laptop, phone];
    for (const d of order) assert.equal((await syncNow(d)).conflicts, 0);
    for (const d of [laptop, phone]) {
      const row = await show(d, c.id);
      assert.equal(row.status, "completed", `${d.name} (${completerFirst})`);
      assert.ok(row.completed_at, "completed_at travels with the status");
      assert.equal(row.notes, "released on the 3rd", `${d.name} (${completerFirst})`);
    }
  }
});

Deno.test("field merge: the same field on two devices — later wins, the loser is listed and restorable", async () => {
  await using server = await startSqld({ auth: true });
  await using laptop = await device("laptop");
  await using phone = await device("phone");
  await syncedDevices(server.url, await server.token("rw"), [laptop, phone]);
  const c = await laptop.json<Row>([
    "commit",
    "Budget",
    "--to",
    "Eve",
    "--due",
    "2027-02-01",
    "--json",
  ]);
  await syncNow(laptop);
  await syncNow(phone);
  await laptop.ok(["edit", c.id, "--notes", "from the laptop"]);
  await new Promise((r) => setTimeout(r, 5));
  await phone.ok(["edit", c.id, "--notes", "from the phone"]);
  await syncNow(laptop);
  assert.equal((await syncNow(phone)).conflicts, 1);
  await syncNow(laptop);
  for (const d of [laptop, phone]) assert.equal((await show(d, c.id)).notes, "from the phone");

  const [conflict] = await conflicts(laptop);
  assert.equal(conflict.field, "notes");
  assert.equal(conflict.kind, "field");
  assert.equal(conflict.kept?.notes, "from the phone");
  assert.equal(conflict.lost?.notes, "from the laptop");
  assert.equal(conflict.resolved_at, null);
  const laptopId = (await status(laptop)).device_id;
  const phoneId = (await status(phone)).device_id;
  assert.deepEqual([conflict.lost_device, conflict.kept_device], [laptopId, phoneId]);
  const text = await laptop.ok(["sync", "conflicts"]);
  assert.match(text.stdout, /notes: kept "from the phone", lost "from the laptop"/);
  assert.match(text.stdout, /jdo sync conflicts restore CONFLICT_ID/);

  // Restore by prefix, on the device whose edit lost: it comes back as a new edit.
  const restored = await laptop.json<{ conflict: Conflict; row: Row }>([
    "sync",
    "conflicts",
    "restore",
    conflict.conflict_id.slice(0, 6),
    "--json",
  ]);
  assert.equal(restored.row.notes, "from the laptop");
  assert.ok(restored.conflict.resolved_at);
  assert.deepEqual(await conflicts(laptop), [], "resolved ones are hidden by default");
  assert.equal((await conflicts(laptop, true)).length, 1, "--all shows them");
  const again = await laptop.run(["sync", "conflicts", "restore", conflict.conflict_id]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already resolved/);
  await syncNow(laptop);
  await syncNow(phone);
  assert.equal((await show(phone, c.id)).notes, "from the laptop", "the restore synced");
  assert.deepEqual(await conflicts(phone), [], "resolved on every device");
  assert.equal((await status(phone)).conflicts, 0);
});

Deno.test("field merge: a delete beats concurrent edits; restore brings the row back; edits after seeing it are refused", async () => {
  await using server = await startSqld({ auth: true });
  await using laptop = await device("laptop");
  await using phone = await device("phone");
  await syncedDevices(server.url, await server.token("rw"), [laptop, phone]);
  for (const deleterFirst of [true, false]) {
    const c = await laptop.json<Row>([
      "commit",
      `Old plan (${deleterFirst})`,
      "--to",
      "Finn",
      "--due",
      "2027-04-01",
      "--json",
    ]);
    await syncNow(laptop);
    await syncNow(phone);
    await laptop.ok(["delete", c.id, "--yes"]);
    await new Promise((r) => setTimeout(r, 5));
    await phone.ok(["edit", c.id, "--notes", "still needed?"]); // later, but not after seeing it
    const order = deleterFirst ? [laptop, phone, laptop] : [phone, laptop, phone];
    for (const d of order) await syncNow(d);
    for (const d of [laptop, phone]) {
      const gone = await d.run(["show", c.id]);
      assert.equal(gone.code, 1, `${d.name}: the delete won (${deleterFirst})`);
    }
    const refused = await phone.run(["edit", c.id, "--notes", "after seeing the delete"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /was deleted on another device/);

    const lost = (await conflicts(phone)).filter((x) => x.id === c.id);
    assert.equal(lost.length, 1, JSON.stringify(lost));
    assert.equal(lost[0].kind, "delete");
    assert.equal(lost[0].lost?.notes, "still needed?");
    await phone.ok(["sync", "conflicts", "restore", lost[0].conflict_id]);
    await syncNow(phone);
    await syncNow(laptop);
    for (const d of [laptop, phone]) {
      const back = await show(d, c.id);
      assert.equal(back.notes, "still needed?", `${d.name}: undeleted with the edit`);
    }
  }
});

Deno.test("field merge: a device whose clock runs a year ahead is named by sync status", async () => {
  await using server = await startSqld({ auth: true });
  const token = await server.token("rw");
  const YEAR = 365 * 24 * 3_600_000;
  await using ahead = await device("ahead", {
    env: { JDO_TEST_CLOCK_OFFSET_MS: String(YEAR) },
  });
  await using normal = await device("normal");
  assert.equal((await setup(ahead, server.url, token, ["--no-backup"])).code, 0);
  assert.equal((await setup(normal, server.url, token, ["--no-backup"])).code, 0);
  const c = await ahead.json<Row>([
    "commit",
    "From the future",
    "--to",
    "Gus",
    "--due",
    "2028-01-01",
    "--json",
  ]);
  await syncNow(ahead);
  await syncNow(normal);
  const aheadId = (await status(ahead)).device_id;
  const s = await normal.json<{ versions_ahead: { device_id: string; ahead_ms: number }[] }>([
    "sync",
    "status",
    "--json",
  ]);
  const note = s.versions_ahead.find((v) => v.device_id === aheadId);
  assert.ok(note, JSON.stringify(s));
  assert.ok(
    note.ahead_ms > YEAR - 3_600_000 && note.ahead_ms < YEAR + 3_600_000,
    `${note.ahead_ms}`,
  );
  const text = await normal.ok(["sync", "status"]);
  assert.match(text.stdout, new RegExp(`${aheadId}.*365 d`));
  // Accepted, not refused: the edit is here, and a later edit here still wins.
  assert.equal((await show(normal, c.id)).deliverable, "From the future");
  await normal.ok(["edit", c.id, "--notes", "seen it"]);
  await syncNow(normal);
  await syncNow(ahead);
  assert.equal((await show(ahead, c.id)).notes, "seen it");
});
