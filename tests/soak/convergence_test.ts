/**
 * Soak: the sync convergence property test (tests/property/convergence_test.ts)
 * with many more scenarios — JDO_PROPERTY_RUNS, default 1000 here (and 125
 * against sqld). Runs only with JDO_SOAK=1 (`deno task test:soak`).
 */
if (Deno.env.get("JDO_SOAK") === "1") {
  if (!Deno.env.get("JDO_PROPERTY_RUNS")) Deno.env.set("JDO_PROPERTY_RUNS", "1000");
  await import("../property/convergence_test.ts");
}
