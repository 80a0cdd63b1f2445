/**
 * A small world for sync property tests: three (or more) simulated devices
 * doing domain commands and syncs against one cloud, with a record of every
 * write ever made and of what each device had seen when it made it, so the
 * end state can be checked against a last-write-wins oracle and the conflict
 * log against the writes that were lost.
 */
import assert from "node:assert/strict";
import {
  ENTITIES,
  entity,
  type EntityDef,
  type EntityName,
  type Row,
} from "../../src/db/schema.ts";
import { addCommitment, addTask, capture, remove, transition } from "../../src/domain/actions.ts";
import { isGeneratedVersion } from "../../src/db/hlc.ts";
import { todayIn } from "../../src/domain/dates.ts";
import { plusDays, type Schedule } from "../../src/domain/recurrence.ts";
import { generateDue } from "../../src/domain/recurring.ts";
import { addRecurring, setRecurringStatus } from "../../src/domain/recurring_actions.ts";
import { JdoError } from "../../src/errors.ts";
import type { CloudStore } from "../../src/sync/cloud_store.ts";
import { syncOnce } from "../../src/sync/engine.ts";
import { pull } from "../../src/sync/pull.ts";
import { push } from "../../src/sync/push.ts";
import { listConflicts, restoreConflict } from "../../src/sync/conflicts.ts";
import { groupsOfTable } from "../../src/db/schema.ts";
import {
  DOMAIN_TABLES,
  dumpTables,
  outboxSize,
  type SimDevice,
  SYNCED_TABLES,
  versionsOf,
} from "./sim_device.ts";

export type OpKind =
  | "commit"
  | "capture"
  | "task"
  | "edit"
  | "complete"
  | "delete"
  | "clash"
  | "race"
  | "sync"
  | "restore"
  | "fault"
  | "lag"
  // Recurring commitments: add a template, generate what is due, edit or
  // pause/resume a template, let a day pass.
  | "recur"
  | "generate"
  | "recur-edit"
  | "recur-clash"
  | "day";

export interface Op {
  kind: OpKind;
  device: number;
  /** Chooses the target row among the device's candidates (modulo their count). */
  pick: number;
  text: string;
  /** Milliseconds the shared fake time moves before the op. */
  advance: number;
  /** Small extra choice: fault type, lag size, stakeholder name, field. */
  arg: number;
}

/** One write as it was made: the full row right after it, the groups it set, and its causal past. */
export interface Write {
  table: string;
  id: string;
  version: string;
  row: Row;
  device: number;
  /** The merge groups this write set (their field version is this write's). */
  groups: readonly string[];
  /** Made by generation (a recurring instance as every device makes it): nobody's edit. */
  generated?: boolean;
  /** Versions of the same row this write was built on (transitively). */
  past: ReadonlySet<string>;
}

export interface WorldDevice {
  sim: SimDevice;
  cloud: CloudStore;
}

/** Errors a domain command may legitimately refuse with. */
const REFUSALS = new Set(["INVALID_INPUT", "NOT_FOUND"]);
const STAKEHOLDERS = ["Ann", "Bob", "Cy", "Dee"];

function key(table: string, id: string): string {
  return `${table}:${id}`;
}

export class SyncWorld {
  readonly writes = new Map<string, Write>();
  /** Per device: "table:id" → versions its current row is built on, itself included. */
  readonly knowledge: Map<string, Set<string>>[];
  readonly log: string[] = [];
  /** Called for fault/lag ops; return false when the cloud has no such knob. */
  onFault?: (device: number, op: Op) => boolean;

  /** Local writes the engine made during syncs (orphan repairs). */
  engineWrites = 0;
  /** Conflicts restored by the restore op. */
  restored = 0;
  /** Recurring instances generated anywhere: commitment id → "template|occurrence date". */
  readonly occurrences = new Map<string, string>();
  /** Instance id → the devices that generated it (each on its own). */
  readonly generatedBy = new Map<string, Set<string>>();
  #syncing = false;
  /** Per device: "table:id" → the version last seen there. */
  readonly seen: Map<string, string>[];
  /**
   * Per device: the sync dies (as if killed) right after this many more
   * committed transactions of its own; null when no crash is armed.
   */
  readonly crashAfter: (number | null)[];

