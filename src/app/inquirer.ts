/**
 * @inquirer/prompts, for prompter.ts through a variable specifier (see
 * src/db/libsql_packages.ts for why). scripts/compile.ts --includes it.
 */
export { confirm, input, password } from "@inquirer/prompts";
