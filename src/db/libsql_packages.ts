/**
 * The two libSQL npm packages for the working database, in one module that
 * database.ts and row_cursor.ts load through a variable specifier: Deno
 * resolves every npm package a literal import() names before a process's
 * first line runs (~5 ms each), which the fast path (issue 20) never uses.
 * scripts/compile.ts --includes this module.
 */
export { createClient } from "@libsql/client";
export { default as Database } from "libsql";
