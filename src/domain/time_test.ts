import assert from "node:assert/strict";
import { JdoError } from "../errors.ts";
import { eventOfTransition, parseActualHours } from "./task_history.ts";
import { overcommitWarning, rollupOf, rollupText } from "./time.ts";

Deno.test("actual hours: the original's five categories by name (any case, - or _) or number", () => {
  assert.equal(parseActualHours("much_shorter"), "much_shorter");
  assert.equal(parseActualHours("Much-Shorter"), "much_shorter");
  assert.equal(parseActualHours("on target"), "on_target");
  assert.equal(parseActualHours(" longer "), "longer");
  assert.deepEqual(
    ["1", "2", "3", "4", "5"].map((n) => parseActualHours(n)),
    ["much_shorter", "shorter", "on_target", "longer", "much_longer"],
  );
  for (const bad of ["", "0", "6", "ontime", "short", "1.0"]) {
    assert.throws(
      () => parseActualHours(bad),
      (e: unknown) =>
        e instanceof JdoError && e.code === "USAGE" && /--actual must be one of/.test(e.message),
      bad,
    );
  }
});

Deno.test("task events: the original's names for each status change; back to pending is reopened", () => {
  assert.equal(eventOfTransition("pending", "in_progress"), "started");
  assert.equal(eventOfTransition("in_progress", "completed"), "completed");
  assert.equal(eventOfTransition("pending", "completed"), "completed");
  assert.equal(eventOfTransition("pending", "skipped"), "skipped");
  assert.equal(eventOfTransition("in_progress", "skipped"), "abandoned");
  assert.equal(eventOfTransition("completed", "pending"), "reopened");
  assert.equal(eventOfTransition("skipped", "pending"), "reopened");
});

Deno.test("overcommitting: a note only when more were made than completed this week", () => {
  assert.equal(overcommitWarning({ created: 0, completed: 0 }), null);
  assert.equal(overcommitWarning({ created: 2, completed: 2 }), null);
  assert.equal(overcommitWarning({ created: 1, completed: 3 }), null);
  assert.equal(
    overcommitWarning({ created: 3, completed: 1 }),
    "you've created 3 commitments this week but only completed 1. Are you overcommitting?",
  );
  assert.match(overcommitWarning({ created: 1, completed: 0 })!, /created 1 commitment this/);
});

Deno.test("roll-up: parsed from SQL's JSON, floating sums rounded; text only with estimates", () => {
  const r = rollupOf(
    JSON.stringify({
      total: 0.30000000000000004,
      remaining: 0.1,
      completed: 0.2,
      tasks: 3,
      estimated: 2,
      done: 1,
    }),
  );
  assert.deepEqual(r, {
    total_estimated_hours: 0.3,
    remaining_estimated_hours: 0.1,
    completed_estimated_hours: 0.2,
    task_count: 3,
    tasks_with_estimates: 2,
    completed_task_count: 1,
  });
  assert.equal(
    rollupText(r),
    "0.3 h estimated, 0.1 h remaining, 0.2 h done (2 of 3 tasks estimated)",
  );
  assert.equal(rollupText(rollupOf(null)), null);
  assert.equal(rollupOf(null).task_count, 0);
});
