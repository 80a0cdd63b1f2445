/**
 * The context of one jdo process (main.ts): the working directory `deno task
 * start` was started from, the environment, the clocks, the terminal. Shared
 * by the fast path's bundle (src/app/fast_main.ts) and the whole program
 * (src/app/entry.ts).
 */
import type { AppContext } from "./context.ts";
import { urlToPath } from "../config/file_path.ts";

/** `mainUrl` is main.ts's import.meta.url. */
export async function mainContext(mainUrl: string): Promise<AppContext> {
  // `deno task start` runs jdo in the repository root; relative paths the user
  // typed (`export --out x.json`, `import PATH`, `db backup --out`, a relative
  // JDO_HOME) mean the directory they typed them in, which deno task passes as
  // INIT_CWD. Only then: an INIT_CWD left by some other tool is ignored.
  const { startedByDenoTask } = await import("./init_cwd.ts");
  const initCwd = Deno.env.get("INIT_CWD");
  if (initCwd && startedByDenoTask(new URL(".", mainUrl), Deno.build.standalone)) {
    try {
      Deno.chdir(initCwd);
    } catch {
      // The directory is gone: stay where deno task put us.
    }
  }

  const { createContext } = await import("./context.ts");
  const { denoIo } = await import("./io.ts");
  const { terminalPrompter } = await import("./prompter.ts");
  const { offsetClock, systemClock } = await import("../db/store.ts");

  const env = Deno.env.toObject();
  // Tests only. JDO_TEST_WORLD_OFFSET_MS moves the whole test world: this
  // device's clock and the cloud's as read from here (so a test written for a
  // fixed "now" runs the same at any hour). JDO_TEST_CLOCK_OFFSET_MS moves this
  // device's clock alone (a device whose clock is wrong).
  const world = Number(env.JDO_TEST_WORLD_OFFSET_MS ?? 0) || 0;
  const offset = world + (Number(env.JDO_TEST_CLOCK_OFFSET_MS ?? 0) || 0);
  return createContext({
    env,
    io: denoIo(env, Deno.args.includes("--no-color")),
    clock: offset ? offsetClock(offset) : systemClock,
    cloudClockOffsetMs: world,
    prompter: terminalPrompter(),
    selfCommand: Deno.build.standalone
      ? [Deno.execPath()]
      : [Deno.execPath(), "run", "-A", "--quiet", urlToPath(mainUrl)],
  });
}
