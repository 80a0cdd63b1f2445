import type { AppContext } from "../app/context.ts";
import { ENTITIES, entity, type EntityDef, type EntityName, type Row } from "../db/schema.ts";
import type { Domain } from "../domain/actions.ts";
import {
  type DateContext,
  type DateOrder,
  DateParserNotLoaded,
  type DateTime,
  daysBetween,
  InvalidDateError,
  loadDateParser,
  parseDateTime,
  parseTimeOfDay,
  skippedWallTime,
  todayIn,
  type WallTime,
  zonedInstant,
} from "../domain/dates.ts";
import { plural } from "../output/plural.ts";
import { type Resolved, resolveId, shortIds } from "../domain/ids.ts";
import { loadRecord } from "../domain/records.ts";
import { JdoError } from "../errors.ts";
import { safeLine } from "../output/safe_text.ts";

export async function domainOf(ctx: AppContext): Promise<Domain> {
  const store = await ctx.store();
  return { store, dates: () => datesOf(ctx) };
}

export function datesOf(ctx: AppContext): DateContext {
  const dateOrder = dateOrderOf(ctx.env.JDO_DATE_ORDER);
  return { now: ctx.clock.now(), timeZone: ctx.timeZone(), ...(dateOrder ? { dateOrder } : {}) };
}

/** JDO_DATE_ORDER: how numeric dates (1/2/2027) read; unset, ambiguous ones are refused. */
function dateOrderOf(value: string | undefined): DateOrder | undefined {
  const wanted = value?.trim().toLowerCase();
  if (!wanted) return undefined;
  if (wanted === "mdy" || wanted === "dmy") return wanted;
  throw new JdoError("CONFIG_INVALID", `JDO_DATE_ORDER must be mdy or dmy, not "${value}"`);
}

/**
 * A due date and time that exists in the zone: a time skipped when the
 * clocks go forward (02:30 on a spring-forward night) moves to the time it
 * becomes (03:30), with a note on stderr saying so.
 */
export function existingDueTime(
  ctx: AppContext,
  date: string,
  time: string,
  timeZone: string,
): WallTime {
  const moved = skippedWallTime(date, time, timeZone);
  if (!moved) return { date, time };
  ctx.io.err(
    `jdo: note: ${date} ${time} does not exist in ${timeZone} (the clocks go forward); due ${moved.date} ${moved.time} instead`,
  );
  return moved;
}

/** Parses --due: the date, and the time of day when the phrase names one ("tomorrow 3pm"). */
export async function dueArg(ctx: AppContext, input: string, flag: string): Promise<DateTime> {
  try {
    try {
      return parseDateTime(input, datesOf(ctx));
    } catch (error) {
      // Most dates are read without chrono-node; load it only for a phrase that needs it.
      if (!(error instanceof DateParserNotLoaded)) throw error;
      await loadDateParser();
      return parseDateTime(input, datesOf(ctx));
    }
  } catch (error) {
    if (error instanceof InvalidDateError) {
      throw new JdoError("INVALID_DATE", `${flag}: ${error.message}`);
    }
    throw error;
  }
}

/** Parses a date-only flag (--target): a phrase naming a time of day is refused. */
export async function dateArg(ctx: AppContext, input: string, flag: string): Promise<string> {
  const { date, time } = await dueArg(ctx, input, flag);
  if (time !== undefined) {
    throw new JdoError(
      "INVALID_DATE",
      `${flag}: "${input}" names a time of day; ${flag} takes a date only`,
    );
  }
  return date;
}

/**
 * A due date and time before now is most likely a slip: on a terminal, ask
 * whether to keep it (no cancels); otherwise warn on stderr and go on.
 */
export async function confirmPastDue(
  ctx: AppContext,
  date: string,
  time: string,
  timeZone: string,
): Promise<void> {
  const now = ctx.clock.now();
  if (zonedInstant(date, time, timeZone).getTime() >= now.getTime()) return;
  const days = daysBetween(date, todayIn({ now, timeZone }));
  const ago = days <= 0 ? "earlier today" : `${plural(days, "day")} ago`;
  const what = `the due date ${date} ${time} is in the past (${ago})`;
  if (ctx.io.stdinIsTty && ctx.io.stdoutIsTty) {
    const keep = await ctx.prompter.confirm(
      `${what[0].toUpperCase()}${what.slice(1)}. Save it anyway?`,
      false,
    );
    if (!keep) throw new JdoError("CANCELLED", "Nothing saved");
    return;
  }
  ctx.io.err(`jdo: warning: ${what}; saved anyway`);
}

