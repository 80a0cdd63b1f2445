/**
 * Recurring commitments across devices, through the CLI, against a real sqld
 * with JWT auth: two devices that each generate the same occurrence while
 * offline end with one instance (its id derives from the template and the
 * occurrence date, its values from the template); a template edited on one
 * device and paused on the other merges field by field.
 */
import assert from "node:assert/strict";
import { startSqld } from "../helpers/sqld.ts";
import { clockAtEnv } from "../helpers/test_clock.ts";
import { type Device, device, type Row, setup, syncNow } from "../helpers/device.ts";

/** Both devices stand on a Wednesday morning in UTC, whatever the machine's clock says. */
const ENV = { ...clockAtEnv("2026-06-10T10:00:00Z"), JDO_TIMEZONE: "UTC" };

interface Template extends Row {
  deliverable: string;
  status: string;
  notes: string | null;
  instances: number;
  first_instance_id?: string | null;
}

async function instancesOf(dev: Device, templateId: string): Promise<Row[]> {
  const rows = await dev.json<Row[]>(["list", "commitments", "--all", "--json"]);
  return rows.filter((r) => r.recurring_id === templateId)
    .sort((a, b) => String(a.due_date).localeCompare(String(b.due_date)));
}

Deno.test("recurring sync: an occurrence generated offline on two devices is one instance; template edit and pause both survive", async () => {
  await using server = await startSqld({ auth: true });
  const token = await server.token("rw");
  await using laptop = await device("laptop", { env: ENV });
  await using phone = await device("phone", { env: ENV });
  for (const d of [laptop, phone]) {
    assert.equal((await setup(d, server.url, token, ["--no-backup"])).code, 0, d.name);
  }

  const template = await laptop.json<Template>([
    "recurring",
    "add",
    "Standup notes",
    "--to",
    "Team",
    "--every",
    "day",
    "--task",
    "Write",
    "--task",
    "Post",
    "--json",
  ]);
  const today = template.first_instance_id!;
  assert.ok(today, "the first instance is made at once");
  await syncNow(laptop);
  await syncNow(phone);
  assert.deepEqual((await instancesOf(phone, template.id)).map((r) => r.id), [today]);

  // Offline, each device completes today's instance: each generates tomorrow's.
  await laptop.ok(["complete", today]);
  await phone.ok(["complete", today]);
  const [laptopNext, phoneNext] = [
    (await instancesOf(laptop, template.id))[1],
    (await instancesOf(phone, template.id))[1],
  ];
  assert.equal(laptopNext.due_date, "2026-06-11");
  assert.equal(laptopNext.id, phoneNext.id, "both devices derive the same id");

  // Still offline: the laptop renames the template, the phone pauses it.
  await laptop.ok(["recurring", "edit", template.id, "--deliverable", "Standup summary"]);
  await phone.ok(["recurring", "pause", template.id]);

  for (const d of [laptop, phone, laptop, phone]) await syncNow(d);

  for (const d of [laptop, phone]) {
    const rows = await instancesOf(d, template.id);
    assert.deepEqual(
      rows.map((r) => [r.id, r.due_date, r.status]),
      [
        [today, "2026-06-10", "completed"],
        [laptopNext.id, "2026-06-11", "pending"],
      ],
      `${d.name}: one instance per occurrence`,
    );
    const tasks = await d.json<Row[]>(["list", "tasks", "--all", "--json"]);
    assert.equal(
      tasks.filter((t) => t.commitment_id === laptopNext.id).length,
      2,
      `${d.name}: the instance's tasks are not doubled either`,
    );
    const merged = await d.json<Template>(["recurring", "show", template.id, "--json"]);
    assert.equal(merged.deliverable, "Standup summary", `${d.name}: the laptop's edit`);
    assert.equal(merged.status, "paused", `${d.name}: the phone's pause`);
    assert.equal(merged.instances, 2);
  }
  const conflicts = await laptop.json<Row[]>(["sync", "conflicts", "--all", "--json"]);
  assert.deepEqual(
    conflicts.filter((c) => c.id === laptopNext.id || c.id === template.id),
    [],
    "neither the generated instance nor the template records a conflict",
  );

  // Resumed, the template goes on from where the series is: no instance is made twice.
  await phone.ok(["recurring", "resume", template.id]);
  await phone.ok(["complete", laptopNext.id]);
  for (const d of [phone, laptop]) await syncNow(d);
  assert.deepEqual(
    (await instancesOf(laptop, template.id)).map((r) => r.due_date),
    ["2026-06-10", "2026-06-11", "2026-06-12"],
  );
});
