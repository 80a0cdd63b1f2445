import type { Command } from "commander";
import type { AppContext } from "../../app/context.ts";
import { ENTITIES, type EntityDef, type Row } from "../../db/schema.ts";
import {
  optionalText,
  remove,
  requireText,
  STAKEHOLDER_TYPES,
  stakeholderByName,
  statusPatch,
  transition,
  type Verb,
} from "../../domain/actions.ts";
import { ShortIdIndex, shortIds, truncate } from "../../domain/ids.ts";
import {
  forEachRecordPage,
  type JsonRecord,
  type ListOptions,
  loadRecord,
  PAGE_SIZE,
} from "../../domain/records.ts";
import { JdoError } from "../../errors.ts";
import { style, visibleWidth } from "../../output/colors.ts";
import { dueLabel } from "../../output/due_label.ts";
import { renderTable } from "../../output/table.ts";
import {
  dateArg,
  datesOf,
  domainOf,
  parseInteger,
  parseNumber,
  printJson,
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

/** Formats one page of a list as table rows (with its header, for the first page). */
function listTable(
  ctx: AppContext,
  def: EntityDef,
  records: JsonRecord[],
  shorts: Map<string, string>,
): { headers: string[]; rows: string[][] } {
  const s = style(ctx.io.color);
  const id = (r: JsonRecord) => s.dim(shorts.get(String(r.id)) ?? String(r.id));
  const status = (r: JsonRecord) => String(r.status ?? "").replace("_", " ");
  if (def.name === "commitment") {
    const dates = datesOf(ctx);
    const rows = records.map((r) => {
      const open = !["completed", "abandoned"].includes(String(r.status));
      const due = dueLabel(r, dates);
      const marker = !open
        ? ""
        : due.level === 2
        ? s.red(due.text)
        : due.level === 1
        ? s.yellow(due.text)
        : s.dim(due.text);
      return [
        id(r),
        `${r.due_date} ${r.due_time}`,
        marker,
        status(r),
        truncate(String(r.stakeholder ?? "?"), 20),
        truncate(String(r.deliverable), 60),
      ];
    });
    return { headers: ["ID", "DUE", "", "STATUS", "TO", "DELIVERABLE"], rows };
  }
  const extra: Partial<Record<string, [string, (r: JsonRecord) => string]>> = {
    milestone: ["TARGET", (r) => String(r.target_date)],
    stakeholder: ["TYPE", (r) => String(r.type)],
    inbox: ["CAPTURED", (r) => String(r.created_at).slice(0, 10)],
    task: ["COMMITMENT", (r) => String(r.commitment_id).slice(0, 6)],
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
    truncate(String(r[def.label]), 70),
  ]);
  return { headers, rows };
}

/**
 * `jdo list`: rows are read and printed a page at a time (keyset
 * pagination), so memory stays flat however many there are. Each page is
 * aligned on its own; --json prints exactly what JSON.stringify would.
 */
async function printList(ctx: AppContext, def: EntityDef, options: ListOptions, json: boolean) {
  const store = await ctx.store();
  let index: ShortIdIndex | undefined;
  let pending: string | undefined;
  let pages = 0;
  let widths: number[] = [];
  const total = await forEachRecordPage(store, def, options, async (records) => {
    pages++;
    if (json) {
      // One stringify per page; the previous page is held back for its comma.
      const text = JSON.stringify(records, null, 2);
      const body = text.slice(2, -2);
      ctx.io.out(pending === undefined ? "[" : pending + ",");
      pending = body;
      return;
    }
    const ids = records.map((r) => String(r.id));
    // One page only: ask for these ids; more: load every id once (8 bytes each).
    if (!index && (pages > 1 || records.length === PAGE_SIZE)) {
      index = await ShortIdIndex.load(store);
    }
    const shorts = index ? await index.shortsOf(ids) : await shortIds(store, ids);
    const { headers, rows } = listTable(ctx, def, records, shorts);
    // Later pages keep the columns at least as wide as the ones printed already.
    const head = pages === 1 ? headers : widths.map((w) => " ".repeat(w));
    widths = head.map((h, i) =>
      Math.max(widths[i] ?? 0, visibleWidth(h), ...rows.map((r) => visibleWidth(r[i] ?? "")))
    );
    const table = renderTable(head, rows);
    ctx.io.out(pages === 1 ? table : table.slice(table.indexOf("\n") + 1));
  });
  if (json) {
    ctx.io.out(pending === undefined ? "[]" : `${pending}\n]`);
  } else if (total === 0) {
    ctx.io.out(`No ${def.plural === "inbox" ? "inbox items" : def.plural} to show.`);
  }
}

function printRecord(ctx: AppContext, record: JsonRecord) {
  const s = style(ctx.io.color);
  const lines: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (value === null || key === "tasks" || key === "milestones") continue;
    const shown = Array.isArray(value)
      ? value.join("; ")
      : typeof value === "object"
      ? JSON.stringify(value)
      : String(value);
    lines.push(`${s.bold(key.padEnd(18))} ${shown}`);
  }
  for (const key of ["tasks", "milestones"]) {
    const children = record[key] as JsonRecord[] | undefined;
    if (!children) continue;
    lines.push(`${s.bold(key.padEnd(18))} ${children.length === 0 ? "none" : ""}`);
    for (const c of children) {
      lines.push(`  ${String(c.id).slice(0, 8)}  ${String(c.status).padEnd(11)} ${c.title}`);
    }
  }
  ctx.io.out(lines.join("\n"));
}

