/**
 * Soak: the setup/restore property test (tests/property/setup_restore_test.ts)
 * with many more scenarios — JDO_SETUP_PROPERTY_RUNS, default 60 here. Runs
 * only with JDO_SOAK=1 (`deno task test:soak`).
 */
if (Deno.env.get("JDO_SOAK") === "1") {
  if (!Deno.env.get("JDO_SETUP_PROPERTY_RUNS")) Deno.env.set("JDO_SETUP_PROPERTY_RUNS", "60");
  await import("../property/setup_restore_test.ts");
}
