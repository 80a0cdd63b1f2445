import type { Command } from "commander";
import type { AppContext } from "../../app/context.ts";
import { ENTITIES, entity, type EntityDef, type Row } from "../../db/schema.ts";
import {
  assertStakeholderNameFree,
  optionalText,
  remove,
  requireText,
  STAKEHOLDER_TYPES,
  stakeholderByName,
  statusPatch,
  transition,
  type Verb,
} from "../../domain/actions.ts";
import { followStatusChange } from "../../domain/honor.ts";
import { followInstanceClosed, generateDue } from "../../domain/recurring.ts";
import { logTaskStatusChange, parseActualHours } from "../../domain/task_history.ts";
import { askActualHours } from "./time.ts";
import { registerHonorCommands } from "./honor.ts";
import { NEIGHBOUR_LIMIT, ShortIdIndex, type ShortIdLookup, shortIds } from "../../domain/ids.ts";
import {
  countRecords,
  forEachRecordPage,
  type JsonRecord,
  LIST_TABLE_FIELDS,
  type ListOptions,
  loadRecord,
  PAGE_SIZE,
} from "../../domain/records.ts";
import { JdoError } from "../../errors.ts";
import { style } from "../../output/colors.ts";
import { cellText } from "../../output/cell_text.ts";
import { dueCells, type DueLabel, dueText } from "../../output/due_label.ts";
import { type DateContext, wallTimeIn } from "../../domain/dates.ts";
import { plural } from "../../output/plural.ts";
import { localTime } from "../../output/local_time.ts";
import { progressText, recordView } from "../../output/record_view.ts";
import { type Fit, layoutTable } from "../../output/table.ts";
import { confirmDestructive } from "../confirm.ts";
import {
  confirmPastDue,
  dateArg,
  datesOf,
  domainOf,
  dueArg,
  existingDueTime,
  parseHours,
  parseInteger,
  printJson,
  reportTransition,
  reportWrite,
  resolveArg,
  statusArg,
  timeArg,
} from "../shared.ts";

const KINDS = ENTITIES.map((e) => e.plural);

function kindOf(word: string): EntityDef {
  const w = word.toLowerCase();
  const def = ENTITIES.find((e) => e.plural === w || e.name === w);
  if (!def) {
    throw new JdoError("USAGE", `Unknown kind "${word}" (use ${KINDS.join(", ")})`);
  }
  return def;
}

/** A page of a list as table rows, with its headers and how it may fit the width. */
type ListTable = (
  records: JsonRecord[],
  shorts: ShortIdLookup,
) => { headers: string[]; rows: string[][]; fit: Omit<Fit, "width"> };

/** Memoised on its argument: a list repeats the same few statuses and people. */
function remembered<T>(make: (key: string) => T): (key: string) => T {
  const seen = new Map<string, T>();
  return (key) => {
    let value = seen.get(key);
    if (value === undefined) {
      value = make(key);
      if (seen.size < 4096) seen.set(key, value);
    }
    return value;
  };
}

/** The table of one kind's list, page after page (what repeats is worked out once). */
function listTableOf(ctx: AppContext, def: EntityDef): ListTable {
  const s = style(ctx.io.color);
  const dates = datesOf(ctx);
  const idOf = (r: JsonRecord, shorts: ShortIdLookup) =>
    s.dim(shorts.get(String(r.id)) ?? String(r.id));
  const statusText = remembered((status) => status.replace("_", " "));
  const status = (r: JsonRecord) => statusText(String(r.status ?? ""));
  if (def.name === "commitment") {
    const cells = dueCells(dates);
    const person = remembered((name) => cellText(name, 20));
    // Without colour the label is its text (no call per row that returns it as it is).
    const marker = ctx.io.color
      ? (label: DueLabel) =>
        label.level === 2
          ? s.red(label.text)
          : label.level === 1
          ? s.yellow(label.text)
          : s.dim(label.text)
      : (label: DueLabel) => label.text;
    return (records, shorts) => ({
      headers: ["ID", "DUE", "", "STATUS", "TO", "DELIVERABLE"],
      rows: records.map((r) => {
        const open = r.status !== "completed" && r.status !== "abandoned";
        const { clock, label } = cells(r);
        return [
          idOf(r, shorts),
          clock,
          open ? marker(label) : "",
          status(r),
          person(String(r.stakeholder ?? "?")),
          cellText(String(r.deliverable), 60),
        ];
      }),
      fit: { shrink: [4, 5], drop: [3, 1] },
    });
  }
  return (records, shorts) =>
    listTable(def, dates, records, shorts, (r) => idOf(r, shorts), status);
}

