import assert from "node:assert/strict";
import fc from "fast-check";
import { entity, type EntityName } from "../db/schema.ts";
import type { Store } from "../db/store.ts";
import { JdoError } from "../errors.ts";
import { openTempStore } from "../../tests/helpers/temp_store.ts";
import { resolveId, ShortIdIndex, shortIds, truncate } from "./ids.ts";

async function put(store: Store, id: string, text = "x", kind: EntityName = "inbox") {
  await store.write(async (w) => {
    if (kind === "inbox") await w.insert(entity("inbox"), { id, text, status: "open" });
    else if (kind === "stakeholder") {
      await w.insert(entity("stakeholder"), { id, name: text, type: "person" });
    } else throw new Error(`put: unsupported kind ${kind}`);
  });
}

async function rejects(promise: Promise<unknown>, code: string): Promise<JdoError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof JdoError, `expected a JdoError, got ${error}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected a ${code} error`);
}

const A1 = "abcd1234-0000-4000-8000-000000000001";
const A2 = "abcd5678-0000-4000-8000-000000000002";
const B1 = "bbbb0000-1111-4000-8000-000000000003";

Deno.test("resolveId: unique prefixes of 4+ characters, full ids, case and whitespace", async () => {
  await using t = await openTempStore();
  await put(t.store, A1, "first");
  await put(t.store, A2, "second");
  await put(t.store, B1, "third");
  for (const input of ["abcd1", "abcd1234", A1, A1.toUpperCase(), "  ABCD12  "]) {
    const r = await resolveId(t.store, input);
    assert.equal(r.row.id, A1, input);
    assert.equal(r.def.name, "inbox");
    assert.equal(r.row.text, "first");
  }
  assert.equal((await resolveId(t.store, "bbbb")).row.id, B1);
  assert.equal((await resolveId(t.store, "abcd5")).row.id, A2);
});

Deno.test("resolveId: fewer than 4 characters is a usage error", async () => {
  await using t = await openTempStore();
  await put(t.store, A1);
  for (const input of ["", "a", "ab", "abc", "  abc "]) {
    const e = await rejects(resolveId(t.store, input), "USAGE");
    assert.match(e.message, /at least 4 characters/);
  }
});

Deno.test("resolveId: unknown and non-hex ids are NOT_FOUND naming the input", async () => {
  await using t = await openTempStore();
  await put(t.store, A1);
  const e1 = await rejects(resolveId(t.store, "ffff0000"), "NOT_FOUND");
  assert.match(e1.message, /ffff0000/);
  const e2 = await rejects(resolveId(t.store, "zzzzzz"), "NOT_FOUND");
  assert.match(e2.message, /zzzzzz/);
  // LIKE/SQL metacharacters are not wildcards.
  await rejects(resolveId(t.store, "ab%_"), "NOT_FOUND");
  await rejects(resolveId(t.store, "abcd' OR 1=1 --"), "NOT_FOUND");
  // Restricting kinds: an inbox id is not a commitment.
  const e3 = await rejects(resolveId(t.store, "abcd1", [entity("commitment")]), "NOT_FOUND");
  assert.match(e3.message, /No commitment/);
});

Deno.test("resolveId: an ambiguous prefix lists every match and asks for more", async () => {
  await using t = await openTempStore();
  await put(t.store, A1, "first item");
  await put(t.store, A2, "second item");
  await put(t.store, B1, "third");
  const e = await rejects(resolveId(t.store, "abcd"), "AMBIGUOUS_ID");
  assert.match(e.message, /matches 2 items/);
  assert.ok(e.message.includes(A1), e.message);
  assert.ok(e.message.includes(A2), e.message);
  assert.ok(e.message.includes("first item") && e.message.includes("second item"));
  assert.ok(!e.message.includes(B1));
  assert.ok(!e.message.includes("\n"), "one line");
});

Deno.test("resolveId: ambiguity across kinds, and tombstoned rows do not count", async () => {
  await using t = await openTempStore();
  const S = "abcd9999-0000-4000-8000-000000000009";
  await put(t.store, A1, "an inbox item");
  await put(t.store, S, "Alice", "stakeholder");
  const e = await rejects(resolveId(t.store, "abcd"), "AMBIGUOUS_ID");
  assert.match(e.message, /inbox/);
  assert.match(e.message, /stakeholder "Alice"/);
  // Restricted to stakeholders, the prefix is unique.
  const only = await resolveId(t.store, "abcd", [entity("stakeholder")]);
  assert.equal(only.row.id, S);
  // Once the inbox item is deleted the prefix resolves to the stakeholder.
  await t.store.write((w) => w.tombstone(entity("inbox"), A1));
  assert.equal((await resolveId(t.store, "abcd")).row.id, S);
  await t.store.write((w) => w.tombstone(entity("stakeholder"), S));
  await rejects(resolveId(t.store, "abcd"), "NOT_FOUND");
});

Deno.test("shortIds: at least 6 characters, extended past a shared prefix", async () => {
  await using t = await openTempStore();
  const X = "12345678-aaaa-4000-8000-000000000001";
  const Y = "12345679-aaaa-4000-8000-000000000002"; // shares 7 characters with X
  const Z = "99999900-0000-4000-8000-000000000003";
  const W = "999999ab-0000-4000-8000-000000000004"; // shares exactly 6 with Z
  for (const id of [X, Y, Z, W, B1]) await put(t.store, id);
  const shorts = await shortIds(t.store, [X, Y, Z, W, B1]);
  assert.equal(shorts.get(X), "12345678");
  assert.equal(shorts.get(Y), "12345679");
  assert.equal(shorts.get(Z), "9999990");
  assert.equal(shorts.get(W), "999999a");
  assert.equal(shorts.get(B1), "bbbb00");
  // Each short id resolves back to its row.
  for (const [id, short] of shorts) assert.equal((await resolveId(t.store, short)).row.id, id);
  // A deleted neighbour no longer forces a longer prefix.
  await t.store.write((w) => w.tombstone(entity("inbox"), Y));
  assert.equal((await shortIds(t.store, [X])).get(X), "123456");
  assert.equal((await shortIds(t.store, [])).size, 0);
});

