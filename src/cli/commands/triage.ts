import type { Command } from "commander";
import type { AppContext } from "../../app/context.ts";
import { entity, type EntityDef, type EntityName, type Row } from "../../db/schema.ts";
import {
  addCommitment,
  addGoal,
  addMilestone,
  addTask,
  addVision,
  DEFAULT_DUE_TIME,
  type Domain,
} from "../../domain/actions.ts";
import { shortIds } from "../../domain/ids.ts";
import { assertOpen, dismiss, triageInto, triageQueue } from "../../domain/triage.ts";
import { errorLine, JdoError } from "../../errors.ts";
import { plural } from "../../output/plural.ts";
import { safeLine } from "../../output/safe_text.ts";
import {
  confirmPastDue,
  dateArg,
  domainOf,
  dueArg,
  parseHours,
  parseInteger,
  reportWrite,
  resolveArg,
  timeArg,
} from "../shared.ts";

type Target = "commitment" | "goal" | "vision" | "milestone" | "task";

/** What the new row is made of; the title defaults to the item's text. */
interface Fields {
  title?: string;
  to?: string;
  due?: string;
  time?: string;
  goal?: string;
  milestone?: string;
  vision?: string;
  review?: string;
  narrative?: string;
  target?: string;
  estimate?: string;
  commitment?: string;
}

interface TriageOptions extends Fields {
  toCommitment?: boolean;
  toGoal?: boolean;
  toVision?: boolean;
  toMilestone?: string;
  toTask?: string;
  dismiss?: boolean;
  json?: boolean;
}

/** Which detail flags go with which action (a stray one is a usage error). */
const DETAILS: Record<string, (Target | "any")[]> = {
  title: ["any"],
  to: ["commitment"],
  due: ["commitment"],
  time: ["commitment"],
  goal: ["commitment"],
  milestone: ["commitment"],
  vision: ["goal"],
  review: ["goal"],
  narrative: ["vision"],
  target: ["milestone"],
  estimate: ["task"],
};

const FLAG: Record<string, string> = { toCommitment: "--to-commitment" };