/** A page of a list of any kind but commitments. */
function listTable(
  def: EntityDef,
  dates: DateContext,
  records: JsonRecord[],
  shorts: ShortIdLookup,
  id: (r: JsonRecord) => string,
  status: (r: JsonRecord) => string,
): { headers: string[]; rows: string[][]; fit: Omit<Fit, "width"> } {
  const extra: Partial<Record<string, [string, (r: JsonRecord) => string]>> = {
    milestone: ["TARGET", (r) => String(r.target_date)],
    stakeholder: ["TYPE", (r) => String(r.type)],
    inbox: ["CAPTURED", (r) => wallTimeIn(Date.parse(String(r.created_at)), dates.timeZone).date],
    task: ["COMMITMENT", (r) => shorts.get(String(r.commitment_id)) ?? String(r.commitment_id)],
    cleanup_plan: [
      "COMMITMENT",
      (r) => shorts.get(String(r.commitment_id)) ?? String(r.commitment_id),
    ],
    task_event: ["WHEN", (r) => localTime(r.created_at, dates.timeZone)],
  };
  const more = extra[def.name];
  const headers = [
    "ID",
    ...(more ? [more[0]] : []),
    ...(def.statuses ? ["STATUS"] : []),
    def.label.toUpperCase(),
  ];
  const rows = records.map((r) => [
    id(r),
    ...(more ? [more[1](r)] : []),
    ...(def.statuses ? [status(r)] : []),
    cellText(String(r[def.label] ?? ""), 70),
  ]);
  return { headers, rows, fit: { shrink: [headers.length - 1] } };
}

/**
 * `jdo list`: rows are read and printed a page at a time (keyset
 * pagination), so memory stays flat however many there are; each page fits
 * the terminal's width. --json prints exactly what JSON.stringify would.
 */
async function printList(ctx: AppContext, def: EntityDef, options: ListOptions, json: boolean) {
  const store = await ctx.store();
  let index: ShortIdIndex | undefined;
  let pending: string | undefined;
  let pages = 0;
  let shown = 0;
  let widths: number[] = [];
  const tableOf = listTableOf(ctx, def);
  // A page of JSON.stringify(records, null, 2)'s body; the previous one is held back for its comma.
  const jsonPage = (body: string) => {
    ctx.io.out(pending === undefined ? "[" : pending + ",");
    pending = body;
  };
  const tablePage = async (records: JsonRecord[], known?: number) => {
    pages++;
    const shorts = await shortIdsOf(records, known);
    const { headers, rows, fit } = tableOf(records, shorts);
    // Later pages keep the columns at least as wide as the ones printed
    // already, and print no header.
    const { text: table, natural } = layoutTable(headers, rows, {
      ...fit,
      atLeast: widths,
      width: ctx.io.columns(),
    });
    widths = natural;
    ctx.io.out(pages === 1 ? table : table.slice(table.indexOf("\n") + 1));
  };
  const shortIdsOf = async (records: JsonRecord[], known?: number): Promise<ShortIdLookup> => {
    // Tasks show their commitment's id too, as short as the others.
    const ids: string[] = [];
    for (const r of records) {
      ids.push(String(r.id));
      if (r.commitment_id) ids.push(String(r.commitment_id));
    }
    // A few rows: ask for these ids; more: one statement for the whole list (ShortIdIndex).
    shown += ids.length;
    // A full first page: count what is coming (unless the read says), so a
    // long list loads the index at once instead of first asking neighbours
    // for a page or two.
    if (!index && pages === 1 && records.length >= PAGE_SIZE) {
      const total = known ?? await countRecords(store, def, options);
      if (total * (ids.length / records.length) > NEIGHBOUR_LIMIT) {
        index = await ShortIdIndex.load(store);
      }
    }
    if (!index && shown > NEIGHBOUR_LIMIT) {
      index = await ShortIdIndex.load(store);
    }
    return index ? await index.shortsOf(ids) : await shortIds(store, ids);
  };
  const total = await forEachRecordPage(
    store,
    def,
    json
      ? { ...options, timeZone: ctx.timeZone(), json }
      : { ...options, timeZone: ctx.timeZone(), time: false, fields: LIST_TABLE_FIELDS },
    json ? (records) => jsonPage(JSON.stringify(records, null, 2).slice(2, -2)) : tablePage,
    PAGE_SIZE,
    json ? jsonPage : undefined,
  );
  if (json) {
    ctx.io.out(pending === undefined ? "[]" : `${pending}\n]`);
  } else if (total === 0) {
    ctx.io.out(`No ${def.plural === "inbox" ? "inbox items" : def.plural} to show.`);
  }
}

