import type { AppContext } from "../app/context.ts";
import { ENTITIES, entity, type EntityDef, type EntityName } from "../db/schema.ts";
import type { Domain } from "../domain/actions.ts";
import {
  type DateContext,
  InvalidDateError,
  loadDateParser,
  parseDate,
  parseTime,
} from "../domain/dates.ts";
import { type Resolved, resolveId, shortIds } from "../domain/ids.ts";
import { loadRecord } from "../domain/records.ts";
import { JdoError } from "../errors.ts";
import { safeLine } from "../output/safe_text.ts";

export async function domainOf(ctx: AppContext): Promise<Domain> {
  const store = await ctx.store();
  return { store, dates: () => datesOf(ctx) };
}

export function datesOf(ctx: AppContext): DateContext {
  return { now: ctx.clock.now(), timeZone: ctx.timeZone() };
}

/** Parses --due/--target, turning a bad phrase into a usage error naming it. */
export async function dateArg(ctx: AppContext, input: string, flag: string): Promise<string> {
  await loadDateParser();
  try {
    return parseDate(input, datesOf(ctx));
  } catch (error) {
    if (error instanceof InvalidDateError) {
      throw new JdoError("INVALID_DATE", `${flag}: ${error.message}`);
    }
    throw error;
  }
}

/** Parses --time (HH:MM), turning a bad value into a usage error naming it. */
export function timeArg(value: string): string {
  try {
    return parseTime(value);
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

export function parseNumber(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) {
    throw new JdoError("USAGE", `${flag} must be a number (got "${value}")`);
  }
  return n;
}

export function parseInteger(value: string, flag: string): number {
  const n = parseNumber(value, flag);
  if (!Number.isInteger(n) || n < 0) {
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