function flagName(key: string): string {
  return FLAG[key] ?? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** `jdo triage [ID]`: walk the inbox on a terminal, or triage one item from a script. */
export function registerTriageCommand(program: Command, ctx: AppContext): void {
  program.command("triage")
    .description("Turn inbox items into commitments, goals, visions, milestones or tasks")
    .argument("[id]", "the inbox item (without: walk the inbox, oldest first)")
    .option("--to-commitment", "make it a commitment (with --to and --due)")
    .option("--to-goal", "make it a goal")
    .option("--to-vision", "make it a vision (with --narrative)")
    .option("--to-milestone <goal-id>", "make it a milestone of this goal (with --target)")
    .option("--to-task <commitment-id>", "make it a task of this commitment")
    .option("--dismiss", "mark it triaged without making anything")
    .option("--title <text>", "title or deliverable (default: the item's text)")
    .option("--to <name>", "commitment: stakeholder")
    .option("--due <when>", "commitment: due date")
    .option("--time <HH:MM>", "commitment: due time")
    .option("--goal <id>", "commitment: goal it serves")
    .option("--milestone <id>", "commitment: milestone it belongs to")
    .option("--vision <id>", "goal: vision it serves")
    .option("--review <days>", "goal: review interval, 7, 30 or 90 days")
    .option("--narrative <text>", "vision: the future you want")
    .option("--target <when>", "milestone: target date")
    .option("--estimate <hours>", "task: estimated hours")
    .option("--json", "print the new row (or the dismissed item) as JSON, as show --json does")
    .action(async (id: string | undefined, opts: TriageOptions) => {
      const action = chosenAction(opts);
      if (action) {
        if (id === undefined) {
          throw new JdoError(
            "USAGE",
            `${flagName(action.flag)} needs the inbox item's ID: jdo triage ID ${
              flagName(action.flag)
            } …`,
          );
        }
        checkDetails(opts, action.target);
        const item = await inboxItem(ctx, id);
        if (action.target === "dismiss") {
          await dismissItem(ctx, item, opts.json);
        } else {
          const fields = { ...opts, commitment: opts.toTask, goal: opts.toMilestone ?? opts.goal };
          const made = await create(ctx, item, action.target, fields);
          await reportWrite(ctx, opts.json, made.def, String(made.row.id), made.message);
        }
        return;
      }
      if (opts.json) {
        throw new JdoError("USAGE", "--json goes with an ID and an action (--to-goal, --dismiss…)");
      }
      checkDetails(opts, undefined);
      const store = await ctx.store();
      const queue = id === undefined ? await triageQueue(store) : [await inboxItem(ctx, id)];
      if (id !== undefined) assertOpen(queue[0]);
      if (queue.length === 0) {
        ctx.io.out("No items to triage. Your inbox is empty.");
        return;
      }
      if (!ctx.io.stdinIsTty) {
        throw new JdoError(
          "USAGE",
          "jdo triage asks on a terminal; in scripts say what the item becomes: " +
            "jdo triage ID --to-commitment|--to-goal|--to-vision|--to-milestone G|--to-task C|--dismiss",
        );
      }
      await walk(ctx, queue);
    });
}

type Action = { flag: string; target: Target | "dismiss" };

function chosenAction(opts: TriageOptions): Action | undefined {
  const chosen: Action[] = [];
  if (opts.toCommitment) chosen.push({ flag: "toCommitment", target: "commitment" });
  if (opts.toGoal) chosen.push({ flag: "toGoal", target: "goal" });
  if (opts.toVision) chosen.push({ flag: "toVision", target: "vision" });
  if (opts.toMilestone !== undefined) chosen.push({ flag: "toMilestone", target: "milestone" });
  if (opts.toTask !== undefined) chosen.push({ flag: "toTask", target: "task" });
  if (opts.dismiss) chosen.push({ flag: "dismiss", target: "dismiss" });
  if (chosen.length > 1) {
    throw new JdoError(
      "USAGE",
      `Choose one of ${chosen.map((a) => flagName(a.flag)).join(", ")}`,
    );
  }
  return chosen[0];
}

/** Refuses detail flags that do not belong to the chosen action. */
function checkDetails(opts: TriageOptions, target: Target | "dismiss" | undefined): void {
  for (const [key, targets] of Object.entries(DETAILS)) {
    if ((opts as Record<string, unknown>)[key] === undefined) continue;
    const fits = target !== undefined && target !== "dismiss" &&
      (targets.includes("any") || targets.includes(target));
    if (!fits) {
      const owners = targets.includes("any")
        ? "an action that makes something"
        : targets.map((t) => `--to-${t}`).join(" or ");
      throw new JdoError("USAGE", `${flagName(key)} goes with ${owners}`);
    }
  }
  if (target === "commitment") {
    if (opts.to === undefined) {
      throw new JdoError("USAGE", "--to-commitment needs --to NAME (the stakeholder)");
    }
    if (opts.due === undefined) throw new JdoError("USAGE", "--to-commitment needs --due WHEN");
  }
  if (target === "vision" && opts.narrative === undefined) {
    throw new JdoError("USAGE", "--to-vision needs --narrative TEXT");
  }
  if (target === "milestone" && opts.target === undefined) {
    throw new JdoError("USAGE", "--to-milestone needs --target WHEN");
  }
}

async function inboxItem(ctx: AppContext, id: string): Promise<Row> {
  return (await resolveArg(ctx, id, ["inbox"])).row;
}

async function dismissItem(ctx: AppContext, item: Row, json?: boolean): Promise<void> {
  await dismiss(await domainOf(ctx), item);
  await reportWrite(ctx, json, entity("inbox"), String(item.id), (id) => `Dismissed ${id}`);
}

interface Made {
  def: EntityDef;
  row: Row;
  message: (shortId: string) => string;
}

/** Makes the row the item becomes (checking every argument first) and marks the item triaged. */
async function create(ctx: AppContext, item: Row, target: Target, f: Fields): Promise<Made> {
  const title = f.title ?? String(item.text);
  const into = async (make: (d: Domain) => Promise<Row>) =>
    await triageInto(await domainOf(ctx), item, make);
  const made = (name: EntityName, row: Row, detail = ""): Made => ({
    def: entity(name),
    row,
    message: (id) => `Triaged into ${name} ${id}: ${row[entity(name).label]}${detail}`,
  });
  switch (target) {
    case "commitment": {
      const due = await dueArg(ctx, f.due ?? "", "--due");
      const dueTime = f.time === undefined ? due.time ?? DEFAULT_DUE_TIME : timeArg(f.time);
      const goal = f.goal ? (await resolveArg(ctx, f.goal, ["goal"])).row : undefined;
      const milestone = f.milestone
        ? (await resolveArg(ctx, f.milestone, ["milestone"])).row
        : undefined;
      await confirmPastDue(ctx, due.date, dueTime, ctx.timeZone());
      const row = await into((d) =>
        addCommitment(d, {
          deliverable: title,
          stakeholder: f.to ?? "",
          dueDate: due.date,
          dueTime,
          goalId: (goal?.id as string | undefined) ??
            (milestone?.goal_id as string | undefined) ?? null,
          milestoneId: (milestone?.id as string | undefined) ?? null,
        })
      );
      const store = await ctx.store();
      const who = await store.one("SELECT name FROM stakeholders WHERE id = ?", [
        row.stakeholder_id,
      ]);
      return made("commitment", row, ` (to ${who?.name}, due ${row.due_date} ${row.due_time})`);
    }
    case "goal": {
      const vision = f.vision ? (await resolveArg(ctx, f.vision, ["vision"])).row : undefined;
      const reviewDays = f.review === undefined ? undefined : parseInteger(f.review, "--review");
      const row = await into((d) =>
        addGoal(d, {
          title,
          visionId: (vision?.id as string | undefined) ?? null,
          reviewDays,
        })
      );
      return made("goal", row);
    }
    case "vision": {
      const row = await into((d) => addVision(d, { title, narrative: f.narrative ?? "" }));
      return made("vision", row);
    }
    case "milestone": {
      const target = await dateArg(ctx, f.target ?? "", "--target");
      const goal = await resolveArg(ctx, f.goal ?? "", ["goal"]);
      const row = await into((d) => addMilestone(d, String(goal.row.id), title, target));
      return made("milestone", row, ` (target ${row.target_date})`);
    }
    case "task": {
      const estimate = f.estimate === undefined ? undefined : parseHours(f.estimate, "--estimate");
      const commitment = await resolveArg(ctx, f.commitment ?? "", ["commitment"]);
      const row = await into((d) =>
        addTask(d, String(commitment.row.id), title, undefined, estimate)
      );
      return made("task", row);
    }
  }
}

const CHOICES: Record<string, Target | "dismiss" | "skip" | "quit"> = {
  c: "commitment",
  g: "goal",
  v: "vision",
  m: "milestone",
  t: "task",
  d: "dismiss",
  s: "skip",
  q: "quit",
};
const MENU = "[c]ommitment, [g]oal, [v]ision, [m]ilestone, [t]ask, [d]ismiss, [s]kip, [q]uit";

/** Asks what each item becomes, oldest first; a skipped item stays first in the queue. */
async function walk(ctx: AppContext, queue: Row[]): Promise<void> {
  const shorts = await shortIds(await ctx.store(), queue.map((r) => String(r.id)));
  let done = 0;
  for (const [index, item] of queue.entries()) {
    const short = shorts.get(String(item.id)) ?? String(item.id);
    ctx.io.out(
      safeLine(
        `Inbox item ${index + 1} of ${queue.length} (${short}, captured ${
          String(item.created_at).slice(0, 10)
        }): ${item.text}`,
      ),
    );
    const outcome = await triageOne(ctx, item);
    if (outcome === "quit") break;
    if (outcome !== "skip") done++;
  }
  const left = (await triageQueue(await ctx.store())).length;
  ctx.io.out(
    left === 0
      ? "Triage complete! All items processed."
      : `Triaged ${plural(done, "item")}; ${plural(left, "inbox item")} still open.`,
  );
}

/** One item: ask until it is triaged, skipped or the user quits; errors ask again. */
async function triageOne(ctx: AppContext, item: Row): Promise<"done" | "skip" | "quit"> {
  for (;;) {
    const answer = (await ctx.prompter.input(`What is it? ${MENU}`)).trim().toLowerCase();
    const choice = CHOICES[answer[0] ?? ""];
    if (!choice) {
      ctx.io.err("jdo: answer c, g, v, m, t, d, s or q");
      continue;
    }
    if (choice === "skip" || choice === "quit") return choice;
    try {
      if (choice === "dismiss") {
        await dismissItem(ctx, item);
      } else {
        const made = await create(ctx, item, choice, await askFields(ctx, item, choice));
        await reportWrite(ctx, false, made.def, String(made.row.id), made.message);
      }
      return "done";
    } catch (error) {
      if (!(error instanceof JdoError) || error.code === "CANCELLED") throw error;
      ctx.io.err(safeLine(`jdo: ${errorLine(error)}`));
    }
  }
}

async function askFields(ctx: AppContext, item: Row, target: Target): Promise<Fields> {
  const ask = (message: string, fallback?: string) =>
    ctx.prompter.input(message, fallback === undefined ? undefined : { default: fallback });
  const text = String(item.text);
  switch (target) {
    case "commitment":
      return {
        title: await ask("Deliverable", text),
        to: await ask("To whom (stakeholder)"),
        due: await ask("Due (YYYY-MM-DD, friday, in 3 days…)"),
      };
    case "goal":
      return { title: await ask("Goal title", text) };
    case "vision":
      return { title: await ask("Vision title", text), narrative: await ask("Narrative") };
    case "milestone":
      return {
        goal: await ask("Goal ID"),
        title: await ask("Milestone title", text),
        target: await ask("Target date"),
      };
    case "task":
      return { commitment: await ask("Commitment ID"), title: await ask("Task title", text) };
  }
}
