/**
 * chrono-node's English parser (its entry without the other languages: less
 * to load), for dates.ts's loadDateParser() through a variable specifier
 * (src/db/libsql_packages.ts says why). scripts/compile.ts --includes it.
 */
export { parse } from "chrono-node/en";