  constructor(readonly devices: WorldDevice[], readonly advance: (ms: number) => void) {
    this.knowledge = devices.map(() => new Map());
    this.seen = devices.map(() => new Map());
    this.crashAfter = devices.map(() => null);
    devices.forEach(({ sim }, d) => {
      // Watch every committed write of the device, the engine's included.
      const write = sim.store.write.bind(sim.store);
      sim.store.write = (async (fn, options) => {
        const result = await write(fn, options);
        await this.track(d);
        if (this.#syncing && this.crashAfter[d] !== null && --this.crashAfter[d]! <= 0) {
          this.crashAfter[d] = null;
          throw new JdoError("SYNC_UNREACHABLE", "simulated kill -9 right after a commit");
        }
        return result;
      }) as typeof sim.store.write;
    });
  }

  async run(op: Op, step: number): Promise<void> {
    this.advance(op.advance);
    if (op.kind === "day") {
      this.advance(DAY_MS + (op.pick % 7) * 3_600_000);
      return void this.log.push(`#${step} a day passes`);
    }
    const d = op.device % this.devices.length;
    const dev = this.devices[d];
    const label = `#${step} ${dev.sim.name} ${op.kind}`;
    if (op.kind === "sync") return void await this.sync(d, label, true);
    if (op.kind === "race") return await this.race(d, op, label);
    if (op.kind === "fault" || op.kind === "lag") {
      if (this.onFault?.(d, op)) this.log.push(`${label} arg=${op.arg}`);
      return;
    }
    if (op.kind === "clash") return await this.clash(d, op, label);
    if (op.kind === "recur-clash") return await this.recurClash(d, op, label);
    if (op.kind === "restore") return await this.restore(d, op, label);
    try {
      const what = await this.command(dev.sim, op);
      this.log.push(`${label} ${what}`);
    } catch (error) {
      if (error instanceof JdoError && REFUSALS.has(error.code)) {
        this.log.push(`${label} refused: ${error.message}`);
      } else {
        throw error;
      }
    }
  }

