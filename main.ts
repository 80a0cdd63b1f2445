// Entry point: build the context, run the command, exit with its code.
// The native libSQL library reads RUST_LOG when it loads: keep it silent.
if (!Deno.env.get("RUST_LOG")) Deno.env.set("RUST_LOG", "off");

const { createContext } = await import("./src/app/context.ts");
const { denoIo } = await import("./src/app/io.ts");
const { terminalPrompter } = await import("./src/app/prompter.ts");
const { offsetClock, systemClock } = await import("./src/db/store.ts");
const { runJdo } = await import("./src/cli/run.ts");

const env = Deno.env.toObject();
const offset = Number(env.JDO_TEST_CLOCK_OFFSET_MS ?? 0);
const ctx = createContext({
  env,
  io: denoIo(env, Deno.args.includes("--no-color")),
  clock: offset ? offsetClock(offset) : systemClock,
  prompter: terminalPrompter(),
  selfCommand: Deno.build.standalone
    ? [Deno.execPath()]
    : [Deno.execPath(), "run", "-A", "--quiet", new URL(import.meta.url).pathname],
});
Deno.exit(await runJdo(ctx, Deno.args));
