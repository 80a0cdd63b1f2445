/**
 * encrypting_cloud.ts on the memory cloud: an encrypted cloud holds only
 * sealed rows; a device without the key, or with another one, is stopped at
 * info() before it pulls or pushes; a plain device's push is refused once
 * the cloud is encrypted; a sealed row pushed over a newer cloud row is
 * refused, pulled, merged per field, and pushed again; a plain cloud passes
 * through untouched.
 */
import assert from "node:assert/strict";
import {
  capture,
  editInbox,
  inboxRow,
  openPair,
  outboxKeys,
} from "../../tests/helpers/sync_pair.ts";
import { JdoError } from "../errors.ts";
import { EncryptingCloud, openedPlan } from "./encrypting_cloud.ts";
import { newDataKey } from "./e2e_key.ts";
import { syncOnce } from "./engine.ts";
import { push } from "./push.ts";

async function code(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    return error instanceof JdoError ? error.code : String(error);
  }
  return "no error";
}

Deno.test("encrypting layer: the cloud holds sealed rows only, and the other device reads them", async () => {
  await using p = await openPair();
  const key = newDataKey();
  const a = new EncryptingCloud(p.ca, key);
  await a.enable(key);
  const b = new EncryptingCloud(p.cb, key);
  await b.info();
  const id = await capture(p.a.store, "call the plumber about the secret leak");
  await syncOnce(p.a.store, a);
  await syncOnce(p.b.store, b);
  assert.equal((await inboxRow(p.b.store, id))?.text, "call the plumber about the secret leak");
  const dump = p.server.dump();
  assert.ok(!dump.includes("plumber"), "plain text in the cloud");
  assert.equal(p.server.rows("inbox_items").length, 0);
  assert.equal(p.server.rows("_jdo_rows:inbox_items").length, 1);
});

Deno.test("encrypting layer: no key or another key stops a device at info(); a plain push is refused", async () => {
  await using p = await openPair();
  const key = newDataKey();
  await new EncryptingCloud(p.ca, key).enable(key);
  assert.equal(await code(new EncryptingCloud(p.cb, undefined).info()), "SYNC_KEY_MISSING");
  assert.equal(await code(new EncryptingCloud(p.cb, newDataKey()).info()), "SYNC_KEY_WRONG");
  // A device that never asked (an older jdo): the cloud refuses its plain rows.
  await capture(p.b.store, "plain text");
  await assert.rejects(push(p.b.store, p.cb, {}), /plain rows refused/);
  assert.equal((await outboxKeys(p.b.store)).length, 1, "still queued");
  assert.ok(!p.server.dump().includes("plain text"));
});

Deno.test("encrypting layer: a refused sealed row is pulled, merged per field and pushed again", async () => {
  await using p = await openPair();
  const key = newDataKey();
  const a = new EncryptingCloud(p.ca, key);
  await a.enable(key);
  const b = new EncryptingCloud(p.cb, key);
  await b.info();
  const id = await capture(p.a.store, "first");
  await syncOnce(p.a.store, a);
  await syncOnce(p.b.store, b);
  p.advance();
  await editInbox(p.a.store, id, { text: "edited on A" });
  p.advance();
  await editInbox(p.b.store, id, { status: "triaged" });
  await syncOnce(p.a.store, a);
  // B's push alone is refused: the cloud row changed after B's pull.
  const refused = await push(p.b.store, b, {});
  assert.equal(refused.rejected, 1);
  await syncOnce(p.b.store, b);
  await syncOnce(p.a.store, a);
  for (const store of [p.a.store, p.b.store]) {
    const row = await inboxRow(store, id);
    assert.equal(row?.text, "edited on A");
    assert.equal(row?.status, "triaged");
  }
});

Deno.test("encrypting layer: a plain cloud passes through unchanged", async () => {
  await using p = await openPair();
  const a = new EncryptingCloud(p.ca, newDataKey());
  await a.info();
  assert.equal(a.mode, "off");
  await capture(p.a.store, "in the clear");
  await syncOnce(p.a.store, a);
  assert.equal(p.server.rows("inbox_items")[0].text, "in the clear");
});

Deno.test("opened copy: what it holds is kept, extended, or cleared for the merge it serves", () => {
  const held = (cloud: string | undefined, from: number, seq: number) => ({ cloud, from, seq });
  // A fresh copy (no cloud recorded): cleared, and the whole range read.
  assert.deepEqual(openedPlan(held(undefined, 0, 0), "c1", 0, 50), {
    clear: true,
    from: 0,
    heldFrom: 0,
  });
  // It reaches back to the watermark: only what arrived since is read.
  assert.deepEqual(openedPlan(held("c1", 0, 50), "c1", 40, 70), {
    clear: false,
    from: 50,
    heldFrom: 0,
  });
  // Quick pulls moved the watermark past it: the range from the watermark, nothing cleared.
  assert.deepEqual(openedPlan(held("c1", 0, 50), "c1", 60, 70), {
    clear: false,
    from: 60,
    heldFrom: 60,
  });
  // The watermark went back (a restore): the whole range again.
  assert.deepEqual(openedPlan(held("c1", 30, 50), "c1", 0, 70), {
    clear: false,
    from: 0,
    heldFrom: 0,
  });
  // Another cloud, or this one gone back past what it holds: cleared first.
  assert.deepEqual(openedPlan(held("c0", 0, 50), "c1", 10, 70).clear, true);
  assert.deepEqual(openedPlan(held("c1", 0, 90), "c1", 10, 70), {
    clear: true,
    from: 10,
    heldFrom: 10,
  });
});