export { progressText };

/** `jdo show` for a person: names for ids, times on the viewer's clock, no sync bookkeeping. */
async function printRecord(ctx: AppContext, def: EntityDef, record: JsonRecord) {
  const store = await ctx.store();
  const s = style(ctx.io.color);
  const names = new Map<string, string>();
  for (const link of def.parents) {
    const id = record[link.column];
    if (typeof id !== "string") continue;
    const parent = entity(link.entity);
    const row = await store.one(
      `SELECT ${parent.label} AS name FROM ${parent.table} WHERE id = ?`,
      [
        id,
      ],
    );
    if (row) names.set(id, String(row.name));
  }
  const children = ["tasks", "milestones"].flatMap((key) =>
    (record[key] as JsonRecord[] | undefined) ?? []
  );
  const ids = [String(record.id), ...names.keys(), ...children.map((c) => String(c.id))];
  const lines = recordView(def, record, {
    dates: datesOf(ctx),
    shortIds: await shortIds(store, ids),
    names,
    bold: s.bold,
  });
  ctx.io.out(lines.join("\n"));
}

/** Which flags `jdo edit` takes, and which kinds each applies to. */
interface EditField {
  flag: string;
  column: string;
  kinds: string[];
  /** Given more than once, it collects every value (`--metric a --metric b`). */
  repeatable?: boolean;
  help?: string;
  parse: (
    ctx: AppContext,
    value: string,
    all: string[],
  ) => Promise<string | number | null> | string | number | null;
}

const text = (what: string) => (_: AppContext, v: string) => requireText(v, what);
const optional = (what: string) => (_: AppContext, v: string) => optionalText(v, what);