Deno.test("shortIds: property — every short id is ≥6 chars, a prefix, and resolves uniquely", async () => {
  await using t = await openTempStore();
  // Ids crowded into a small space so that long shared prefixes are common.
  const idArb = fc.tuple(
    fc.constantFrom("aaaa", "aaab", "abab"),
    fc.stringMatching(/^[0-9a-c]{4}$/),
    fc.uuid({ version: 4 }),
  ).map(([p, q, u]) => `${p}${q}${u.slice(8)}`);
  const ids = fc.sample(fc.uniqueArray(idArb, { minLength: 40, maxLength: 40 }), 1)[0];
  await t.store.write(async (w) => {
    for (const id of ids) await w.insert(entity("inbox"), { id, text: "x", status: "open" });
  });
  const shorts = await shortIds(t.store, ids);
  for (const id of ids) {
    const short = shorts.get(id)!;
    assert.ok(short.length >= 6, short);
    assert.ok(id.startsWith(short));
    const others = ids.filter((o) => o !== id && o.startsWith(short));
    assert.deepEqual(others, [], `${short} is not unique`);
    // Minimal: one character fewer (if still ≥ 6) would be ambiguous.
    if (short.length > 6) {
      const shorter = short.slice(0, -1);
      assert.ok(ids.some((o) => o !== id && o.startsWith(shorter)), `${short} is not shortest`);
    }
    assert.equal((await resolveId(t.store, short)).row.id, id);
  }
  // The index (used for many ids at once) gives the same answers.
  const lookup = await (await ShortIdIndex.load(t.store)).shortsOf(ids);
  assert.deepEqual(new Map(ids.map((id) => [id, lookup.get(id)])), shorts);
  // So do a few ids asked at once (their own prefixes first, then neighbours).
  for (let i = 0; i < ids.length; i += 3) {
    const few = ids.slice(i, i + 3);
    assert.deepEqual(await shortIds(t.store, few), new Map(few.map((id) => [id, shorts.get(id)])));
  }
});

Deno.test("ShortIdIndex: the neighbours' short ids, also for ids sharing more than six characters, not ASCII or short", async () => {
  await using t = await openTempStore();
  const ids = [
    "abcdef12-3456-4000-8000-000000000001",
    "abcdef12-3456-4000-8000-000000000002", // shares 20 characters with the first
    "abcdef12-3457-4000-8000-000000000003", // shares 12 (11 hex digits)
    "abcdef13-0000-4000-8000-000000000004",
    "00000000-0000-4000-8000-000000000005",
    // Not ASCII: six UTF-16 units are five characters to SQLite (its neighbours decide).
    "0000\u{1F600}a0-0000-4000-8000-000000000006",
    "0000\u{1F600}b0-0000-4000-8000-000000000007",
    "ab", // shorter than a short id
  ];
  for (const id of ids) await put(t.store, id);
  const index = await ShortIdIndex.load(t.store);
  const asked = [...ids, "ffffffff-0000-4000-8000-000000000009"];
  const lookup = await index.shortsOf(asked);
  const fromIndex = new Map(asked.map((id) => [id, lookup.get(id)]));
  const fromQueries = await shortIds(t.store, asked);
  assert.deepEqual(fromIndex, fromQueries);
  for (const id of asked) {
    assert.equal((await shortIds(t.store, [id])).get(id), fromQueries.get(id), `${id} alone`);
  }
  assert.equal(fromIndex.get(ids[0]), ids[0]);
  assert.equal(fromIndex.get(ids[2]), "abcdef12-3457");
  assert.equal(fromIndex.get(ids[3]), "abcdef13");
  assert.equal(fromIndex.get(ids[4]), "000000");
});

Deno.test("ShortIdIndex: ids not ASCII ask their neighbours even when no six characters are shared", async () => {
  await using t = await openTempStore();
  // To SQLite these two differ in their sixth character ("a", "b"): no prefix
  // is shared. Their first six UTF-16 units ("0000" and the emoji's two) are
  // the same, so cutting them there would print one short id for both.
  const ids = [
    "12345678-0000-4000-8000-000000000001",
    "0000\u{1F600}a0-0000-4000-8000-000000000002",
    "0000\u{1F600}b0-0000-4000-8000-000000000003",
  ];
  for (const id of ids) await put(t.store, id);
  const lookup = await (await ShortIdIndex.load(t.store)).shortsOf(ids);
  const fromIndex = new Map(ids.map((id) => [id, lookup.get(id)]));
  assert.deepEqual(fromIndex, await shortIds(t.store, ids));
  assert.equal(fromIndex.get(ids[0]), "123456");
  assert.notEqual(fromIndex.get(ids[1]), fromIndex.get(ids[2]));
});

Deno.test("truncate: one line, ellipsis at the limit", () => {
  assert.equal(truncate("a\nb\tc", 10), "a b c");
  assert.equal(truncate("abcdef", 6), "abcdef");
  assert.equal(truncate("abcdefg", 6), "abcde…");
});
