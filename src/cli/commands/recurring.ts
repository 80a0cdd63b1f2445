import type { Command } from "commander";
import type { AppContext } from "../../app/context.ts";
import { entity, type Row } from "../../db/schema.ts";
import { stakeholderByName } from "../../domain/actions.ts";
import { addRecurring, setRecurringStatus } from "../../domain/recurring_actions.ts";
import { optionalText, requireText } from "../../domain/input.ts";
import { shortIds } from "../../domain/ids.ts";
import { type JsonRecord, toRecord } from "../../domain/records.ts";
import {
  DAY_NAMES,
  describeEnd,
  describePattern,
  LAST_WEEK,
  MAX_INTERVAL,
  MONTH_NAMES,
  type RecurrenceType,
  type Schedule,
  weekdayOf,
} from "../../domain/recurrence.ts";
import {
  assertSchedule,
  generateDue,
  scheduleColumns,
  scheduleOf,
  type TaskTemplate,
  templateState,
} from "../../domain/recurring.ts";
import { JdoError } from "../../errors.ts";
import { safeLine } from "../../output/safe_text.ts";
import { renderTable } from "../../output/table.ts";
import { cellText } from "../../output/cell_text.ts";
import { confirmDestructive } from "../confirm.ts";
import {
  dateArg,
  datesOf,
  domainOf,
  parseInteger,
  printJson,
  resolveArg,
  timeArg,
} from "../shared.ts";
import { todayIn } from "../../domain/dates.ts";

const RECURRING = entity("recurring");

const EVERY: Record<string, RecurrenceType> = {
  day: "daily",
  days: "daily",
  daily: "daily",
  week: "weekly",
  weeks: "weekly",
  weekly: "weekly",
  month: "monthly",
  months: "monthly",
  monthly: "monthly",
  year: "yearly",
  years: "yearly",
  yearly: "yearly",
};

const NTH: Record<string, number> = {
  "1": 1,
  "1st": 1,
  first: 1,
  "2": 2,
  "2nd": 2,
  second: 2,
  "3": 3,
  "3rd": 3,
  third: 3,
  "4": 4,
  "4th": 4,
  fourth: 4,
  last: LAST_WEEK,
  "-1": LAST_WEEK,
  // The original stores 5 for "the last" too.
  "5": LAST_WEEK,
  "5th": LAST_WEEK,
};

interface PatternFlags {
  every?: string;
  day?: string;
  nth?: string;
  month?: string;
  interval?: string;
  until?: string;
  count?: string;
  forever?: boolean;
}

function bad(message: string): JdoError {
  return new JdoError("USAGE", `Bad recurrence: ${message}`);
}

function everyArg(value: string): RecurrenceType {
  const type = EVERY[value.trim().toLowerCase()];
  if (!type) throw bad(`--every "${value}" (use day, week, month or year)`);
  return type;
}

/** "monday", "mon", "Mo": the day's number (0 = Monday). */
function weekdayArg(word: string): number {
  const w = word.trim().toLowerCase();
  const index = w.length >= 2 ? DAY_NAMES.findIndex((d) => d.startsWith(w)) : -1;
  if (index < 0) throw bad(`"${word}" is not a day of the week (use monday … sunday)`);
  return index;
}

function nthArg(word: string): number {
  const n = NTH[word.trim().toLowerCase()];
  if (n === undefined) throw bad(`--nth "${word}" (use 1st, 2nd, 3rd, 4th or last)`);
  return n;
}

function monthArg(value: string): number {
  const v = value.trim().toLowerCase();
  if (/^\d{1,2}$/.test(v) && Number(v) >= 1 && Number(v) <= 12) return Number(v);
  const index = v.length >= 3 ? MONTH_NAMES.findIndex((m) => m.startsWith(v)) : -1;
  if (index < 0) throw bad(`--month "${value}" (use january … december or 1-12)`);
  return index + 1;
}

function intervalArg(value: string): number {
  const n = parseInteger(value, "--interval");
  if (n < 1 || n > MAX_INTERVAL) throw bad(`--interval must be from 1 to ${MAX_INTERVAL}`);
  return n;
}

/**
 * The pattern part of a schedule from the flags; what they leave out comes
 * from `base` (the template being edited) or, for a new one, from its start
 * date: weekly on its weekday, monthly on its day, yearly on its date.
 */