/** Which flags `jdo edit` takes, and which kinds each applies to. */
interface EditField {
  flag: string;
  column: string;
  kinds: string[];
  parse: (
    ctx: AppContext,
    value: string,
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
    parse: (c, v) => dateArg(c, v, "--due"),
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
  { flag: "problem", column: "problem_statement", kinds: ["goal"], parse: optional("problem") },
  { flag: "solution", column: "solution_vision", kinds: ["goal"], parse: optional("solution") },
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
    parse: (_, v) => parseNumber(v, "--estimate"),
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

async function editRow(ctx: AppContext, idArg: string, opts: Record<string, string | undefined>) {
  const { def, row } = await resolveArg(ctx, idArg);
  const patch: Row = {};
  for (const field of EDIT_FIELDS) {
    const value = opts[field.flag];
    if (value === undefined) continue;
    if (!field.kinds.includes(def.name)) {
      throw new JdoError("USAGE", `--${field.flag} does not apply to a ${def.name}`);
    }
    patch[field.column] = await field.parse(ctx, value);
  }
  const d = await domainOf(ctx);
  if (opts.to !== undefined && def.name !== "commitment") {
    throw new JdoError("USAGE", `--to does not apply to a ${def.name}`);
  }
  if (opts.status !== undefined) {
    const wanted = statusArg(def, opts.status);
    Object.assign(patch, statusPatch(d, def, { ...row, ...patch }, wanted));
  }
  if (Object.keys(patch).length === 0 && opts.to === undefined) {
    throw new JdoError(
      "USAGE",
      "Nothing to change: give at least one option (see jdo edit --help)",
    );
  }
  await d.store.write(async (w) => {
    if (opts.to !== undefined) patch.stakeholder_id = (await stakeholderByName(w, opts.to)).id;
    await w.update(def, String(row.id), patch);
  });
  await reportWrite(
    ctx,
    opts.json !== undefined,
    def,
    String(row.id),
    (id) => `Updated ${def.name} ${id}`,
  );
}

const VERB_HELP: Record<Verb, string> = {
  start: "Mark a commitment, task or milestone as in progress",
  complete: "Complete a commitment, task or milestone (goal/vision: achieved; inbox: triaged)",
  "at-risk": "Warn that a commitment is at risk of missing its due date",
  abandon: "Abandon a commitment, goal or vision (task: skipped; milestone: missed)",
};

export function registerItemCommands(program: Command, ctx: AppContext): void {
  program.command("list")
    .description(`List items (default: active commitments, soonest due first)`)
    .argument("[kind]", KINDS.join("|"), "commitments")
    .option("--all", "include completed, abandoned and other closed items")
    .option("--status <status>", "only items with this status")
    .option("--json", "print a JSON array")
    .action(async (kind: string, opts: { all?: boolean; status?: string; json?: boolean }) => {
      const def = kindOf(kind);
      const status = opts.status === undefined ? undefined : statusArg(def, opts.status);
      await printList(ctx, def, { all: opts.all, status }, opts.json === true);
    });

  program.command("show")
    .description("Show one item by ID (any unique prefix of 4+ characters)")
    .argument("<id>", "item ID or prefix")
    .option("--json", "print a JSON object")
    .action(async (id: string, opts: { json?: boolean }) => {
      const { def, row } = await resolveArg(ctx, id);
      const record = await loadRecord(await ctx.store(), def, String(row.id));
      if (opts.json) printJson(ctx, record);
      else printRecord(ctx, record);
    });

  const edit = program.command("edit")
    .description("Change fields of an item")
    .argument("<id>", "item ID or prefix")
    .option("--to <name>", "commitment: new stakeholder")
    .option("--status <status>", "set the status directly")
    .option("--json", "print the changed item as JSON");
  for (const field of EDIT_FIELDS) {
    edit.option(
      `--${field.flag} <value>`,
      `${field.kinds.join("/")}: ${field.column.replaceAll("_", " ")}`,
    );
  }
  edit.action(async (id: string, opts: Record<string, string | undefined>) => {
    await editRow(ctx, id, opts);
  });

  for (const verb of ["start", "complete", "at-risk", "abandon"] as Verb[]) {
    program.command(verb)
      .description(VERB_HELP[verb])
      .argument("<id>", "item ID or prefix")
      .option("--json", "print the changed item as JSON")
      .action(async (id: string, opts: { json?: boolean }) => {
        const { def, row } = await resolveArg(ctx, id);
        const updated = await transition(await domainOf(ctx), verb, def, row);
        await reportWrite(ctx, opts.json, def, String(row.id), (short) => {
          const onTime = updated.completed_on_time === 0
            ? " (late)"
            : updated.completed_on_time === 1
            ? " (on time)"
            : "";
          return `${def.name[0].toUpperCase()}${def.name.slice(1)} ${short} is now ${
            String(updated.status).replace("_", " ")
          }${onTime}`;
        });
      });
  }

  program.command("delete")
    .description("Delete an item (its tasks or milestones go with it)")
    .argument("<id>", "item ID or prefix")
    .option("--yes", "do not ask for confirmation")
    .option("--json", "print {deleted: N} as JSON")
    .action(async (id: string, opts: { yes?: boolean; json?: boolean }) => {
      const { def, row } = await resolveArg(ctx, id);
      const label = truncate(String(row[def.label] ?? ""), 60);
      if (!opts.yes) {
        if (!ctx.io.stdinIsTty) {
          throw new JdoError("USAGE", "Refusing to delete without --yes when not on a terminal");
        }
        const ok = await ctx.prompter.confirm(`Delete ${def.name} "${label}"?`, false);
        if (!ok) throw new JdoError("CANCELLED", "Nothing deleted");
      }
      const count = await remove(await domainOf(ctx), def, String(row.id));
      if (opts.json) printJson(ctx, { deleted: count, id: row.id, kind: def.name });
      else {ctx.io.out(
          `Deleted ${def.name} "${label}"${count > 1 ? ` and ${count - 1} related items` : ""}`,
        );}
    });
}