const EDIT_FIELDS: EditField[] = [
  { flag: "deliverable", column: "deliverable", kinds: ["commitment"], parse: text("deliverable") },
  {
    flag: "title",
    column: "title",
    kinds: ["goal", "vision", "milestone", "task"],
    parse: text("title"),
  },
  { flag: "text", column: "text", kinds: ["inbox"], parse: text("inbox text") },
  { flag: "name", column: "name", kinds: ["stakeholder"], parse: text("name") },
  {
    flag: "type",
    column: "type",
    kinds: ["stakeholder"],
    parse: (_, v) => {
      if (!(STAKEHOLDER_TYPES as readonly string[]).includes(v)) {
        throw new JdoError("USAGE", `--type must be one of ${STAKEHOLDER_TYPES.join(", ")}`);
      }
      return v;
    },
  },
  {
    flag: "due",
    column: "due_date",
    kinds: ["commitment"],
    parse: async (c, v) => (await dueArg(c, v, "--due")).date,
  },
  {
    flag: "time",
    column: "due_time",
    kinds: ["commitment"],
    parse: (_, v) => timeArg(v),
  },
  {
    flag: "target",
    column: "target_date",
    kinds: ["milestone"],
    parse: (c, v) => dateArg(c, v, "--target"),
  },
  {
    flag: "notes",
    column: "notes",
    kinds: ["commitment", "stakeholder"],
    parse: optional("notes"),
  },
  { flag: "narrative", column: "narrative", kinds: ["vision"], parse: text("narrative") },
  { flag: "timeframe", column: "timeframe", kinds: ["vision"], parse: optional("timeframe") },
  {
    flag: "metric",
    column: "metrics",
    kinds: ["vision"],
    repeatable: true,
    help: 'vision: metrics, repeatable; replaces the list (--metric "" empties it)',
    parse: (_, _v, all) =>
      JSON.stringify(all.filter((m) => m.trim() !== "").map((m) => requireText(m, "metric"))),
  },
  { flag: "why", column: "why_it_matters", kinds: ["vision"], parse: optional("why it matters") },
  { flag: "problem", column: "problem_statement", kinds: ["goal"], parse: optional("problem") },
  { flag: "solution", column: "solution_vision", kinds: ["goal"], parse: optional("solution") },
  { flag: "motivation", column: "motivation", kinds: ["goal"], parse: optional("motivation") },
  {
    flag: "vision",
    column: "vision_id",
    kinds: ["goal"],
    help: 'goal: the vision it serves (ID, or "none")',
    parse: async (c, v) =>
      v === "none" ? null : String((await resolveArg(c, v, ["vision"])).row.id),
  },
  {
    flag: "parent",
    column: "parent_goal_id",
    kinds: ["goal"],
    help: 'goal: parent goal (ID, or "none")',
    parse: async (c, v) => v === "none" ? null : String((await resolveArg(c, v, ["goal"])).row.id),
  },
  {
    flag: "description",
    column: "description",
    kinds: ["milestone"],
    parse: optional("description"),
  },
  { flag: "scope", column: "scope", kinds: ["task"], parse: optional("scope") },
  {
    flag: "estimate",
    column: "estimated_hours",
    kinds: ["task"],
    parse: (_, v) => parseHours(v, "--estimate"),
  },
  {
    flag: "review",
    column: "review_interval_days",
    kinds: ["goal"],
    parse: (_, v) => {
      const n = parseInteger(v, "--review");
      if (![7, 30, 90].includes(n)) throw new JdoError("USAGE", "--review must be 7, 30 or 90");
      return n;
    },
  },
  {
    flag: "goal",
    column: "goal_id",
    kinds: ["commitment"],
    parse: async (c, v) => v === "none" ? null : String((await resolveArg(c, v, ["goal"])).row.id),
  },
  {
    flag: "milestone",
    column: "milestone_id",
    kinds: ["commitment"],
    parse: async (c, v) =>
      v === "none" ? null : String((await resolveArg(c, v, ["milestone"])).row.id),
  },
];

/** Refuses a parent goal that is the goal itself or one of its descendants. */
async function assertNoGoalCycle(ctx: AppContext, goalId: string, parentId: string) {
  const store = await ctx.store();
  const seen = new Set<string>();
  for (let at: string | null = parentId; at !== null && !seen.has(at);) {
    if (at === goalId) {
      throw new JdoError(
        "INVALID_INPUT",
        "A goal cannot be its own parent or the parent of a goal above it",
      );
    }
    seen.add(at);
    const row = await store.one("SELECT parent_goal_id FROM goals WHERE id = ?", [at]);
    at = (row?.parent_goal_id as string | null | undefined) ?? null;
  }
}

type EditOptions = Record<string, string | string[] | undefined>;