function patternFromFlags(flags: PatternFlags, start: string, base?: Schedule): Schedule {
  const type = flags.every !== undefined ? everyArg(flags.every) : base?.recurrence_type;
  if (!type) throw new JdoError("USAGE", "required option '--every <unit>' not specified");
  const keepDays = base && flags.every === undefined && flags.day === undefined &&
    flags.nth === undefined;
  const s: Schedule = {
    recurrence_type: type,
    interval: flags.interval !== undefined ? intervalArg(flags.interval) : base?.interval ?? 1,
    days_of_week: keepDays ? base.days_of_week : null,
    day_of_month: keepDays ? base.day_of_month : null,
    week_of_month: keepDays ? base.week_of_month : null,
    month_of_year: flags.month !== undefined
      ? monthArg(flags.month)
      : base?.recurrence_type === "yearly"
      ? base.month_of_year
      : null,
    start_date: start,
    end_type: base?.end_type ?? "never",
    end_after_count: base?.end_after_count ?? null,
    end_by_date: base?.end_by_date ?? null,
  };
  const day = flags.day?.trim().toLowerCase();
  const [, m, d] = start.split("-").map(Number);
  if (type === "daily") {
    if (flags.day !== undefined || flags.nth !== undefined) {
      throw bad("--day and --nth do not apply to a daily recurrence");
    }
    s.days_of_week = s.day_of_month = s.week_of_month = null;
  } else if (type === "weekly") {
    if (flags.nth !== undefined) throw bad("--nth applies to monthly and yearly recurrences");
    if (day !== undefined) {
      s.days_of_week = day.split(",").map((w) => w.trim()).filter(Boolean).map(weekdayArg);
    } else if (!s.days_of_week) s.days_of_week = [weekdayOf(start)];
    s.day_of_month = s.week_of_month = null;
  } else {
    const nthDay = day?.match(/^(\S+)\s+(\S+)$/); // "2nd tuesday", "last friday"
    if (day !== undefined && /^\d{1,2}$/.test(day)) {
      if (flags.nth !== undefined) throw bad("--nth goes with a weekday, not a day of the month");
      s.day_of_month = Number(day);
      s.days_of_week = s.week_of_month = null;
    } else if (nthDay) {
      s.week_of_month = nthArg(nthDay[1]);
      s.days_of_week = [weekdayArg(nthDay[2])];
      s.day_of_month = null;
    } else if (day !== undefined) {
      if (flags.nth === undefined) {
        throw bad(`--day "${flags.day}": give a day of the month (15), or a weekday with --nth`);
      }
      if (day.includes(",")) throw bad("a monthly or yearly recurrence takes one weekday");
      s.week_of_month = nthArg(flags.nth);
      s.days_of_week = [weekdayArg(day)];
      s.day_of_month = null;
    } else if (flags.nth !== undefined) {
      s.week_of_month = nthArg(flags.nth);
      s.days_of_week = s.days_of_week?.length === 1 ? s.days_of_week : [weekdayOf(start)];
      s.day_of_month = null;
    } else if (s.day_of_month === null && s.week_of_month === null) {
      s.day_of_month = d;
    }
    if (type === "yearly" && s.month_of_year === null) s.month_of_year = m;
    if (type === "monthly") s.month_of_year = null;
  }
  if (type !== "yearly" && flags.month !== undefined) {
    throw bad("--month applies to a yearly recurrence");
  }
  return s;
}

async function endFromFlags(ctx: AppContext, flags: PatternFlags, s: Schedule): Promise<void> {
  const given = [flags.until, flags.count, flags.forever].filter((v) => v !== undefined);
  if (given.length > 1) throw bad("give one of --until, --count and --forever");
  if (flags.until !== undefined) {
    s.end_type = "by_date";
    s.end_by_date = await dateArg(ctx, flags.until, "--until");
    s.end_after_count = null;
  } else if (flags.count !== undefined) {
    const n = parseInteger(flags.count, "--count");
    if (n < 1) throw bad("--count must be at least 1");
    s.end_type = "after_count";
    s.end_after_count = n;
    s.end_by_date = null;
  } else if (flags.forever) {
    s.end_type = "never";
    s.end_after_count = null;
    s.end_by_date = null;
  }
}

