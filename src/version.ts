/** Replaced at compile time by scripts/compile.ts (see `jdo --version`). */
export const VERSION = "0.1.0";
export const COMMIT = "dev";