async function editRow(ctx: AppContext, idArg: string, opts: EditOptions) {
  const { def, row } = await resolveArg(ctx, idArg);
  const patch: Row = {};
  const one = (flag: string) => opts[flag] as string | undefined;
  for (const field of EDIT_FIELDS) {
    const given = opts[field.flag];
    if (given === undefined) continue;
    if (!field.kinds.includes(def.name)) {
      throw new JdoError("USAGE", `--${field.flag} does not apply to a ${def.name}`);
    }
    const all = Array.isArray(given) ? given : [given];
    patch[field.column] = await field.parse(ctx, all[all.length - 1], all);
  }
  const due = one("due");
  if (due !== undefined && one("time") === undefined) {
    // A time in the phrase ("tomorrow 3pm") sets the due time unless --time is given.
    const { time } = await dueArg(ctx, due, "--due");
    if (time !== undefined) patch.due_time = time;
  }
  // A task's scope is never empty: cleared, it is the title again (as when it was added).
  if (def.name === "task" && "scope" in patch && patch.scope === null) {
    patch.scope = patch.title ?? row.title;
  }
  if (typeof patch.parent_goal_id === "string") {
    await assertNoGoalCycle(ctx, String(row.id), patch.parent_goal_id);
  }
  const d = await domainOf(ctx);
  const to = one("to");
  if (to !== undefined && def.name !== "commitment") {
    throw new JdoError("USAGE", `--to does not apply to a ${def.name}`);
  }
  const status = one("status");
  if (status !== undefined) {
    const wanted = statusArg(def, status);
    Object.assign(patch, statusPatch(d, def, { ...row, ...patch }, wanted));
  }
  if (Object.keys(patch).length === 0 && to === undefined) {
    throw new JdoError(
      "USAGE",
      "Nothing to change: give at least one option (see jdo edit --help)",
    );
  }
  const open = !["completed", "abandoned"].includes(String(patch.status ?? row.status));
  const dueChanged = def.name === "commitment" &&
    (patch.due_date !== undefined || patch.due_time !== undefined);
  if (dueChanged) {
    // The commitment keeps its zone: the new date and time are read there.
    const zone = String(row.timezone ?? ctx.timeZone());
    const due = existingDueTime(
      ctx,
      String(patch.due_date ?? row.due_date),
      String(patch.due_time ?? row.due_time),
      zone,
    );
    if (due.date !== (patch.due_date ?? row.due_date)) patch.due_date = due.date;
    if (due.time !== (patch.due_time ?? row.due_time)) patch.due_time = due.time;
    // A closed commitment's date is history: correcting it into the past is no slip.
    if (open) await confirmPastDue(ctx, due.date, due.time, zone);
  }
  await d.store.write(async (w) => {
    if (typeof patch.name === "string" && def.name === "stakeholder") {
      await assertStakeholderNameFree(w, patch.name, String(row.id));
    }
    if (to !== undefined) patch.stakeholder_id = (await stakeholderByName(w, to)).id;
    const updated = await w.update(def, String(row.id), patch);
    if (status !== undefined) await followStatusChange(w, def.name, updated, String(patch.status));
    if (def.name === "commitment" && ["completed", "abandoned"].includes(String(patch.status))) {
      await followInstanceClosed(w, updated, d.dates());
    }
    if (status !== undefined && def.name === "task") {
      await logTaskStatusChange(w, updated, String(row.status));
    }
  });
  await reportWrite(
    ctx,
    opts.json !== undefined,
    def,
    String(row.id),
    (id) =>
      dueChanged
        ? `Updated ${def.name} ${id}: due ${dueText({ ...row, ...patch }, ctx.timeZone())}`
        : `Updated ${def.name} ${id}`,
  );
}

export const VERB_HELP: Record<Verb, string> = {
  start: "Mark a commitment, task or milestone as in progress",
  complete: "Complete a commitment, task or milestone (goal/vision: achieved; inbox: triaged)",
  "at-risk": "Warn that a commitment is at risk of missing its due date",
  abandon: "Abandon a commitment, goal or vision (task: skipped; milestone: missed)",
};

interface ListFlags {
  all?: boolean;
  status?: string;
  json?: boolean;
}

/** `jdo list [kind]` (also on the fast path: src/cli/fast_commands.ts). */
export async function listAction(ctx: AppContext, kind: string, opts: ListFlags): Promise<void> {
  const def = kindOf(kind);
  const status = opts.status === undefined ? undefined : statusArg(def, opts.status);
  // Viewing commitments generates the recurring instances now due (as the original).
  if (def.name === "commitment") await generateDue(await domainOf(ctx));
  await printList(ctx, def, { all: opts.all, status }, opts.json === true);
}

