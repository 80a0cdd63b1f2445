/**
 * Start-up baseline (`deno task bench --startup`): the best program for "print
 * every live commitment as JSON" — built-in node:sqlite, SQLite builds the JSON,
 * one write (console.log of a large text costs ~30 ms more than writeSync).
 * Usage: live_json.ts DB_PATH
 */
import { DatabaseSync } from "node:sqlite";

const db = new DatabaseSync(Deno.args[0]);
const { json } = db.prepare(
  `SELECT json_group_array(json_object('id', c.id, 'deliverable', c.deliverable,
     'stakeholder', s.name, 'due_date', c.due_date, 'due_time', c.due_time,
     'status', c.status, 'created_at', c.created_at, 'updated_at', c.updated_at)) AS json
   FROM (SELECT * FROM commitments WHERE deleted_at IS NULL
           AND status NOT IN ('completed', 'abandoned') ORDER BY due_date, due_time) c
   JOIN stakeholders s ON s.id = c.stakeholder_id`,
).get() as { json: string };
const bytes = new TextEncoder().encode(json + "\n");
for (let n = 0; n < bytes.length;) n += Deno.stdout.writeSync(bytes.subarray(n));
db.close();