  async #live(sim: SimDevice, names: EntityName[]): Promise<{ def: EntityDef; row: Row }[]> {
    const out: { def: EntityDef; row: Row }[] = [];
    for (const name of names) {
      const def = entity(name);
      const rows = await sim.store.query(
        `SELECT * FROM ${def.table} WHERE deleted_at IS NULL ORDER BY id`,
      );
      for (const row of rows) out.push({ def, row });
    }
    return out;
  }

  async #pick(sim: SimDevice, names: EntityName[], pick: number) {
    const live = await this.#live(sim, names);
    return live.length ? live[pick % live.length] : undefined;
  }

  /** Runs one domain command; returns a short description for the log. */
  async command(sim: SimDevice, op: Op): Promise<string> {
    const d = sim.domain;
    const text = `x${op.text}`;
    switch (op.kind) {
      case "commit": {
        const row = await addCommitment(d, {
          deliverable: text,
          stakeholder: STAKEHOLDERS[op.arg % STAKEHOLDERS.length],
          dueDate: `2025-0${1 + (op.pick % 9)}-1${op.arg % 10}`,
        });
        return `commitment ${row.id}`;
      }
      case "capture":
        return `inbox ${(await capture(d, text)).id}`;
      case "task": {
        const parent = await this.#pick(sim, ["commitment"], op.pick);
        if (!parent) return "no commitment";
        return `task ${(await addTask(d, String(parent.row.id), text)).id}`;
      }
      case "complete": {
        const target = await this.#pick(sim, ["commitment", "task", "inbox"], op.pick);
        if (!target) return "nothing to complete";
        await transition(d, "complete", target.def, target.row);
        return `${target.def.name} ${target.row.id}`;
      }
      case "edit": {
        const target = await this.#pick(
          sim,
          ["commitment", "task", "inbox", "stakeholder"],
          op.pick,
        );
        if (!target) return "nothing to edit";
        const patch = patchFor(target.def, text, op.arg);
        await sim.store.write((w) => w.update(target.def, String(target.row.id), patch));
        return `${target.def.name} ${target.row.id} ${JSON.stringify(patch)}`;
      }
      case "delete": {
        const names: EntityName[] = op.arg === 0
          ? ["stakeholder"]
          : ["commitment", "task", "inbox"];
        const target = await this.#pick(sim, names, op.pick);
        if (!target) return "nothing to delete";
        const n = await remove(d, target.def, String(target.row.id));
        return `${target.def.name} ${target.row.id} (${n} rows)`;
      }
      case "recur": {
        const { template, first } = await addRecurring(d, {
          deliverable: text,
          stakeholder: STAKEHOLDERS[op.arg % STAKEHOLDERS.length],
          schedule: scheduleFor(op, todayIn(d.dates())),
          tasks: op.arg % 2 ? [{ title: `${text} task` }] : [],
        });
        return `recurring ${template.id} first ${first?.commitment.due_date ?? "none"}`;
      }
      case "generate": {
        const made = await generateDue(d);
        return `generated ${made.map((g) => g.commitment.due_date).join(",") || "nothing"}`;
      }
      case "recur-edit": {
        const target = await this.#pick(sim, ["recurring"], op.pick);
        if (!target) return "no recurring commitment";
        const patch = recurringPatch(target.row, text, op.arg);
        if (patch.status === "active" && target.row.status === "paused") {
          await setRecurringStatus(d, target.row, "active");
        } else {
          await sim.store.write((w) => w.update(target.def, String(target.row.id), patch));
        }
        return `recurring ${target.row.id} ${JSON.stringify(patch)}`;
      }
      default:
        throw new Error(`not a command: ${op.kind}`);
    }
  }

  /** Restores one of the device's open conflicts (a lost value comes back as a new edit). */
  async restore(d: number, op: Op, label: string): Promise<void> {
    const sim = this.devices[d].sim;
    const open = (await listConflicts(sim.store, { limit: 0 })).sort((a, b) =>
      a.conflict_id < b.conflict_id ? -1 : 1
    );
    if (open.length === 0) return void this.log.push(`${label} no open conflict`);
    const c = open[op.pick % open.length];
    try {
      const r = await restoreConflict(sim.store, c.conflict_id);
      this.restored++;
      this.log.push(
        `${label} ${c.entity} ${c.id} ${c.field} ${c.kind}${r.undeleted ? " (undeleted)" : ""}`,
      );
    } catch (error) {
      if (!(error instanceof JdoError && REFUSALS.has(error.code))) throw error;
      this.log.push(`${label} refused: ${error.message}`);
    }
  }

  /**
   * Every device that has the row device `d` picks edits it, before any of
   * them syncs: concurrent writes to one row on purpose.
   */
  async clash(d: number, op: Op, label: string): Promise<void> {
    const names: EntityName[] = ["commitment", "task", "inbox", "stakeholder"];
    const target = await this.#pick(this.devices[d].sim, names, op.pick);
    if (!target) return void this.log.push(`${label} nothing to edit`);
    const id = String(target.row.id);
    for (let i = 0; i < this.devices.length; i++) {
      const e = (d + i) % this.devices.length;
      const sim = this.devices[e].sim;
      const edit: Op = { ...op, kind: "edit", pick: 0, arg: op.arg + i };
      const patch = patchFor(target.def, `x${op.text}${i}`, edit.arg);
      try {
        await sim.store.write((w) => w.update(target.def, id, patch));
        this.log.push(`${label} ${sim.name} ${target.def.name} ${id} ${JSON.stringify(patch)}`);
      } catch (error) {
        if (!(error instanceof JdoError && REFUSALS.has(error.code))) throw error;
        this.log.push(`${label} ${sim.name} refused: ${error.message}`);
      }
      this.advance(op.advance % 7);
    }
  }

  /**
   * Every device that has the template device `d` picks closes its open
   * instance (complete or abandon), which generates the next one, before any
   * of them syncs: the same occurrence generated on several devices offline.
   */
  async recurClash(d: number, op: Op, label: string): Promise<void> {
    const target = await this.#pick(this.devices[d].sim, ["recurring"], op.pick);
    if (!target) return void this.log.push(`${label} no recurring commitment`);
    const commitments = entity("commitment");
    for (let i = 0; i < this.devices.length; i++) {
      const sim = this.devices[(d + i) % this.devices.length].sim;
      const open = await sim.store.one(
        `SELECT * FROM commitments WHERE recurring_id = ? AND deleted_at IS NULL
         AND status IN ('pending','in_progress','at_risk') ORDER BY due_date LIMIT 1`,
        [target.row.id],
      );
      if (!open) {
        const made = await generateDue(sim.domain);
        this.log.push(`${label} ${sim.name} generated ${made.length}`);
        continue;
      }
      const verb = (op.arg + i) % 3 === 0 ? "abandon" : "complete";
      await transition(sim.domain, verb, commitments, open);
      this.log.push(`${label} ${sim.name} ${verb} ${open.id} (${open.due_date})`);
      this.advance(op.advance % 7);
    }
  }

  /**
   * Sees every committed write of device `d` (called after each store.write).
   * A row whose field versions changed either merged remote writes (its
   * knowledge grows by those writes and their pasts) or was written here: a
   * version nobody wrote yet is a local write (a command, or a repair the
   * engine made) that set the groups carrying it, built on what the device
   * knew of that row.
   */
  async track(d: number): Promise<void> {
    const sim = this.devices[d].sim;
    const seen = this.seen[d];
    for (const [k, fvJson] of await versionsOf(sim.client)) {
      if (seen.get(k) === fvJson) continue;
      const before = seen.get(k);
      seen.set(k, fvJson);
      if (before === undefined && !this.#syncing && k.startsWith("commitments:")) {
        // A new row a command made here at a generated version: this device generated it.
        if (Object.values(JSON.parse(fvJson) as Record<string, string>).some(isGeneratedVersion)) {
          const id = k.slice("commitments:".length);
          const by = this.generatedBy.get(id) ?? new Set<string>();
          by.add(sim.name);
          this.generatedBy.set(id, by);
        }
      }
      const fv: Record<string, string> = JSON.parse(fvJson);
      const [table, id] = k.split(":");
      const knowledge = this.knowledge[d].get(k) ?? new Set<string>();
      const fresh = [...new Set(Object.values(fv))].filter((v) => !this.writes.has(v));
      for (const version of fresh) {
        const generated = isGeneratedVersion(version);
        if (!generated) {
          assert.equal(
            version.substring(19),
            sim.deviceId,
            `${sim.name} holds ${k} at version ${version}, which nobody wrote`,
          );
        }
        const row = await sim.store.one(`SELECT * FROM ${table} WHERE id = ?`, [id]);
        assert.ok(row);
        const groups = Object.keys(fv).filter((g) => fv[g] === version);
        if (generated && table === "commitments") {
          this.occurrences.set(id, `${row.recurring_id}|${row.due_date}`);
        }
        this.writes.set(version, {
          table,
          id,
          version,
          row,
          device: d,
          groups,
          past: new Set(knowledge),
          generated,
        });
        if (this.#syncing) this.engineWrites++;
      }
      for (const v of Object.values(fv)) {
        knowledge.add(v);
        for (const p of this.writes.get(v)?.past ?? []) knowledge.add(p);
      }
      this.knowledge[d].set(k, knowledge);
    }
  }

  /**
   * One syncOnce. Rows whose version changed were replaced by a remote
   * version: from then on this device builds on that version's past.
   */
  async sync(d: number, label: string, faultsAllowed: boolean): Promise<number> {
    const { sim, cloud } = this.devices[d];
    this.#syncing = true;
    try {
      const stats = await syncOnce(sim.store, cloud);
      this.log.push(
        `${label} ↑${stats.pushed} ↓${stats.pulled} ⚠${stats.conflicts.length}`,
      );
      return stats.pushed + stats.pulled;
    } catch (error) {
      const injected = error instanceof JdoError && error.code === "SYNC_UNREACHABLE";
      if (!(faultsAllowed && injected)) throw error;
      this.log.push(`${label} failed: ${(error as Error).message}`);
      return -1;
    } finally {
      this.#syncing = false;
    }
  }

  /**
   * Device `d` pulls; another device syncs completely; then `d` pushes what
   * it had queued against a cloud that changed after its pull — the window
   * two real devices syncing at the same moment open.
   */
  async race(d: number, op: Op, label: string): Promise<void> {
    const e = (d + 1 + (op.arg % (this.devices.length - 1))) % this.devices.length;
    const { sim, cloud } = this.devices[d];
    await this.#step(`${label} pull`, () => pull(sim.store, cloud, {}));
    await this.sync(e, `${label} meanwhile ${this.devices[e].sim.name}`, true);
    await this.#step(`${label} push`, () => push(sim.store, cloud, {}));
  }

  async #step(label: string, fn: () => Promise<unknown>): Promise<void> {
    this.#syncing = true;
    try {
      this.log.push(
        `${label} ${JSON.stringify(await fn(), (_, v) => Array.isArray(v) ? v.length : v)}`,
      );
    } catch (error) {
      if (!(error instanceof JdoError && error.code === "SYNC_UNREACHABLE")) throw error;
      this.log.push(`${label} failed: ${(error as Error).message}`);
    } finally {
      this.#syncing = false;
    }
  }

  /**
   * Each device syncs in turn, with no faults, at least twice and until a
   * whole round moves nothing (a pull can make the engine write: orphan
   * repairs, conflict records). Returns the rounds it took.
   */
  async settle(maxRounds = 6): Promise<number> {
    for (let round = 1; round <= maxRounds; round++) {
      let moved = 0;
      for (let d = 0; d < this.devices.length; d++) {
        moved += await this.sync(d, `settle${round} ${this.devices[d].sim.name}`, false);
      }
      if (round >= 2 && moved === 0) return round;
    }
    assert.fail(`the devices did not settle in ${maxRounds} rounds of syncs`);
  }

  /** Per row ("table:id"), per group, the write with the greatest version that set it. */
  #finals(): Map<string, Map<string, Write>> {
    const out = new Map<string, Map<string, Write>>();
    for (const w of this.writes.values()) {
      const k = key(w.table, w.id);
      const groups = out.get(k) ?? new Map<string, Write>();
      out.set(k, groups);
      for (const g of w.groups) {
        const current = groups.get(g);
        if (!current || w.version > current.version) groups.set(g, w);
      }
    }
    return out;
  }

  /**
   * The per-field last-write-wins oracle: each group of each row holds the
   * value of the greatest-version write that set it; the row's version and
   * updated_at are the greatest write's. Table → rows ordered by id.
   */
  oracle(): Record<string, Row[]> {
    const out: Record<string, Row[]> = {};
    for (const table of DOMAIN_TABLES) out[table] = [];
    for (const [k, groups] of this.#finals()) {
      const table = k.slice(0, k.indexOf(":"));
      const any = [...groups.values()][0];
      let top = any;
      for (const w of groups.values()) if (w.version > top.version) top = w;
      const row: Row = {
        id: any.row.id,
        created_at: any.row.created_at,
        updated_at: top.row.updated_at,
        version: top.version,
      };
      const fv: Record<string, string> = {};
      for (const g of groupsOfTable(table)) {
        const w = groups.get(g.name)!;
        fv[g.name] = w.version;
        for (const c of g.columns) row[c] = w.row[c];
      }
      row._fv = JSON.stringify(fv);
      out[table].push(row);
    }
    for (const table of DOMAIN_TABLES) {
      out[table].sort((a, b) => (String(a.id) < String(b.id) ? -1 : 1));
    }
    return out;
  }

  /**
   * Values that were lost, each with the group and why: a write of a group
   * that is not the final one for that group, was not built upon by a later
   * write of the group, and held another value ("field"); or the final value
   * of a group on a row that ends deleted, when no delete of the row was made
   * after seeing it ("delete").
   */
  lostWrites(): { write: Write; group: string; kind: "field" | "delete" }[] {
    const finals = this.#finals();
    const overwrittenKnowingly = new Set<string>();
    for (const w of this.writes.values()) {
      for (const p of w.past) {
        for (const g of w.groups) overwrittenKnowingly.add(`${p}|${g}`);
      }
    }
    // Versions some delete of the row was made after seeing: deleting them was intended.
    const deletedKnowingly = new Set<string>();
    for (const w of this.writes.values()) {
      if (!w.groups.includes("deleted_at") || w.row.deleted_at === null) continue;
      for (const p of w.past) deletedKnowingly.add(`${key(w.table, w.id)}|${p}`);
    }
    const lost: { write: Write; group: string; kind: "field" | "delete" }[] = [];
    for (const w of this.writes.values()) {
      // A generated value that another generation or an edit replaced was nobody's edit.
      if (w.generated) continue;
      const groups = finals.get(key(w.table, w.id))!;
      const deletion = groups.get("deleted_at")!;
      const deleted = deletion.row.deleted_at !== null;
      for (const g of w.groups) {
        const final = groups.get(g)!;
        const columns = groupsOfTable(w.table).find((x) => x.name === g)!.columns;
        if (final.version !== w.version) {
          if (overwrittenKnowingly.has(`${w.version}|${g}`)) continue;
          // Nothing is lost when the same value (two deletes count as the
          // same) survived, or was overwritten by a write that saw it: a
          // merge compares values, and drops an equal one silently.
          const same = (a: Row, b: Row) =>
            g === "deleted_at"
              ? (a.deleted_at === null) === (b.deleted_at === null)
              : columns.every((c) => (a[c] ?? null) === (b[c] ?? null));
          const represented = [...this.writes.values()].some((o) =>
            o !== w && o.table === w.table && o.id === w.id && o.groups.includes(g) &&
            same(o.row, w.row) &&
            (groups.get(g) === o || overwrittenKnowingly.has(`${o.version}|${g}`))
          );
          if (same(w.row, final.row) || represented) continue;
          lost.push({ write: w, group: g, kind: "field" });
        } else if (
          deleted && g !== "deleted_at" &&
          !deletedKnowingly.has(`${key(w.table, w.id)}|${w.version}`) &&
          !w.past.has(deletion.version) && deletion.version !== w.version
        ) {
          lost.push({ write: w, group: g, kind: "delete" });
        }
      }
    }
    return lost;
  }

  /**
   * Occurrences of a recurring commitment generated as more than one row
   * (on one device or several): "template|date" → the ids. Empty when
   * every occurrence, however many devices generated it, is one instance.
   */
  duplicateOccurrences(): Map<string, string[]> {
    const byOccurrence = new Map<string, Set<string>>();
    for (const [id, occurrence] of this.occurrences) {
      const ids = byOccurrence.get(occurrence) ?? new Set<string>();
      ids.add(id);
      byOccurrence.set(occurrence, ids);
    }
    return new Map(
      [...byOccurrence].filter(([, ids]) => ids.size > 1).map(([k, ids]) => [k, [...ids]]),
    );
  }

  /**
   * After settle(): every device and the cloud hold the same rows, equal to
   * the per-field oracle; nothing is queued; every lost value is in the
   * conflict log with its field and version; no conflict is recorded twice.
   */
  async check(cloudTables: Record<string, Row[]>): Promise<void> {
    const dumps = [];
    for (const { sim } of this.devices) {
      if (await outboxSize(sim.client) > 0) {
        const queued = await sim.store.query("SELECT * FROM _sync_outbox ORDER BY entity, id");
        const details = [];
        for (const q of queued) {
          const def = ENTITIES.find((e) => e.name === q.entity);
          const table = def?.table ?? "_sync_conflicts";
          const local = await sim.store.one(`SELECT * FROM ${table} WHERE id = ?`, [q.id]);
          const cloud = cloudTables[table]?.find((r) => r.id === q.id);
          const state = await sim.store.query("SELECT * FROM _sync_state");
          details.push({ queued: q, local, cloud, state });
        }
        assert.fail(`${sim.name} still has queued changes: ${JSON.stringify(details, null, 1)}`);
      }
      dumps.push(await dumpTables(sim.client));
    }
    for (const table of SYNCED_TABLES) {
      for (let d = 1; d < dumps.length; d++) {
        assert.deepEqual(
          dumps[d][table],
          dumps[0][table],
          `${table}: ${this.devices[d].sim.name} differs from ${this.devices[0].sim.name}`,
        );
      }
      assert.deepEqual(
        cloudTables[table],
        dumps[0][table],
        `${table}: the cloud differs from the devices`,
      );
    }
    const oracle = this.oracle();
    for (const table of DOMAIN_TABLES) {
      assert.deepEqual(
        dumps[0][table],
        oracle[table],
        `${table}: differs from the per-field oracle`,
      );
    }

    const conflicts = dumps[0]._sync_conflicts;
    const seen = new Set<string>();
    for (const c of conflicts) {
      const id = `${c.entity}:${c.row_id}:${c.field}:${c.local_version}:${c.remote_version}`;
      assert.ok(!seen.has(id), `conflict recorded twice: ${id}`);
      seen.add(id);
      if (c.kind === "field") {
        assert.equal(
          c.winner,
          String(c.local_version) > String(c.remote_version) ? "local" : "remote",
          `conflict ${id}: the winner must be the greater version`,
        );
      }
    }
    for (const { write: lost, group, kind } of this.lostWrites()) {
      const name = entityOfTable(lost.table).name;
      // The lost value is in the log: this write's own version, or the same
      // value lost by a concurrent write (the merge compared equal values).
      const columns = groupsOfTable(lost.table).find((g) => g.name === group)!.columns;
      const value = JSON.stringify(
        Object.fromEntries(columns.map((c) => [c, lost.row[c] ?? null])),
      );
      const logged = conflicts.some((c) =>
        c.entity === name && c.row_id === lost.id && c.field === group &&
        (c.lost_version === lost.version || (kind === "field" && c.lost_value === value))
      );
      assert.ok(
        logged,
        `lost value ${lost.table} ${lost.id} ${group} ${lost.version} (device ${lost.device}, ` +
          `${kind}) is not in the conflict log; logged for the row: ${
            JSON.stringify(
              conflicts.filter((c) => c.row_id === lost.id).map((c) => [
                c.field,
                c.kind,
                c.winner,
                c.lost_version,
                c.kept_version,
                c.detected_by,
              ]),
            )
          }; writes of the row: ${
            JSON.stringify(
              [...this.writes.values()].filter((x) => x.id === lost.id).map((x) => [
                x.version,
                x.groups,
                x.device,
                [...x.past].length,
              ]),
            )
          }`,
      );
    }
  }
}