/** `jdo show ID` (also on the fast path). */
export async function showAction(
  ctx: AppContext,
  id: string,
  opts: { json?: boolean },
): Promise<void> {
  const { def, row } = await resolveArg(ctx, id);
  const record = await loadRecord(await ctx.store(), def, String(row.id));
  if (opts.json) printJson(ctx, record);
  else await printRecord(ctx, def, record);
}

export function registerItemCommands(program: Command, ctx: AppContext): void {
  program.command("list")
    .description(`List items (default: active commitments, soonest due first)`)
    .argument("[kind]", KINDS.join("|"), "commitments")
    .option("--all", "include completed, abandoned and other closed items")
    .option("--status <status>", "only items with this status")
    .option("--json", "print a JSON array")
    .action((kind: string, opts: ListFlags) => listAction(ctx, kind, opts));

  program.command("show")
    .description("Show one item by ID (any unique prefix of 4+ characters)")
    .argument("<id>", "item ID or prefix")
    .option("--json", "print a JSON object")
    .action((id: string, opts: { json?: boolean }) => showAction(ctx, id, opts));

  const edit = program.command("edit")
    .description("Change fields of an item")
    .argument("<id>", "item ID or prefix")
    .option("--to <name>", "commitment: new stakeholder")
    .option("--status <status>", "set the status directly")
    .option("--json", "print the changed item as JSON");
  for (const field of EDIT_FIELDS) {
    const help = field.help ?? `${field.kinds.join("/")}: ${field.column.replaceAll("_", " ")}`;
    if (field.repeatable) {
      edit.option(`--${field.flag} <value>`, help, (v: string, acc: string[] = []) => [...acc, v]);
    } else edit.option(`--${field.flag} <value>`, help);
  }
  edit.action(async (id: string, opts: EditOptions) => {
    await editRow(ctx, id, opts);
  });

  program.command("start")
    .description(VERB_HELP.start)
    .argument("<id>", "item ID or prefix")
    .option("--json", "print the changed item as JSON")
    .action(async (id: string, opts: { json?: boolean }) => {
      const { def, row } = await resolveArg(ctx, id);
      const updated = await transition(await domainOf(ctx), "start", def, row);
      await reportTransition(ctx, opts.json, def, row, updated);
    });

  program.command("complete")
    .description(VERB_HELP.complete)
    .argument("<id>", "item ID or prefix")
    .option(
      "--actual <category>",
      "task with an estimate: time taken against it (much_shorter, shorter, on_target, longer, much_longer)",
    )
    .option("--json", "print the changed item as JSON")
    .action(async (id: string, opts: { actual?: string; json?: boolean }) => {
      const { def, row } = await resolveArg(ctx, id);
      const actual = opts.actual === undefined
        ? await askActualHours(ctx, def, row)
        : parseActualHours(opts.actual);
      const updated = await transition(await domainOf(ctx), "complete", def, row, { actual });
      await reportTransition(ctx, opts.json, def, row, updated);
    });
  registerHonorCommands(program, ctx, VERB_HELP);

  program.command("delete")
    .description("Delete an item (its tasks or milestones go with it)")
    .argument("<id>", "item ID or prefix")
    .option("--yes", "do not ask for confirmation")
    .option("--json", "print {deleted: N} as JSON")
    .action(async (id: string, opts: { yes?: boolean; json?: boolean }) => {
      const { def, row } = await resolveArg(ctx, id);
      const label = cellText(String(row[def.label] ?? ""), 60);
      await confirmDestructive(ctx, {
        yes: opts.yes,
        action: "delete",
        question: `Delete ${def.name} "${label}"?`,
        cancelled: "Nothing deleted",
      });
      const count = await remove(await domainOf(ctx), def, String(row.id));
      if (opts.json) printJson(ctx, { deleted: count, id: row.id, kind: def.name });
      else {ctx.io.out(
          `Deleted ${def.name} "${label}"${
            count > 1 ? ` and ${plural(count - 1, "related item")}` : ""
          }`,
        );}
    });
}
