import type { Command } from "commander";
import type { AppContext } from "../../app/context.ts";
import { entity } from "../../db/schema.ts";
import {
  addCommitment,
  addGoal,
  addMilestone,
  addStakeholder,
  addTask,
  addVision,
  capture,
  DEFAULT_DUE_TIME,
} from "../../domain/actions.ts";
import {
  confirmPastDue,
  dateArg,
  domainOf,
  dueArg,
  existingDueTime,
  parseHours,
  parseInteger,
  reportWrite,
  resolveArg,
  timeArg,
} from "../shared.ts";
import { noteIfOvercommitting, registerTaskHistoryCommand, velocityNow } from "./time.ts";

interface JsonFlag {
  json?: boolean;
}

interface CommitFlags {
  to: string;
  due: string;
  time?: string;
  goal?: string;
  milestone?: string;
  notes?: string;
  json?: boolean;
}

/** `jdo capture TEXT…` (also on the fast path: src/cli/fast_commands.ts). */
export async function captureAction(ctx: AppContext, words: string[], opts: JsonFlag) {
  const row = await capture(await domainOf(ctx), words.join(" "));
  await reportWrite(ctx, opts.json, entity("inbox"), String(row.id), (id) => `Captured ${id}`);
}

/** `jdo commit DELIVERABLE… --to NAME --due WHEN` (also on the fast path). */
export async function commitAction(ctx: AppContext, words: string[], opts: CommitFlags) {
  const due = await dueArg(ctx, opts.due, "--due");
  // --time wins over a time named in the --due phrase ("tomorrow 3pm").
  const wanted = opts.time === undefined ? due.time ?? DEFAULT_DUE_TIME : timeArg(opts.time);
  const goal = opts.goal ? (await resolveArg(ctx, opts.goal, ["goal"])).row : undefined;
  const milestone = opts.milestone
    ? (await resolveArg(ctx, opts.milestone, ["milestone"])).row
    : undefined;
  const { date: dueDate, time: dueTime } = existingDueTime(
    ctx,
    due.date,
    wanted,
    ctx.timeZone(),
  );
  await confirmPastDue(ctx, dueDate, dueTime, ctx.timeZone());
  const d = await domainOf(ctx);
  const velocity = await velocityNow(ctx);
  const row = await addCommitment(d, {
    deliverable: words.join(" "),
    stakeholder: opts.to,
    dueDate,
    dueTime,
    goalId: (goal?.id as string | undefined) ??
      (milestone?.goal_id as string | undefined) ?? null,
    milestoneId: (milestone?.id as string | undefined) ?? null,
    notes: opts.notes,
  });
  // The stored name, which may differ in case from --to ("ALICE" files under Alice).
  const stakeholder = await d.store.one("SELECT name FROM stakeholders WHERE id = ?", [
    row.stakeholder_id,
  ]);
  await reportWrite(
    ctx,
    opts.json,
    entity("commitment"),
    String(row.id),
    (id) =>
      `Committed ${id}: "${row.deliverable}" to ${
        stakeholder?.name ?? opts.to.trim()
      }, due ${row.due_date} ${row.due_time}`,
  );
  noteIfOvercommitting(ctx, velocity);
}

