/**
 * Issue 18, point 8: `jdo sync conflicts` names things — the row's title, the
 * stakeholder a reference points to, the devices — with 6-character ids and
 * times on the local clock (JDO_TIMEZONE); `--json` keeps the full rows with
 * stored snapshots as objects, never JSON inside a string.
 */
import assert from "node:assert/strict";
import { startSqld } from "../helpers/sqld.ts";
import { device, type Row, setup, syncNow } from "../helpers/device.ts";

interface Conflict {
  conflict_id: string;
  detected_at: string;
  field: string | null;
  local: Record<string, unknown>;
  remote: Record<string, unknown>;
  kept: Record<string, unknown> | null;
  lost: Record<string, unknown> | null;
}

/** "YYYY-MM-DD HH:MM" of an instant in New York, the test's JDO_TIMEZONE. */
function newYork(iso: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", {
      timeZone: "America/New_York",
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    }).formatToParts(new Date(iso)).map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

Deno.test("sync conflicts: names, 6-character ids, local times; --json without JSON in strings", async () => {
  await using server = await startSqld({ auth: true });
  const token = await server.token("rw");
  await using laptop = await device("laptop", { env: { JDO_TIMEZONE: "America/New_York" } });
  await using phone = await device("phone");
  assert.equal((await setup(laptop, server.url, token, ["--name", "laptop"])).code, 0);
  assert.equal((await setup(phone, server.url, token, ["--name", "phone"])).code, 0);
  const c = await laptop.json<Row>(
    ["commit", "Budget", "--to", "Eve", "--due", "2031-03-14", "--json"],
  );
  await laptop.ok(["stakeholder", "add", "Zed"]);
  await laptop.ok(["stakeholder", "add", "Yan"]);
  await syncNow(laptop);
  await syncNow(phone);
  await laptop.ok(["edit", c.id, "--to", "Zed"]);
  await new Promise((r) => setTimeout(r, 5));
  await phone.ok(["edit", c.id, "--to", "Yan"]);
  await syncNow(phone);
  assert.equal((await syncNow(laptop)).conflicts, 1);

  const [conflict] = await laptop.json<Conflict[]>(["sync", "conflicts", "--json"]);
  assert.equal(conflict.field, "stakeholder_id");
  assert.equal(typeof conflict.local._fv, "object", "per-field versions as an object");
  assert.equal(typeof conflict.remote._fv, "object");

  const text = (await laptop.ok(["sync", "conflicts"])).stdout;
  const short = (id: string) => id.slice(0, 6);
  const heading = `${short(conflict.conflict_id)}  ${
    newYork(conflict.detected_at)
  }  commitment "Budget" (${short(c.id)}) stakeholder_id  open (lost on laptop, kept from phone)`;
  assert.ok(text.includes(heading), `expected\n${heading}\nin\n${text}`);
  const yan = String(conflict.kept!.stakeholder_id);
  const zed = String(conflict.lost!.stakeholder_id);
  assert.ok(
    text.includes(`stakeholder_id: kept "Yan" (${short(yan)}), lost "Zed" (${short(zed)})`),
    text,
  );
  assert.ok(!text.includes(c.id), "no full UUIDs in the list");
  assert.match(text, /jdo sync conflicts restore CONFLICT_ID/);
});