/** Parses --time (HH:MM, 3pm, noon, eod…), turning a bad value into a usage error naming it. */
export function timeArg(value: string): string {
  try {
    return parseTimeOfDay(value);
  } catch (error) {
    throw new JdoError("USAGE", `--time: ${(error as Error).message}`);
  }
}

/** Checks --status against the kind's statuses ("in-progress" means in_progress). */
export function statusArg(def: EntityDef, input: string): string {
  if (!def.statuses) throw new JdoError("USAGE", `A ${def.name} has no status`);
  const status = input.replace("-", "_");
  if (!def.statuses.includes(status)) {
    throw new JdoError(
      "USAGE",
      `Unknown ${def.name} status "${input}" (use ${def.statuses.join(", ")})`,
    );
  }
  return status;
}

export function printJson(ctx: AppContext, value: unknown): void {
  ctx.io.out(JSON.stringify(value, null, 2));
}

/** Resolves an ID argument among the given kinds (all kinds by default). */
export async function resolveArg(
  ctx: AppContext,
  input: string,
  kinds: EntityName[] | undefined = undefined,
): Promise<Resolved> {
  const store = await ctx.store();
  const defs: readonly EntityDef[] = kinds ? kinds.map(entity) : ENTITIES;
  return await resolveId(store, input, defs);
}

/** After a write: the row as `show --json` prints it, or a one-line message. */
export async function reportWrite(
  ctx: AppContext,
  json: boolean | undefined,
  def: EntityDef,
  id: string,
  message: (shortId: string) => string,
): Promise<void> {
  const store = await ctx.store();
  if (json) {
    printJson(ctx, await loadRecord(store, def, id));
  } else {
    const short = (await shortIds(store, [id])).get(id) ?? id;
    ctx.io.out(safeLine(message(short)));
  }
}

const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;
const WHOLE = /^\d+$/;
/** The most hours one task may be estimated at (a year of working days). */
export const MAX_ESTIMATE_HOURS = 10_000;

/**
 * Parses a number of hours the one strict way `task add` and `edit` share:
 * plain decimal digits only ("2", "1.5", ".5"), so "-3", "0x10", "1e3",
 * "Infinity" and "" are usage errors naming the input.
 */
export function parseHours(value: string, flag: string): number {
  const text = value.trim();
  const n = Number(text);
  if (!DECIMAL.test(text) || !Number.isFinite(n) || n > MAX_ESTIMATE_HOURS) {
    throw new JdoError(
      "USAGE",
      `${flag} must be a number of hours from 0 to ${MAX_ESTIMATE_HOURS}, like 2 or 1.5 (got "${value}")`,
    );
  }
  return n;
}

/** Parses a whole number ≥ 0 written in decimal digits ("0x10" and "1e2" are refused). */
export function parseInteger(value: string, flag: string): number {
  const text = value.trim();
  const n = Number(text);
  if (!WHOLE.test(text) || !Number.isSafeInteger(n)) {
    throw new JdoError("USAGE", `${flag} must be a whole number ≥ 0 (got "${value}")`);
  }
  return n;
}

/** --limit N: a whole number ≥ 1 (as gh, 0 is refused rather than read as "none" or "all"). */
export function parseLimit(value: string, flag = "--limit"): number {
  const n = parseInteger(value, flag);
  if (n < 1) throw new JdoError("USAGE", `${flag} must be at least 1 (got "${value}")`);
  return n;
}

/** "Commitment 3f2a1c is now completed (on time)", or the changed row as JSON. */
export async function reportTransition(
  ctx: AppContext,
  json: boolean | undefined,
  def: EntityDef,
  row: Row,
  updated: Row,
): Promise<void> {
  await reportWrite(ctx, json, def, String(row.id), (short) => {
    const onTime = updated.completed_on_time === 0
      ? " (late)"
      : updated.completed_on_time === 1
      ? " (on time)"
      : "";
    return `${def.name[0].toUpperCase()}${def.name.slice(1)} ${short} is now ${
      String(updated.status).replace("_", " ")
    }${onTime}`;
  });
}
