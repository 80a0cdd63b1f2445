/**
 * What an end-to-end encrypted cloud must not hold, read straight from sqld:
 * every row of every table as text, the bytes of sqld's files, and how many
 * rows the plain (unencrypted) tables hold.
 */
import { join } from "node:path";
import { ENTITIES } from "../../src/db/schema.ts";
import { openRemote } from "./sqld.ts";

/** The cloud's synced tables that hold rows in the clear when encryption is off. */
export const PLAIN_TABLES = [...ENTITIES.map((e) => e.table), "_sync_conflicts"];

/** Every row of every table of the cloud, as text. */
export async function cloudText(url: string, token: string): Promise<string> {
  using client = openRemote(url, token);
  const tables = await client.execute(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'",
  );
  const parts: string[] = [];
  for (const t of tables.rows) {
    const rows = await client.execute(`SELECT * FROM "${String(t.name)}"`);
    parts.push(`${t.name}: ${JSON.stringify(rows.rows)}`);
  }
  return parts.join("\n");
}

/** Rows in the cloud's plain synced tables, all together. */
export async function plainRows(url: string, token: string): Promise<number> {
  using client = openRemote(url, token);
  let n = 0;
  for (const t of PLAIN_TABLES) {
    n += Number((await client.execute(`SELECT count(*) AS n FROM ${t}`)).rows[0].n);
  }
  return n;
}

/** Rows in the cloud's table of sealed rows (0 when there is none). */
export async function sealedRows(url: string, token: string): Promise<number> {
  using client = openRemote(url, token);
  const has = await client.execute(
    "SELECT count(*) AS n FROM sqlite_master WHERE name = '_jdo_rows'",
  );
  if (Number(has.rows[0].n) === 0) return 0;
  return Number((await client.execute("SELECT count(*) AS n FROM _jdo_rows")).rows[0].n);
}

/** "path: needle" for every file under `dir` whose bytes hold a needle (UTF-8 or UTF-16). */
export async function filesHolding(dir: string, needles: string[]): Promise<string[]> {
  const found: string[] = [];
  const encoder = new TextEncoder();
  const walk = async (path: string) => {
    for await (const entry of Deno.readDir(path)) {
      const full = join(path, entry.name);
      if (entry.isDirectory) await walk(full);
      else if (entry.isFile) {
        const text = new TextDecoder("latin1").decode(await Deno.readFile(full));
        for (const n of needles) {
          const utf16 = Array.from(encoder.encode(n), (b) => String.fromCharCode(b, 0)).join("");
          if (text.includes(n) || text.includes(utf16)) found.push(`${full}: ${n}`);
        }
      }
    }
  };
  await walk(dir);
  return found;
}
