/**
 * The node:sqlite client's rows read as @libsql/client's do: by column name
 * (the only enumerable keys), by index, with a length; repeated names,
 * numeric names and a column called "length" included; and queryRows gives
 * the same plain rows over both. Each engine opens the
 * file in its own process (never two engines on one file in one process).
 */
import assert from "node:assert/strict";
import { join } from "node:path";

const REPO = new URL("../..", import.meta.url).pathname;

const SHAPES = [
  "SELECT 'a' AS name, 2 AS n, NULL AS none",
  "SELECT 1 AS a, 2 AS a, 3 AS b",
  "SELECT 5, 'x' AS length",
  "SELECT id, title FROM t ORDER BY id",
];

/** Each statement's rows, as the engine gives them, looked at every way jdo's code does. */
const PROBE = (engine: string, path: string) => `
${
  engine === "node"
    ? `import { openNodeSqlite } from ${
      JSON.stringify(new URL("./node_sqlite.ts", import.meta.url).href)
    };
const client = await openNodeSqlite(${JSON.stringify(path)}, 1000);`
    : `import { createClient } from "@libsql/client";
const client = createClient({ url: ${JSON.stringify(`file:${path}`)} });`
}
import { queryRows } from ${JSON.stringify(new URL("./database.ts", import.meta.url).href)};
const out = [];
for (const sql of ${JSON.stringify(SHAPES)}) {
  out.push(await queryRows(client, sql));
  const rs = await client.execute(sql);
  out.push(rs.rows.map((row) => ({
    keys: Object.keys(row),
    json: JSON.stringify(row),
    byIndex: Array.from({ length: row.length }, (_, i) => row[i]),
    byName: rs.columns.map((c) => row[c]),
    spread: { ...row },
    length: row.length,
  })));
}
client.close();
console.log(JSON.stringify(out));
`;

Deno.test("node:sqlite rows read like @libsql/client's: names, indexes, length, JSON", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jdo-node-rows-" });
  try {
    const path = join(dir, "rows.db");
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(path);
    db.exec(
      "CREATE TABLE t (id INTEGER PRIMARY KEY, title TEXT); INSERT INTO t VALUES (1, 'x'), (2, NULL)",
    );
    db.close();
    const rowsOf = async (engine: string) => {
      const script = join(dir, `${engine}.ts`);
      await Deno.writeTextFile(script, PROBE(engine, path));
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--quiet", "--config", join(REPO, "deno.json"), script],
        cwd: REPO,
        env: { RUST_LOG: "off" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      return JSON.parse(new TextDecoder().decode(out.stdout));
    };
    const node = await rowsOf("node");
    assert.deepEqual(node, await rowsOf("libsql"));
    // Per statement: jdo's plain rows (queryRows), then the client's rows looked at.
    assert.deepEqual(node[0], [{ name: "a", n: 2, none: null }]);
    assert.deepEqual(node[1][0].keys, ["name", "n", "none"]);
    assert.deepEqual(node[2], [{ a: 1, b: 3 }], "a repeated name: its first column");
    assert.deepEqual(node[3][0].byIndex, [1, 2, 3], "a repeated name: every index still reads");
    assert.deepEqual(node[7].map((r: { byIndex: unknown[] }) => r.byIndex), [[1, "x"], [2, null]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