/** `commit`, `capture` and the `<kind> add` commands. */
export function registerAddCommands(program: Command, ctx: AppContext): void {
  program.command("capture")
    .description("Add an inbox item")
    .argument("<text...>", "what to remember")
    .option("--json", "print the new item as JSON")
    .action((words: string[], opts: JsonFlag) => captureAction(ctx, words, opts));

  program.command("commit")
    .description("Make a commitment: a deliverable, to someone, by a date")
    .argument("<deliverable...>", "what you will deliver")
    .requiredOption("--to <name>", "stakeholder (created as a person when new)")
    .requiredOption("--due <when>", "due date: YYYY-MM-DD, tomorrow, friday, in 3 days…")
    .option("--time <time>", "due time: HH:MM, 3pm, noon, midnight, eod (default 09:00)")
    .option("--goal <id>", "goal this serves")
    .option("--milestone <id>", "milestone this belongs to")
    .option("--notes <text>", "notes")
    .option("--json", "print the new commitment as JSON")
    .action((words: string[], opts: CommitFlags) => commitAction(ctx, words, opts));

  program.command("goal").description("Manage goals")
    .command("add")
    .description("Add a goal")
    .argument("<title...>", "goal title")
    .option("--problem <text>", "the problem this goal solves")
    .option("--solution <text>", "what success looks like")
    .option("--motivation <text>", "why it matters to you")
    .option("--vision <id>", "vision this goal serves")
    .option("--parent <id>", "parent goal")
    .option("--review <days>", "review interval: 7, 30 or 90 days")
    .option("--json", "print the new goal as JSON")
    .action(async (words: string[], opts: {
      problem?: string;
      solution?: string;
      motivation?: string;
      vision?: string;
      parent?: string;
      review?: string;
      json?: boolean;
    }) => {
      const vision = opts.vision ? (await resolveArg(ctx, opts.vision, ["vision"])).row : undefined;
      const parent = opts.parent ? (await resolveArg(ctx, opts.parent, ["goal"])).row : undefined;
      const row = await addGoal(await domainOf(ctx), {
        title: words.join(" "),
        problem: opts.problem,
        solution: opts.solution,
        motivation: opts.motivation,
        visionId: (vision?.id as string | undefined) ?? null,
        parentId: (parent?.id as string | undefined) ?? null,
        reviewDays: opts.review === undefined ? undefined : parseInteger(opts.review, "--review"),
      });
      await reportWrite(
        ctx,
        opts.json,
        entity("goal"),
        String(row.id),
        (id) => `Added goal ${id}: ${row.title}`,
      );
    });

  program.command("vision").description("Manage visions")
    .command("add")
    .description("Add a vision")
    .argument("<title...>", "vision title")
    .requiredOption("--narrative <text>", "the future you want, in a few sentences")
    .option("--timeframe <text>", 'e.g. "3 years"')
    .option(
      "--metric <text>",
      "how you will know (repeatable)",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option("--why <text>", "why it matters")
    .option("--json", "print the new vision as JSON")
    .action(async (words: string[], opts: {
      narrative: string;
      timeframe?: string;
      metric: string[];
      why?: string;
      json?: boolean;
    }) => {
      const row = await addVision(await domainOf(ctx), {
        title: words.join(" "),
        narrative: opts.narrative,
        timeframe: opts.timeframe,
        metrics: opts.metric,
        why: opts.why,
      });
      await reportWrite(
        ctx,
        opts.json,
        entity("vision"),
        String(row.id),
        (id) => `Added vision ${id}: ${row.title}`,
      );
    });

  program.command("milestone").description("Manage milestones")
    .command("add")
    .description("Add a milestone to a goal")
    .argument("<goal-id>", "the goal")
    .argument("<title...>", "milestone title")
    .requiredOption("--target <when>", "target date")
    .option("--description <text>", "description")
    .option("--json", "print the new milestone as JSON")
    .action(async (goalId: string, words: string[], opts: {
      target: string;
      description?: string;
      json?: boolean;
    }) => {
      const target = await dateArg(ctx, opts.target, "--target");
      const goal = await resolveArg(ctx, goalId, ["goal"]);
      const row = await addMilestone(
        await domainOf(ctx),
        String(goal.row.id),
        words.join(" "),
        target,
        opts.description,
      );
      await reportWrite(
        ctx,
        opts.json,
        entity("milestone"),
        String(row.id),
        (id) => `Added milestone ${id}: ${row.title} (target ${row.target_date})`,
      );
    });

  const task = program.command("task").description("Manage tasks");
  task.command("add")
    .description("Add a task to a commitment")
    .argument("<commitment-id>", "the commitment")
    .argument("<title...>", "task title")
    .option("--scope <text>", "what is in and out of scope")
    .option("--estimate <hours>", "estimated hours")
    .option("--json", "print the new task as JSON")
    .action(async (commitmentId: string, words: string[], opts: {
      scope?: string;
      estimate?: string;
      json?: boolean;
    }) => {
      const estimate = opts.estimate === undefined
        ? undefined
        : parseHours(opts.estimate, "--estimate");
      const commitment = await resolveArg(ctx, commitmentId, ["commitment"]);
      const row = await addTask(
        await domainOf(ctx),
        String(commitment.row.id),
        words.join(" "),
        opts.scope,
        estimate,
      );
      await reportWrite(
        ctx,
        opts.json,
        entity("task"),
        String(row.id),
        (id) => `Added task ${id}: ${row.title}`,
      );
    });
  registerTaskHistoryCommand(task, ctx);

  program.command("stakeholder").description("Manage stakeholders")
    .command("add")
    .description("Add a stakeholder")
    .argument("<name...>", "name")
    .option("--type <type>", "person, team, organization or self", "person")
    .option("--json", "print the new stakeholder as JSON")
    .action(async (words: string[], opts: { type: string; json?: boolean }) => {
      const row = await addStakeholder(await domainOf(ctx), words.join(" "), opts.type);
      await reportWrite(
        ctx,
        opts.json,
        entity("stakeholder"),
        String(row.id),
        (id) => `Added stakeholder ${id}: ${row.name} (${row.type})`,
      );
    });
}
