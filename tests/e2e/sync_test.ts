/**
 * Cloud sync end to end: real jdo processes ("devices", each with its own
 * JDO_HOME) against a real sqld with JWT auth. Failure modes (offline, dead
 * network, bad setup input, cut connections) are in sync_failures_test.ts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSqld } from "../helpers/sqld.ts";
import { testNow } from "../helpers/test_clock.ts";
import {
  device,
  exists,
  filesUnder,
  ids,
  readJsonIfExists,
  type Row,
  setup,
  sleep,
  status,
  syncNow,
} from "../helpers/device.ts";

interface Settings {
  turso_enabled: boolean;
  turso_db_url: string | null;
  device_id: string;
}

interface Conflict {
  entity: string;
  id: string;
  winner: "local" | "remote";
  local: Row;
  remote: Row;
  resolved_at: string | null;
  conflict_id: string;
  detected_by: string;
  field: string | null;
  kind: string;
  kept: Row | null;
  lost: Row | null;
}

function mode(path: string): number {
  return Deno.statSync(path).mode! & 0o777;
}

Deno.test("sync: upload, second device, edits both ways, delete propagation", async (t) => {
  await using server = await startSqld({ auth: true });
  const token = await server.token("rw");
  await using a = await device("A");
  await using b = await device("B");
  const created: Row[] = [];
  let inboxId = "";

  await t.step(
    "1. setup with local data uploads it, backs up, stores settings and token",
    async () => {
      created.push(
        await a.json<Row>([
          "commit",
          "Quarterly report",
          "--to",
          "Alice",
          "--due",
          "2026-12-01",
          "--json",
        ]),
      );
      // Further writes run concurrently (the database must not report "locked").
      const [c2, c3, inbox] = await Promise.all([
        a.json<Row>(["commit", "Budget draft", "--to", "Bob", "--due", "2026-12-02", "--json"]),
        a.json<Row>(["commit", "Team offsite", "--to", "Carol", "--due", "2026-12-03", "--json"]),
        a.json<Row>(["capture", "call the plumber", "--json"]),
      ]);
      created.push(c2, c3);
      inboxId = inbox.id;
      // 3 commitments + 3 stakeholders + 1 inbox item.
      const r = await setup(a, server.url, token);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /↑ 7 uploaded, ↓ 0 downloaded/);

      const backups = await filesUnder(join(a.home, "backups"));
      assert.equal(backups.length, 1, `backups: ${backups}`);
      assert.match(backups[0], /jdo-\d{8}-\d{6}\.db$/);
      assert.equal(mode(backups[0]), 0o600);

      const settings = await readJsonIfExists<Settings>(join(a.home, "settings.json"));
      assert.equal(settings?.turso_enabled, true);
      assert.equal(settings?.turso_db_url, server.url);
      assert.match(settings?.device_id ?? "", /^[0-9a-f]{12}$/);

      const authPath = join(a.home, "auth.json");
      assert.equal(mode(authPath), 0o600);
      const auth = await readJsonIfExists<Record<string, { token: string }>>(authPath);
      assert.equal(auth?.turso?.token, token);

      const st = await status(a);
      assert.deepEqual(
        [st.enabled, st.state, st.url, st.last_result, st.pending_changes, st.token_source],
        [true, "online", server.url, "ok", 0, "auth_store"],
      );
      assert.equal(st.device_id, settings?.device_id);

      // The token appears in no output and no log file.
      const logs = await filesUnder(join(a.home, "logs"));
      assert.ok(logs.length >= 1, "a sync log is written");
      const signature = token.split(".")[2];
      for (const file of logs) {
        const text = await Deno.readTextFile(file);
        assert.ok(!text.includes(signature), `token found in ${file}`);
      }
      for (const text of a.transcript) {
        assert.ok(
          !text.includes(signature),
          `token in output: ${text}`,
        );
      }
    },
  );

  await t.step("2. a second device downloads everything", async () => {
    const r = await setup(b, server.url, token);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /↑ 0 uploaded, ↓ 7 downloaded/);
    // An empty device has nothing to back up.
    assert.deepEqual(await filesUnder(join(b.home, "backups")), []);
    // The first download ran with a rollback journal; the database is in WAL mode again
    // (header bytes 18 and 19, the file format's write and read versions, are 2 for WAL).
    const header = (await Deno.readFile(join(b.home, "jdo.db"))).subarray(18, 20);
    assert.deepEqual([...header], [2, 2], "jdo.db is back in WAL mode");
    const [aIds, bIds, bInbox, aStatus, bStatus] = await Promise.all([
      ids(a),
      ids(b),
      ids(b, "inbox"),
      status(a),
      status(b),
    ]);
    assert.deepEqual(bIds, created.map((r) => r.id).sort());
    assert.deepEqual(bIds, aIds);
    assert.deepEqual(bInbox, [inboxId]);
    assert.notEqual(aStatus.device_id, bStatus.device_id);
    const shown = await b.json<Row>(["show", created[0].id, "--json"]);
    assert.equal(shown.deliverable, "Quarterly report");
    assert.equal(shown.stakeholder, "Alice");
    assert.equal(shown.due_date, "2026-12-01");
  });

  await t.step("3. edits both ways and a delete that takes the tasks with it", async () => {
    const [c1, c2, c3] = created.map((r) => r.id);
    const tasks = await Promise.all([
      a.json<Row>(["task", "add", c3, "Book venue", "--json"]),
      a.json<Row>(["task", "add", c3, "Send invites", "--json"]),
    ]);
    const [, , bNew] = await Promise.all([
      a.ok(["edit", c1, "--deliverable", "Quarterly report v2"]),
      b.ok(["edit", c2.slice(0, 8), "--notes", "numbers from finance"]),
      b.json<Row>(["capture", "idea from B", "--json"]),
    ]);
    const first = await syncNow(a);
    // c1 edit + 2 tasks + their 2 task history entries ("created")
    assert.deepEqual([first.ok, first.pushed, first.pulled], [true, 5, 0]);
    const second = await syncNow(b);
    assert.deepEqual([second.pushed, second.pulled, second.conflicts], [2, 5, 0]);
    assert.deepEqual([(await syncNow(a)).pulled, (await syncNow(b)).pulled], [2, 0]);

    for (const dev of [a, b]) {
      const [one, two, three, inbox] = await Promise.all([
        dev.json<Row>(["show", c1, "--json"]),
        dev.json<Row>(["show", c2, "--json"]),
        dev.json<Row & { tasks: Row[] }>(["show", c3, "--json"]),
        ids(dev, "inbox"),
      ]);
      assert.equal(one.deliverable, "Quarterly report v2", dev.name);
      assert.equal(two.notes, "numbers from finance", dev.name);
      assert.deepEqual(three.tasks.map((x) => x.id).sort(), tasks.map((x) => x.id).sort());
      assert.deepEqual(inbox, [inboxId, bNew.id].sort(), dev.name);
    }

    const del = await a.json<{ deleted: number }>(["delete", c3, "--yes", "--json"]);
    assert.equal(del.deleted, 3);
    assert.equal((await syncNow(a)).pushed, 3);
    assert.equal((await syncNow(b)).pulled, 3);
    const [bIds, bTasks, shown, shownTask] = await Promise.all([
      ids(b),
      ids(b, "tasks"),
      b.run(["show", c3]),
      b.run(["show", tasks[0].id]),
    ]);
    assert.deepEqual(bIds, [c1, c2].sort());
    assert.deepEqual(bTasks, []);
    assert.equal(shown.code, 1, shown.stderr);
    assert.equal(shownTask.code, 1, shownTask.stderr);
    assert.equal((await status(a)).pending_changes, 0);
    assert.equal((await status(b)).pending_changes, 0);
  });
});

Deno.test("sync: the same row edited on two devices — later edit wins, conflict log syncs", async () => {
  await using server = await startSqld({ auth: true });
  const token = await server.token("rw");
  await using a = await device("A");
  await using b = await device("B");
  const x = await a.json<Row>([
    "commit",
    "X original",
    "--to",
    "Dana",
    "--due",
    "2026-12-10",
    "--json",
  ]);
  const y = await a.json<Row>([
    "commit",
    "Y original",
    "--to",
    "Dana",
    "--due",
    "2026-12-11",
    "--json",
  ]);
  assert.equal((await setup(a, server.url, token, ["--no-backup"])).code, 0);
  assert.equal((await setup(b, server.url, token)).code, 0);

  // Interleaved edits, each strictly later than the one before.
  await a.ok(["edit", x.id, "--deliverable", "X from A"]);
  await b.ok(["edit", y.id, "--deliverable", "Y from B"]);
  await sleep(5);
  await b.ok(["edit", x.id, "--deliverable", "X from B"]);
  await a.ok(["edit", y.id, "--deliverable", "Y from A"]);

  const s1 = await syncNow(a);
  assert.deepEqual([s1.pushed, s1.conflicts], [2, 0]);
  const s2 = await syncNow(b);
  assert.equal(s2.conflicts, 2);
  const s3 = await syncNow(a);
  assert.equal(s3.conflicts, 0);
  await syncNow(b);

  for (const dev of [a, b]) {
    const [rx, ry] = await Promise.all([
      dev.json<Row>(["show", x.id, "--json"]),
      dev.json<Row>(["show", y.id, "--json"]),
    ]);
    assert.equal(rx.deliverable, "X from B", `${dev.name}: X`);
    assert.equal(ry.deliverable, "Y from A", `${dev.name}: Y`);
  }

  const bStatus = await status(b);
  const onB = await b.json<Conflict[]>(["sync", "conflicts", "--json"]);
  assert.equal(onB.length, 2);
  const cx = onB.find((c) => c.id === x.id)!;
  const cy = onB.find((c) => c.id === y.id)!;
  assert.ok(cx && cy, JSON.stringify(onB));
  assert.equal(cx.entity, "commitment");
  assert.equal(cx.winner, "local");
  assert.equal(cx.local.deliverable, "X from B");
  assert.equal(cx.remote.deliverable, "X from A"); // the losing edit is kept
  assert.equal(cy.winner, "remote");
  assert.equal(cy.local.deliverable, "Y from B"); // the losing edit is kept
  assert.equal(cy.remote.deliverable, "Y from A");
  for (const c of onB) {
    assert.equal(c.detected_by, bStatus.device_id);
    // Full row snapshots, not just the changed column.
    for (const snap of [c.local, c.remote]) {
      assert.equal(snap.id, c.id);
      assert.equal(snap.due_date, c.id === x.id ? "2026-12-10" : "2026-12-11");
      assert.ok(snap.stakeholder_id && snap.version && snap.created_at, JSON.stringify(snap));
    }
    // Open until restored; one record per lost field, with both values.
    assert.equal(c.resolved_at, null);
    assert.equal(c.field, "deliverable");
    assert.equal(c.kind, "field");
    const [kept, lost] = c.id === x.id ? ["X from B", "X from A"] : ["Y from A", "Y from B"];
    assert.deepEqual([c.kept?.deliverable, c.lost?.deliverable], [kept, lost]);
  }
  const bLog = await Deno.readTextFile(join(b.home, "logs", "jdo.log"));
  assert.match(
    bLog,
    new RegExp(`conflict field commitment ${x.id} field=deliverable winner=local`),
  );
  assert.match(
    bLog,
    new RegExp(`conflict field commitment ${y.id} field=deliverable winner=remote`),
  );

  // The conflict log itself synced to A.
  const onA = await a.json<Conflict[]>(["sync", "conflicts", "--json"]);
  const key = (c: Conflict) => `${c.conflict_id}|${c.id}|${c.winner}|${c.local.deliverable}`;
  assert.deepEqual(onA.map(key).sort(), onB.map(key).sort());
  assert.equal((await status(a)).conflicts, 2);
  assert.equal(bStatus.conflicts, 2);
  const text = await a.ok(["sync", "conflicts"]);
  assert.match(text.stdout, /deliverable: kept "X from B", lost "X from A"/);
});

Deno.test("sync: a device whose clock runs 1 h fast does not win against a later edit", async () => {
  await using server = await startSqld({ auth: true });
  const token = await server.token("rw");
  await using a = await device("A", { env: { JDO_TEST_CLOCK_OFFSET_MS: "3600000" } });
  await using b = await device("B");
  const x = await a.json<Row>(["commit", "Skewed", "--to", "Eve", "--due", "2026-12-20", "--json"]);
  // The offset is honoured: A stamps times an hour ahead.
  assert.ok(
    Date.parse(String(x.created_at)) > testNow().getTime() + 50 * 60_000,
    String(x.created_at),
  );
  assert.equal((await setup(a, server.url, token, ["--no-backup"])).code, 0);
  assert.equal((await setup(b, server.url, token)).code, 0);

  const byA = await a.json<Row>(["edit", x.id, "--deliverable", "edited on A", "--json"]);
  await syncNow(a);
  assert.equal((await syncNow(b)).pulled, 1);
  const byB = await b.json<Row>(["edit", x.id, "--deliverable", "edited on B", "--json"]);
  // B's wall clock is an hour behind A's version, yet its version orders after it.
  assert.ok(String(byB.version) > String(byA.version), `${byB.version} <= ${byA.version}`);
  assert.equal((await syncNow(b)).pushed, 1);
  assert.equal((await syncNow(a)).pulled, 1);

  for (const dev of [a, b]) {
    const row = await dev.json<Row>(["show", x.id, "--json"]);
    assert.equal(row.deliverable, "edited on B", dev.name);
    assert.equal(row.version, byB.version, dev.name);
  }
  const [sa, sb] = await Promise.all([status(a), status(b)]);
  assert.deepEqual([sa.conflicts, sb.conflicts, sa.pending_changes, sb.pending_changes], [
    0,
    0,
    0,
    0,
  ]);
});

Deno.test("sync: disable keeps local data; re-setup syncs what was written meanwhile", async () => {
  await using server = await startSqld({ auth: true });
  const token = await server.token("rw");
  await using a = await device("A");
  await using b = await device("B");
  const c = await a.json<Row>([
    "commit",
    "Keep me",
    "--to",
    "Finn",
    "--due",
    "2026-12-05",
    "--json",
  ]);
  assert.equal((await setup(a, server.url, token, ["--no-backup"])).code, 0);
  assert.ok(await exists(join(a.home, "cloud")));

  const off = await a.ok(["sync", "disable", "--yes"]);
  assert.match(off.stdout, /Sync is off/);
  const st = await status(a);
  assert.deepEqual([st.enabled, st.state], [false, "disabled"]);
  const auth = await readJsonIfExists<Record<string, unknown>>(join(a.home, "auth.json"));
  assert.equal(auth?.turso, undefined);
  assert.equal(await exists(join(a.home, "cloud")), false);
  const settings = await readJsonIfExists<Settings>(join(a.home, "settings.json"));
  assert.equal(settings?.turso_enabled, false);
  assert.deepEqual(await ids(a), [c.id]);
  const again = await a.ok(["sync", "disable", "--yes"]);
  assert.match(again.stdout, /already/i);
  const now = await a.run(["sync", "now"]);
  assert.equal(now.code, 1);

  // Written while sync is off: goes up with the next setup.
  const later = await a.json<Row>(["capture", "written while off", "--json"]);
  const re = await setup(a, server.url, token, ["--no-backup"]);
  assert.equal(re.code, 0, re.stderr);
  assert.match(re.stdout, /↑ 1 uploaded, ↓ 0 downloaded/);
  // Replacing a working configuration needs --yes when not on a terminal.
  const replace = await a.run(["sync", "setup", "--url", server.url, "--token-stdin"], {
    stdin: token,
  });
  assert.equal(replace.code, 2, replace.stderr);
  assert.match(replace.stderr, /already set up/);
  assert.equal((await status(a)).state, "online");
  assert.equal((await setup(b, server.url, token)).code, 0);
  assert.deepEqual(await ids(b), [c.id]);
  assert.deepEqual(await ids(b, "inbox"), [later.id]);
});

Deno.test("sync: automatic background sync after a write", async () => {
  await using server = await startSqld({ auth: true });
  const token = await server.token("rw");
  await using a = await device("A");
  await using b = await device("B");
  await Promise.all([setup(a, server.url, token), setup(b, server.url, token)]);

  const auto = { env: { JDO_SYNC_AUTO: "1" } };
  const x = await a.json<Row>(["capture", "synced by itself", "--json"], auto);
  let seen = false;
  const deadline = Date.now() + 10_000;
  while (!seen && Date.now() < deadline) {
    await syncNow(b);
    seen = (await ids(b, "inbox")).includes(x.id);
    if (!seen) await sleep(200);
  }
  assert.ok(seen, "B did not receive A's capture within 10 s");
  // A's detached sync finishes and leaves nothing pending (and no lock behind).
  let st = await status(a);
  while (
    (st.pending_changes > 0 || await exists(join(a.home, "sync.lock"))) &&
    Date.now() < deadline + 5_000
  ) {
    await sleep(200);
    st = await status(a);
  }
  assert.equal(st.pending_changes, 0);
  assert.equal(st.last_result, "ok");
  assert.equal(await exists(join(a.home, "sync.lock")), false);
  // The log file also never holds the token.
  const log = await Deno.readTextFile(join(a.home, "logs", "jdo.log"));
  assert.ok(!log.includes(token.split(".")[2]));
});

Deno.test("sync: commands when sync is not set up", async () => {
  await using a = await device("A");
  const [now, st, conflicts, disable] = await Promise.all([
    a.run(["sync", "now"]),
    status(a),
    a.json<unknown[]>(["sync", "conflicts", "--json"]),
    a.run(["sync", "disable", "--yes"]),
  ]);
  assert.equal(now.code, 1);
  assert.equal(now.stdout, "");
  assert.equal(now.stderr.trimEnd().split("\n").length, 1, now.stderr);
  assert.match(now.stderr, /not set up/);
  assert.deepEqual([st.enabled, st.state, st.url, st.pending_changes], [
    false,
    "disabled",
    null,
    0,
  ]);
  assert.deepEqual(conflicts, []);
  assert.equal(disable.code, 0);
  assert.match(disable.stdout, /already/i);
});

Deno.test("sync: setup on a device with its own data merges it, or sets it aside with --discard-local", async () => {
  await using server = await startSqld({ auth: true });
  const token = await server.token("rw");
  await using a = await device("A");
  await using b = await device("B");
  await using c = await device("C");
  const [fromA, fromB, fromC] = await Promise.all([
    a.json<Row>(["commit", "From A", "--to", "Hana", "--due", "2026-12-01", "--json"]),
    b.json<Row>(["commit", "From B", "--to", "Ivan", "--due", "2026-12-02", "--json"]),
    c.json<Row>(["commit", "From C", "--to", "Jo", "--due", "2026-12-03", "--json"]),
  ]);
  assert.equal((await setup(a, server.url, token)).code, 0);

  // B uploads its data and downloads A's.
  const rb = await setup(b, server.url, token);
  assert.equal(rb.code, 0, rb.stderr);
  assert.match(rb.stdout, /↑ 2 uploaded, ↓ 2 downloaded/);

  // C starts from the cloud's data; its own commitment stays only in a backup.
  const rc = await setup(c, server.url, token, ["--discard-local"]);
  assert.equal(rc.code, 0, rc.stderr);
  assert.match(rc.stdout, /↑ 0 uploaded, ↓ 4 downloaded/);
  const backupPath = /kept in (\S+\.db)/.exec(rc.stderr)?.[1];
  assert.ok(backupPath && await exists(backupPath), rc.stderr);
  assert.ok(backupPath.startsWith(join(c.home, "backups")), backupPath);

  await syncNow(a);
  const expected = [fromA.id, fromB.id].sort();
  const [aIds, bIds, cIds] = await Promise.all([ids(a), ids(b), ids(c)]);
  assert.deepEqual(aIds, expected);
  assert.deepEqual(bIds, expected);
  assert.deepEqual(cIds, expected);
  assert.ok(!cIds.includes(fromC.id));
  assert.equal((await status(c)).pending_changes, 0);

  // The set-aside data can be brought back with db restore (which, with sync
  // on, makes every device look like that backup).
  const restore = await c.run(["db", "restore", backupPath, "--yes"]);
  assert.equal(restore.code, 0, restore.stderr);
  assert.deepEqual(await ids(c), [fromC.id]);
});

Deno.test("sync: env token, two syncs at once, switching to another cloud", async () => {
  await using first = await startSqld({ auth: true });
  await using second = await startSqld({ auth: true });
  const [token1, token2] = await Promise.all([first.token("rw"), second.token("rw")]);
  await using a = await device("A");
  const x = await a.json<Row>([
    "commit",
    "Moves clouds",
    "--to",
    "Kim",
    "--due",
    "2026-12-04",
    "--json",
  ]);

  // A token from the environment is used but never written to auth.json.
  const env = { env: { JDO_TURSO_AUTH_TOKEN: token1 } };
  const r = await a.run(["sync", "setup", "--url", first.url, "--yes", "--no-backup"], env);
  assert.equal(r.code, 0, r.stderr);
  const auth = await readJsonIfExists<Record<string, unknown>>(join(a.home, "auth.json"));
  assert.equal(auth?.turso, undefined);
  const st = await a.json<{ token_source: string; state: string }>(
    ["sync", "status", "--json"],
    env,
  );
  assert.deepEqual([st.token_source, st.state], ["env", "online"]);
  // Without the variable there is no token: sync reports it instead of hanging or crashing.
  const noToken = await a.run(["sync", "now"]);
  assert.equal(noToken.code, 3, noToken.stderr);
  assert.match(noToken.stderr, /token/i);

  // A token the cloud rejects: exit 3, and status says auth_error (not offline).
  const stranger = await second.token("rw");
  const bad = { env: { JDO_TURSO_AUTH_TOKEN: stranger } };
  const rejected = await a.run(["sync", "now"], bad);
  assert.equal(rejected.code, 3, rejected.stderr);
  assert.match(rejected.stderr, /rejected the token/);
  assert.ok(!rejected.stderr.includes(stranger.split(".")[2]));
  const badStatus = await a.run(["sync", "status", "--json"], bad);
  assert.equal(badStatus.code, 3, badStatus.stderr);
  assert.equal(JSON.parse(badStatus.stdout).state, "auth_error");

  // Two syncs at once on one device: the second waits for the first.
  await a.ok(["capture", "queued"], env);
  const both = await Promise.all([
    a.json<{ ok: boolean; pushed: number }>(["sync", "now", "--json"], env),
    a.json<{ ok: boolean; pushed: number }>(["sync", "now", "--json"], env),
  ]);
  assert.deepEqual(both.map((s) => s.ok), [true, true]);
  assert.equal(both[0].pushed + both[1].pushed, 1);
  const text = await a.ok(["sync", "now"], env);
  assert.match(text.stdout, /^↑ 0 pushed {2}↓ 0 pulled {2}⚠ 0 conflicts/);

  // Re-setup against another cloud sends everything there.
  const moved = await setup(a, second.url, token2, ["--no-backup"]);
  assert.equal(moved.code, 0, moved.stderr);
  assert.match(moved.stdout, /↑ 3 uploaded/); // commitment, stakeholder, inbox item
  await using b = await device("B");
  assert.equal((await setup(b, second.url, token2)).code, 0);
  assert.deepEqual(await ids(b), [x.id]);
  assert.equal((await ids(b, "inbox")).length, 1);
});

Deno.test({
  name: "sync: a delete racing with a new child leaves no live orphan",
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using a = await device("A");
    await using b = await device("B");
    await using c = await device("C");
    const parent = await a.json<Row>([
      "commit",
      "Parent",
      "--to",
      "Zed",
      "--due",
      "2026-12-01",
      "--json",
    ]);
    const goal = await a.json<Row>(["goal", "add", "Doomed goal", "--json"]);
    await setup(a, server.url, token);
    await setup(b, server.url, token);
    await a.ok(["delete", parent.id, "--yes"]);
    await a.ok(["delete", goal.id, "--yes"]);
    const task = await b.json<Row>(["task", "add", parent.id, "added on B", "--json"]);
    const linked = await b.json<Row>(
      ["commit", "Linked", "--to", "Zed", "--due", "2026-12-02", "--goal", goal.id, "--json"],
    );
    await syncNow(a);
    await syncNow(b);
    await syncNow(a);
    await syncNow(b);
    for (const dev of [a, b]) {
      assert.deepEqual(await ids(dev, "tasks"), [], `${dev.name}: orphan task ${task.id}`);
      const row = await dev.json<Row>(["show", linked.id, "--json"]);
      assert.equal(row.goal_id, null, `${dev.name}: link to a deleted goal`);
    }
    const file = join(a.home, "export.json");
    await a.ok(["export", "--out", file]);
    const imported = await c.run(["import", file]);
    assert.equal(imported.code, 0, imported.stderr);
  },
});
