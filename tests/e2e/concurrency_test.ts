/**
 * Several jdo processes writing to one JDO_HOME at the same time: nothing is
 * lost, nothing is duplicated, and nobody sees "database is locked".
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type JdoResult, runJdo, runJson, tempHome } from "../helpers/cli.ts";

type Rec = Record<string, unknown>;

const WRITERS = 3;
const EACH = 15;

function checkAll(results: { label: string; r: JdoResult }[]): void {
  const failures = results.filter(({ r }) => r.code !== 0);
  assert.deepEqual(
    failures.map(({ label, r }) => `${label}: exit ${r.code}: ${r.stderr.trim()}`),
    [],
    "every process exits 0",
  );
  for (const { label, r } of results) {
    assert.ok(!/locked|busy/i.test(r.stderr), `${label}: ${r.stderr}`);
    // The overcommitting note (many made, none kept this week) is expected; nothing else.
    const stderr = r.stderr.replace(
      /^jdo: note: you've created .* Are you overcommitting\?\n/m,
      "",
    );
    assert.equal(stderr, "", `${label} printed on stderr: ${r.stderr}`);
  }
}

/** `WRITERS` loops run at once, each running its jobs one after the other. */
async function concurrently(
  jobs: (writer: number, i: number) => Promise<JdoResult>,
  count = EACH,
): Promise<{ label: string; r: JdoResult }[]> {
  const all = await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      const out: { label: string; r: JdoResult }[] = [];
      for (let i = 0; i < count; i++) out.push({ label: `writer ${w} #${i}`, r: await jobs(w, i) });
      return out;
    }),
  );
  return all.flat();
}

Deno.test(`${WRITERS} processes × ${EACH} captures on a brand-new JDO_HOME: all ${WRITERS * EACH} kept`, async () => {
  await using t = await tempHome();
  const H = t.home; // does not exist yet: the first commands race to create and migrate it
  const results = await concurrently((w, i) => runJdo(H, ["capture", `writer ${w} item ${i}`]));
  checkAll(results);
  for (const { r } of results) assert.match(r.stdout, /^Captured [0-9a-f]{6,}\n$/);

  const items = await runJson<Rec[]>(H, ["list", "inbox", "--json"]);
  const expected = Array.from(
    { length: WRITERS },
    (_, w) => Array.from({ length: EACH }, (_, i) => `writer ${w} item ${i}`),
  ).flat().sort();
  assert.deepEqual(items.map((x) => String(x.text)).sort(), expected);
  // Every row has its own id and its own version; each writer's items are in order.
  assert.equal(new Set(items.map((x) => x.id)).size, WRITERS * EACH);
  assert.equal(new Set(items.map((x) => x.version)).size, WRITERS * EACH);
  for (let w = 0; w < WRITERS; w++) {
    const mine = items.filter((x) => String(x.text).startsWith(`writer ${w} `));
    const byVersion = [...mine].sort((a, b) => String(a.version) < String(b.version) ? -1 : 1);
    assert.deepEqual(
      byVersion.map((x) => x.text),
      Array.from({ length: EACH }, (_, i) => `writer ${w} item ${i}`),
      "versions follow each process's own order",
    );
  }
  const status = await runJson<Rec>(H, ["db", "status", "--json"]);
  assert.equal((status.counts as Rec).inbox, WRITERS * EACH);
});

Deno.test("concurrent commits to a new stakeholder create it once; concurrent imports import once", async () => {
  await using t = await tempHome();
  const H = t.home;
  const PER = 4;
  const commits = await concurrently(
    (w, i) =>
      runJdo(H, ["commit", `job ${w}.${i}`, "--to", "Shared Person", "--due", "2030-01-01"]),
    PER,
  );
  checkAll(commits);
  const [list, people] = await Promise.all([
    runJson<Rec[]>(H, ["list", "--json"]),
    runJson<Rec[]>(H, ["list", "stakeholders", "--json"]),
  ]);
  assert.equal(list.length, WRITERS * PER);
  assert.deepEqual(
    people.map((p) => p.name),
    ["Shared Person"],
    "one stakeholder, not one per process",
  );

  // The same file imported by three processes at once: each commitment lands exactly once.
  const file = join(t.root, "batch.json");
  await Deno.writeTextFile(
    file,
    JSON.stringify(Array.from({ length: 25 }, (_, i) => ({
      deliverable: `Imported ${i}`,
      stakeholder: i % 2 ? "Odd Org" : "Even Org",
      due_date: "2030-05-01",
    }))),
  );
  const imports = await Promise.all(
    Array.from({ length: WRITERS }, () => runJson<Rec>(H, ["import", file, "--json"])),
  );
  assert.equal(imports.reduce((n, r) => n + Number(r.imported), 0), 25);
  assert.equal(imports.reduce((n, r) => n + Number(r.skipped), 0), 25 * (WRITERS - 1));
  const status = await runJson<Rec>(H, ["db", "status", "--json"]);
  assert.equal((status.counts as Rec).commitments, WRITERS * PER + 25);
  assert.equal((status.counts as Rec).stakeholders, 3);
});
