// deno-lint-ignore-file no-console
/**
 * Start-up baseline (`deno task bench --startup`): the best program for "open
 * jdo.db and print one row" — built-in node:sqlite, one prepared SELECT.
 * Usage: one_row.ts DB_PATH ID_PREFIX
 */
import { DatabaseSync } from "node:sqlite";

const [path, prefix] = Deno.args;
const db = new DatabaseSync(path);
const row = db.prepare(
  "SELECT c.*, s.name AS stakeholder FROM commitments c JOIN stakeholders s ON s.id = c.stakeholder_id WHERE c.id LIKE ? LIMIT 1",
).get(`${prefix}%`);
console.log(JSON.stringify(row));
db.close();
