/**
 * RowCrypto's worker pool: batches large enough for the workers, several
 * under way at once, come back as their own pages (whichever worker opened
 * them), a wrong key fails with SYNC_KEY_WRONG from a worker, and close()
 * fails what is still pending instead of leaving it hanging.
 */
import assert from "node:assert/strict";
import { JdoError } from "../errors.ts";
import { sealChunk, type SealedTuple } from "./e2e_envelope.ts";
import { dataKeyOf } from "./e2e_key.ts";
import { RowCrypto } from "./row_crypto.ts";

const key = dataKeyOf(new Uint8Array(32).fill(21));

/** `count` sealed rows numbered from `from` (above the inline limit, so a worker opens them). */
function sealedPage(from: number, count: number): SealedTuple[] {
  const rows = Array.from({ length: count }, (_, i) => {
    const n = from + i;
    return [`id-${n}`, `v-${n}`, null, JSON.stringify({ title: `row ${n}`, n })] as [
      string,
      string,
      null,
      string,
    ];
  });
  return JSON.parse(sealChunk(key, "cloud-a", "inbox_items", rows).rowsJson);
}

Deno.test("row workers: pages opened at once come back as their own rows, in their own order", async () => {
  const crypto = new RowCrypto(key, "cloud-a", 2);
  try {
    const pages = [0, 1, 2, 3].map((p) => sealedPage(p * 400, 400));
    const opened = await Promise.all(
      pages.map((page) => crypto.openRows("inbox_items", page)),
    );
    opened.forEach((json, p) => {
      const rows = JSON.parse(json) as unknown[][];
      assert.equal(rows.length, 400);
      assert.deepEqual(rows[0], [`id-${p * 400}`, `v-${p * 400}`, null, {
        title: `row ${p * 400}`,
        n: p * 400,
      }]);
      assert.deepEqual(rows[399][0], `id-${p * 400 + 399}`);
    });
  } finally {
    crypto.close();
  }
});

Deno.test("row workers: another key fails with SYNC_KEY_WRONG; close() fails pending batches", async () => {
  const other = new RowCrypto(dataKeyOf(new Uint8Array(32).fill(22)), "cloud-a", 2);
  try {
    await assert.rejects(
      other.openRows("inbox_items", sealedPage(0, 400)),
      (error) => error instanceof JdoError && error.code === "SYNC_KEY_WRONG",
    );
  } finally {
    other.close();
  }
  const crypto = new RowCrypto(key, "cloud-a", 2);
  const pending = crypto.openRows("inbox_items", sealedPage(0, 2000));
  crypto.close();
  await assert.rejects(pending, /row encryption stopped/);
});
