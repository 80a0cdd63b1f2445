/**
 * Start-up baseline (`deno task bench --startup`): the best program for what
 * `jdo list --json` prints — every live commitment with every field, its
 * stakeholder's name and its tasks' hour roll-up, soonest due first, laid out
 * as JSON.stringify(records, null, 2) does — with built-in node:sqlite and
 * SQLite writing the whole text in one statement (json_quote for each value,
 * concat for each record, group_concat over the ordered rows), one write.
 * json_pretty(json_group_array(…)) prints the same bytes ~10 % slower, and
 * console.log ~30 ms slower than writeSync. The bench checks the output is
 * jdo's, byte for byte, before timing it. (Hours are printed SQLite's way: a
 * fractional sum may differ from jdo's JavaScript formatting; the bench's
 * data has no tasks.)
 * Usage: list_json.ts DB_PATH
 */
import { DatabaseSync } from "node:sqlite";

const TEXT_BEFORE = [
  "deliverable",
  "stakeholder_id",
  "due_date",
  "due_time",
  "timezone",
  "goal_id",
  "milestone_id",
  "notes",
  "status",
  "completed_at",
];
const TEXT_AFTER = ["marked_at_risk_at", "recurring_id", "created_at", "updated_at", "version"];
const line = (key: string, value: string) => `',\n    "${key}": ', ${value}`;
const text = (column: string) => line(column, `json_quote(c.${column})`);
const hours = (sql: string) => `coalesce(sum(${sql}), 0)`;
const time = `(SELECT concat(
    '{\n      "total_estimated_hours": ', ${hours("t.estimated_hours")},
    ',\n      "remaining_estimated_hours": ',
    ${hours("CASE WHEN t.status IN ('pending', 'in_progress') THEN t.estimated_hours END")},
    ',\n      "completed_estimated_hours": ',
    ${hours("CASE WHEN t.status = 'completed' THEN t.estimated_hours END")},
    ',\n      "task_count": ', count(*),
    ',\n      "tasks_with_estimates": ', count(t.estimated_hours),
    ',\n      "completed_task_count": ', count(CASE WHEN t.status = 'completed' THEN 1 END),
    '\n    }')
  FROM tasks t WHERE t.commitment_id = c.id AND t.deleted_at IS NULL)`;
const record = `concat('  {\n    "id": ', json_quote(c.id), ${line("kind", `'"commitment"'`)},
  ${TEXT_BEFORE.map(text).join(", ")},
  ${
  line(
    "completed_on_time",
    `CASE WHEN c.completed_on_time IS NULL THEN 'null' WHEN c.completed_on_time <> 0 THEN 'true' ELSE 'false' END`,
  )
},
  ${TEXT_AFTER.map(text).join(", ")}, ${line("stakeholder", "json_quote(s.name)")},
  ${line("time", time)}, '\n  }')`;

const db = new DatabaseSync(Deno.args[0]);
const { body } = db.prepare(
  `SELECT group_concat(r, ',\n') AS body FROM (SELECT ${record} AS r
     FROM commitments c LEFT JOIN stakeholders s ON s.id = c.stakeholder_id
     WHERE c.deleted_at IS NULL AND c.status NOT IN ('completed', 'abandoned')
     ORDER BY c.due_date, c.due_time, c.created_at, c.id)`,
).get() as { body: string | null };
const bytes = new TextEncoder().encode(body === null ? "[]\n" : `[\n${body}\n]\n`);
for (let n = 0; n < bytes.length;) n += Deno.stdout.writeSync(bytes.subarray(n));
db.close();
