/**
 * A cloud whose rows were sealed in envelope `e1` (every column under its
 * name, NULLs included: what jdo wrote before `e2`) keeps working: a new
 * device downloads them, a device edits one (written back in `e2`, so the
 * cloud mixes both), the others pull it, and a device joining later reads
 * the mixed cloud — every device ends with the uploader's rows exactly.
 */
import assert from "node:assert/strict";
import { openRemote, startSqld } from "../helpers/sqld.ts";
import { device, encryptedSetup, type Row, setup } from "../helpers/device.ts";
import { keyFromPhrase } from "../../src/sync/e2e_key.ts";
import { open, seal } from "../../src/sync/e2e_envelope.ts";
import { rowOfPayload } from "../../src/sync/e2e_payload.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Rewrites every sealed row of the cloud as a jdo before e2 sealed it. */
async function resealAsE1(url: string, token: string, phrase: string): Promise<number> {
  const key = keyFromPhrase(phrase);
  using cloud = openRemote(url, token);
  const cloudId = String(
    (await cloud.execute("SELECT value FROM _jdo_meta WHERE key = 'cloud_id'")).rows[0].value,
  );
  const rows = (await cloud.execute("SELECT tbl, id, version, _fv, data FROM _jdo_rows")).rows;
  for (const r of rows) {
    const [table, id, version, data] = [r.tbl, r.id, r.version, r.data].map(String);
    const fv = r._fv === null ? null : String(r._fv);
    const aad = encoder.encode(JSON.stringify(["jdo-row", cloudId, table, id, version, fv]));
    assert.ok(data.startsWith("e2."), `${table} ${id} is not sealed in e2`);
    const named = rowOfPayload(table, decoder.decode(open(key.rows, key.id, data, aad)));
    await cloud.execute({
      sql: "UPDATE _jdo_rows SET data = ? WHERE tbl = ? AND id = ?",
      args: [seal(key.rows, key.id, encoder.encode(JSON.stringify(named)), aad), table, id],
    });
  }
  return rows.length;
}

Deno.test({
  name: "e2e: a cloud sealed in e1 downloads, takes an e2 edit, and reads mixed on a new device",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    await using laptop = await device("laptop");
    await using desktop = await device("desktop");
    await using phone = await device("phone");
    await laptop.ok(["commit", "Slides for Ann", "--to", "Ann", "--due", "2027-03-01"]);
    await laptop.ok([
      "commit",
      "Budget",
      "--to",
      "Bo",
      "--due",
      "2027-03-02",
      "--time",
      "09:30",
      "--notes",
      `it's "quoted" ✓`,
    ]);
    await laptop.ok(["capture", "Call the plumber"]);
    const phrase = await encryptedSetup(laptop, server.url, token);
    for (const dev of [laptop, desktop, phone]) dev.env.JDO_SYNC_KEY = phrase;
    assert.ok(await resealAsE1(server.url, token, phrase) >= 5); // 2 stakeholders, 2, 1

    const everything = (dev: typeof laptop) => dev.json<Row[]>(["list", "--all", "--json"]);
    const inbox = (dev: typeof laptop) => dev.json<Row[]>(["list", "inbox", "--json"]);
    const joined = await setup(desktop, server.url, token, ["--no-backup"]);
    assert.equal(joined.code, 0, joined.stderr);
    assert.deepEqual(await everything(desktop), await everything(laptop));
    assert.deepEqual(await inbox(desktop), await inbox(laptop));

    const [first] = await desktop.json<Row[]>(["list", "--json"]);
    await desktop.ok(["edit", String(first.id), "--notes", "edited on the desktop"]);
    await desktop.ok(["sync", "now"]);
    await laptop.ok(["sync", "now"]);
    const seen = await laptop.json<Row>(["show", String(first.id), "--json"]);
    assert.equal(seen.notes, "edited on the desktop");

    const late = await setup(phone, server.url, token, ["--no-backup"]);
    assert.equal(late.code, 0, late.stderr);
    assert.deepEqual(await everything(phone), await everything(laptop));
    assert.deepEqual(await inbox(phone), await inbox(laptop));
  },
});