function tasksArg(titles: string[]): string {
  const list: TaskTemplate[] = titles.map((t, i) => ({
    title: requireText(t, "task title"),
    order: i + 1,
  }));
  return JSON.stringify(list);
}

/** A template as JSON: its fields, plus its pattern in words, next due date and instance count. */
async function templateRecord(ctx: AppContext, row: Row): Promise<JsonRecord> {
  const store = await ctx.store();
  const state = await templateState(store, row, datesOf(ctx));
  const stakeholder = await store.one("SELECT name FROM stakeholders WHERE id = ?", [
    row.stakeholder_id,
  ]);
  return {
    ...toRecord(RECURRING, row),
    stakeholder: stakeholder?.name ?? null,
    pattern: describePattern(scheduleOf(row)),
    ends: describeEnd(scheduleOf(row)),
    instances: state.instances,
    next_due: state.next,
  };
}

async function loadTemplate(ctx: AppContext, id: string): Promise<Row> {
  const store = await ctx.store();
  return (await store.one("SELECT * FROM recurring_commitments WHERE id = ?", [id]))!;
}

async function printTemplate(ctx: AppContext, record: JsonRecord): Promise<void> {
  const store = await ctx.store();
  const short = (await shortIds(store, [String(record.id)])).get(String(record.id));
  const tasks = (record.task_templates as TaskTemplate[] | null ?? []).map((t) => t.title);
  const lines: [string, unknown][] = [
    ["To", record.stakeholder],
    ["Pattern", record.pattern],
    ["Due time", `${record.due_time}${record.timezone ? ` (${record.timezone})` : ""}`],
    ["Starts", record.start_date],
    ["Ends", record.ends],
    ["Status", record.status],
    ["Instances", record.instances],
    ["Next due", record.next_due ?? (record.status === "paused" ? "— (paused)" : "— (ended)")],
    ["Tasks", tasks.length ? tasks.join("; ") : null],
    ["Notes", record.notes],
  ];
  ctx.io.out(safeLine(`Recurring ${short}: ${record.deliverable}`));
  for (const [label, value] of lines) {
    if (value === null || value === undefined) continue;
    ctx.io.out(safeLine(`  ${`${label}:`.padEnd(11)} ${value}`));
  }
}

async function reportTemplate(
  ctx: AppContext,
  json: boolean | undefined,
  id: string,
  message: (short: string) => string,
  extra: JsonRecord = {},
): Promise<void> {
  const record = await templateRecord(ctx, await loadTemplate(ctx, id));
  if (json) return printJson(ctx, { ...record, ...extra });
  const store = await ctx.store();
  const short = (await shortIds(store, [id])).get(id) ?? id;
  ctx.io.out(safeLine(message(short)));
}

interface AddFlags extends PatternFlags {
  to: string;
  time?: string;
  start?: string;
  task?: string[];
  goal?: string;
  notes?: string;
  json?: boolean;
}

interface EditFlags extends PatternFlags {
  to?: string;
  deliverable?: string;
  time?: string;
  task?: string[];
  tasks?: boolean;
  goal?: string;
  notes?: string;
  json?: boolean;
}

function patternOptions(command: Command): Command {
  return command
    .option(
      "--day <day>",
      "weekly: monday[,thursday]; monthly/yearly: 15, or '2nd tuesday', 'last friday'",
    )
    .option("--nth <n>", "monthly/yearly: 1st, 2nd, 3rd, 4th or last (with --day WEEKDAY)")
    .option("--month <month>", "yearly: the month (march, 3)")
    .option("--interval <n>", "every N days/weeks/months/years (default 1)")
    .option("--until <date>", "end: no occurrence after this date")
    .option("--count <n>", "end: after N occurrences");
}

const collect = (v: string, acc: string[] = []) => [...acc, v];