function patchFor(def: EntityDef, text: string, arg: number): Row {
  const patches: Record<string, Row[]> = {
    commitment: [
      { deliverable: text },
      { notes: text },
      { status: "at_risk" },
      { due_date: `2025-0${1 + (arg % 9)}-2${arg % 10}` },
      { notes: text, deliverable: `${text}!` },
    ],
    task: [{ title: text }, { scope: text }, { estimated_hours: arg + 0.5 }],
    inbox: [{ text }],
    stakeholder: [{ notes: text }, { contact_info: text }],
  };
  const options = patches[def.name];
  return options[arg % options.length];
}

const DAY_MS = 86_400_000;

/** A schedule for the recur op: daily, weekly or monthly, sometimes with an end. */
function scheduleFor(op: Op, today: string): Schedule {
  const kinds = ["daily", "weekly", "monthly"] as const;
  const type = kinds[op.pick % 3];
  return {
    recurrence_type: type,
    interval: 1 + (op.arg % 2),
    days_of_week: type === "weekly" ? [op.arg % 7, (op.arg + 3) % 7] : null,
    day_of_month: type === "monthly" ? 1 + (op.pick % 31) : null,
    week_of_month: null,
    month_of_year: null,
    start_date: today,
    end_type: op.arg === 4 ? "after_count" : op.arg === 5 ? "by_date" : "never",
    end_after_count: op.arg === 4 ? 3 : null,
    end_by_date: op.arg === 5 ? plusDays(today, 10) : null,
  };
}

/** Edits of a template: its text, its pause state, its schedule, its tasks. */
function recurringPatch(row: Row, text: string, arg: number): Row {
  const patches: Row[] = [
    { deliverable: text },
    { status: row.status === "active" ? "paused" : "active" },
    { notes: text },
    { interval: Number(row.interval) === 1 ? 2 : 1 },
    { task_templates: JSON.stringify([{ title: text, order: 1 }]) },
    { due_time: `1${arg}:30` },
  ];
  return patches[arg % patches.length];
}

function entityOfTable(table: string): EntityDef {
  const def = ENTITIES.find((e) => e.table === table);
  if (!def) throw new Error(`no entity for ${table}`);
  return def;
}