/** `jdo recurring …`: templates that generate a commitment per occurrence. */
export function registerRecurringCommand(program: Command, ctx: AppContext): void {
  const recurring = program.command("recurring")
    .description("Recurring commitments: add, list, show, edit, pause, resume, delete");

  patternOptions(
    recurring.command("add")
      .description("Add a recurring commitment (its first instance is created at once)")
      .argument("<deliverable>", "what you deliver each time")
      .requiredOption("--to <name>", "the stakeholder")
      .requiredOption("--every <unit>", "day, week, month or year"),
  )
    .option("--time <time>", "due time of each instance (default 09:00)")
    .option("--start <date>", "first occurrence on or after this date (default today)")
    .option("--task <title>", "a task copied into each instance (repeatable)", collect)
    .option("--goal <id>", "the goal each instance serves")
    .option("--notes <text>", "notes copied into each instance")
    .option("--json", "print the recurring commitment as JSON")
    .action(async (deliverableArg: string, opts: AddFlags) => {
      const deliverable = requireText(deliverableArg, "deliverable");
      const dates = datesOf(ctx);
      const start = opts.start !== undefined
        ? await dateArg(ctx, opts.start, "--start")
        : todayIn(dates);
      const s = patternFromFlags(opts, start);
      await endFromFlags(ctx, opts, s);
      assertSchedule(s);
      const time = opts.time !== undefined ? timeArg(opts.time) : "09:00";
      const goalId = opts.goal !== undefined
        ? String((await resolveArg(ctx, opts.goal, ["goal"])).row.id)
        : null;
      const notes = optionalText(opts.notes, "notes");
      const { template, first } = await addRecurring(await domainOf(ctx), {
        deliverable,
        stakeholder: opts.to,
        schedule: s,
        dueTime: time,
        goalId,
        notes,
        tasks: (opts.task ?? []).map((title) => ({ title })),
      });
      const id = String(template.id);
      const firstId = first ? String(first.commitment.id) : null;
      const store = await ctx.store();
      const shorts = await shortIds(store, [id, ...(firstId ? [firstId] : [])]);
      await reportTemplate(
        ctx,
        opts.json,
        id,
        (short) =>
          `Added recurring ${short}: ${deliverable} (${describePattern(s)}); ` +
          (first
            ? `first instance ${shorts.get(firstId!)} due ${first.commitment.due_date}`
            : "no occurrence in its range"),
        { first_instance_id: firstId },
      );
    });

  recurring.command("list")
    .description("List recurring commitments with their pattern and next due date")
    .option("--json", "print a JSON array")
    .action(async (opts: { json?: boolean }) => {
      await generateDue(await domainOf(ctx));
      const store = await ctx.store();
      const rows = await store.query(
        "SELECT * FROM recurring_commitments WHERE deleted_at IS NULL ORDER BY created_at, id",
      );
      const records = [];
      for (const row of rows) records.push(await templateRecord(ctx, row));
      if (opts.json) return printJson(ctx, records);
      if (records.length === 0) {
        ctx.io.out(
          'No recurring commitments. Add one: jdo recurring add "…" --to NAME --every week',
        );
        return;
      }
      const shorts = await shortIds(store, records.map((r) => String(r.id)));
      ctx.io.out(renderTable(
        ["ID", "STATUS", "PATTERN", "NEXT", "TO", "DELIVERABLE"],
        records.map((r) => [
          shorts.get(String(r.id)) ?? String(r.id),
          String(r.status),
          String(r.pattern),
          String(r.next_due ?? "—"),
          cellText(String(r.stakeholder ?? "?"), 20),
          cellText(String(r.deliverable), 60),
        ]),
        { shrink: [5, 4], width: ctx.io.columns() },
      ));
    });

  recurring.command("show")
    .description("Show a recurring commitment")
    .argument("<id>", "recurring commitment ID or prefix")
    .option("--json", "print a JSON object")
    .action(async (idArg: string, opts: { json?: boolean }) => {
      const { row } = await resolveArg(ctx, idArg, ["recurring"]);
      const record = await templateRecord(ctx, row);
      if (opts.json) return printJson(ctx, record);
      await printTemplate(ctx, record);
    });

  patternOptions(
    recurring.command("edit")
      .description("Change a recurring commitment (instances already made stay as they are)")
      .argument("<id>", "recurring commitment ID or prefix")
      .option("--deliverable <text>", "new deliverable")
      .option("--to <name>", "new stakeholder")
      .option("--every <unit>", "day, week, month or year"),
  )
    .option("--forever", "end: never")
    .option("--time <time>", "due time of each instance")
    .option(
      "--task <title>",
      "the tasks copied into each instance (repeatable; replaces them)",
      collect,
    )
    .option("--no-tasks", "no tasks in the instances")
    .option("--goal <id>", "the goal each instance serves ('none' to unlink)")
    .option("--notes <text>", "notes copied into each instance")
    .option("--json", "print the changed recurring commitment as JSON")
    .action(async (idArg: string, opts: EditFlags) => {
      const { row } = await resolveArg(ctx, idArg, ["recurring"]);
      const patch: Row = {};
      const base = scheduleOf(row);
      const patternGiven = [opts.every, opts.day, opts.nth, opts.month, opts.interval]
        .some((v) => v !== undefined);
      const endGiven = [opts.until, opts.count, opts.forever].some((v) => v !== undefined);
      if (patternGiven || endGiven) {
        const s = patternGiven ? patternFromFlags(opts, base.start_date, base) : { ...base };
        await endFromFlags(ctx, opts, s);
        assertSchedule(s);
        Object.assign(patch, scheduleColumns(s));
      }
      if (opts.deliverable !== undefined) {
        patch.deliverable = requireText(opts.deliverable, "deliverable");
      }
      if (opts.time !== undefined) patch.due_time = timeArg(opts.time);
      if (opts.task !== undefined) patch.task_templates = tasksArg(opts.task);
      else if (opts.tasks === false) patch.task_templates = "[]";
      if (opts.notes !== undefined) patch.notes = optionalText(opts.notes, "notes");
      if (opts.goal !== undefined) {
        patch.goal_id = opts.goal === "none"
          ? null
          : String((await resolveArg(ctx, opts.goal, ["goal"])).row.id);
      }
      if (Object.keys(patch).length === 0 && opts.to === undefined) {
        throw new JdoError(
          "USAGE",
          "Nothing to change: give at least one option (see jdo recurring edit --help)",
        );
      }
      const d = await domainOf(ctx);
      await d.store.write(async (w) => {
        if (opts.to !== undefined) patch.stakeholder_id = (await stakeholderByName(w, opts.to)).id;
        await w.update(RECURRING, String(row.id), patch);
      });
      await reportTemplate(ctx, opts.json, String(row.id), (short) => {
        const s = scheduleOf({ ...row, ...patch });
        return `Updated recurring ${short}: ${describePattern(s)}, ends ${describeEnd(s)}`;
      });
    });

  for (const [verb, status] of [["pause", "paused"], ["resume", "active"]] as const) {
    recurring.command(verb)
      .description(
        verb === "pause"
          ? "Pause a recurring commitment: no new instances until resumed"
          : "Resume a paused recurring commitment (its next instance is made when due)",
      )
      .argument("<id>", "recurring commitment ID or prefix")
      .option("--json", "print the recurring commitment as JSON")
      .action(async (idArg: string, opts: { json?: boolean }) => {
        const { row } = await resolveArg(ctx, idArg, ["recurring"]);
        await setRecurringStatus(await domainOf(ctx), row, status);
        await reportTemplate(
          ctx,
          opts.json,
          String(row.id),
          (short) =>
            status === "paused"
              ? `Paused recurring ${short}: no new instances until jdo recurring resume ${short}`
              : `Resumed recurring ${short}`,
        );
      });
  }

  recurring.command("delete")
    .description("Delete a recurring commitment (the instances it made stay)")
    .argument("<id>", "recurring commitment ID or prefix")
    .option("--yes", "do not ask for confirmation")
    .option("--json", "print {deleted: 1} as JSON")
    .action(async (idArg: string, opts: { yes?: boolean; json?: boolean }) => {
      const { row } = await resolveArg(ctx, idArg, ["recurring"]);
      const label = cellText(String(row.deliverable), 60);
      await confirmDestructive(ctx, {
        yes: opts.yes,
        action: "delete",
        question: `Delete recurring commitment "${label}"? (its instances stay)`,
        cancelled: "Nothing deleted",
      });
      const d = await domainOf(ctx);
      await d.store.write((w) => w.tombstone(RECURRING, String(row.id)));
      if (opts.json) printJson(ctx, { deleted: 1, id: row.id, kind: "recurring" });
      else ctx.io.out(`Deleted recurring commitment "${label}" (its instances stay)`);
    });
}
