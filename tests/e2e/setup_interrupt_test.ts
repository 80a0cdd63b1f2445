/**
 * Ctrl-C during setup's first sync, made deterministic: jdo runs in this
 * process with its Ctrl-C handling (src/app/interrupt.ts) wired to a signal
 * the test sends and an exit the test records, against a real sqld. The
 * interrupted sync is then left to run on, as it may in a real process for
 * as long as the cleanups take on a loaded machine; whatever it does after
 * Ctrl-C must leave no replica in cloud/ and save nothing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createContext } from "../../src/app/context.ts";
import { captureIo } from "../../src/app/io.ts";
import { type Interrupts, signalInterrupts } from "../../src/app/interrupt.ts";
import { scriptedPrompter } from "../../src/app/prompter.ts";
import { runJdo } from "../../src/cli/run.ts";
import { startSqld } from "../helpers/sqld.ts";
import { exists } from "../helpers/device.ts";
import { manualClock } from "../helpers/temp_store.ts";
import { testNow } from "../helpers/test_clock.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

type Io = ReturnType<typeof captureIo>;

/**
 * Interrupts as jdo's own, with the exit recorded instead of ending this
 * process, and Ctrl-C sent by `ctrlC()` (or, with `at`, once the `at`-th
 * cleanup is registered, on the next turn of the event loop while the sync
 * awaits I/O).
 */
function fakeCtrlC(io: Io, at?: number) {
  let handler: (() => void) | undefined;
  let exited!: (code: number) => void;
  const exit = new Promise<number>((resolve) => exited = resolve);
  const real = signalInterrupts({
    io,
    exit: (code) => exited(code),
    signals: { add: (h) => handler = h, remove: () => {} },
  });
  let registered = 0;
  const interrupts: Interrupts = {
    guard: (message, work) => real.guard(message, work),
    onInterrupt(cleanup) {
      const forget = real.onInterrupt(cleanup);
      if (++registered === at) setTimeout(() => handler!(), 0);
      return forget;
    },
    get interrupted() {
      return real.interrupted;
    },
  };
  return { interrupts, exit, ctrlC: () => handler!() };
}

async function run(home: string, args: string[], io: Io, i?: Interrupts) {
  const ctx = createContext({
    env: {
      JDO_HOME: home,
      JDO_TIMEZONE: "UTC",
      JDO_SYNC_AUTO: "0",
      JDO_KEYRING: "0",
      NO_COLOR: "1",
    },
    io,
    clock: manualClock(testNow()),
    prompter: scriptedPrompter([]),
    selfCommand: [],
    keyring: null,
    interrupts: i,
  });
  try {
    return await runJdo(ctx, args);
  } finally {
    await ctx.close();
  }
}

/**
 * Runs setup with Ctrl-C sent as `when` says, waits for the recorded exit,
 * then lets the interrupted sync run on (in a real process exit() ends it
 * here), and checks that nothing of it stayed; a re-run then works.
 */
async function interruptedSetup(
  when: (io: Io) => { io: Io; fake: ReturnType<typeof fakeCtrlC> },
  rerun: RegExp,
) {
  await using server = await startSqld({ auth: true });
  const token = await server.token("rw");
  const root = await Deno.makeTempDir({ prefix: "jdo-interrupt-" });
  try {
    const home = join(root, "home");
    assert.equal(await run(home, ["capture", "local"], captureIo()), 0);

    const { io, fake } = when(captureIo({ stdin: `${token}\n` }));
    const setupArgs = ["sync", "setup", "--url", server.url, "--token-stdin", "--yes"];
    const done = run(home, setupArgs, io, fake.interrupts);
    assert.equal(await fake.exit, 130, io.stderr());
    assert.match(
      io.stderr(),
      /^jdo: Interrupted; nothing was saved — run `jdo sync setup` again$/m,
    );
    await done;
    assert.equal(await exists(join(home, "cloud")), false, "no half-made replica");
    assert.equal(await exists(join(home, "auth.json")), false, "no token saved");
    const settings = await Deno.readTextFile(join(home, "settings.json")).catch(() => "{}");
    assert.notEqual(JSON.parse(settings).turso_enabled, true, "sync not turned on");
    assert.deepEqual(
      [...Deno.readDirSync(home)].map((e) => e.name).filter((n) => n.startsWith("cloud")),
      [],
      "nothing of cloud/ left under another name",
    );

    const again = captureIo({ stdin: `${token}\n` });
    assert.equal(await run(home, setupArgs, again), 0, again.stderr());
    assert.match(again.stdout(), rerun);
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

Deno.test({
  ...opts,
  name: "Ctrl-C as setup's first sync begins, before cloud/ exists: none is made after the undo",
  fn: () =>
    // Cleanups registered: setup's undo (1), the sync lock's release (2):
    // the sync has begun and not yet pulled into cloud/.
    interruptedSetup((io) => ({ io, fake: fakeCtrlC(io, 2) }), /↑ 1 uploaded/),
});

Deno.test({
  ...opts,
  name: "Ctrl-C during setup's upload, the replica made: the sync ending meanwhile saves nothing",
  fn: () =>
    interruptedSetup((captured) => {
      // The upload's progress bar (drawn on a terminal) is after the pull.
      const io: Io = { ...captured, stderrIsTty: true };
      const fake = fakeCtrlC(io);
      let sent = false;
      io.errRaw = (text) => {
        captured.errRaw(text);
        if (!sent && text.includes("Uploading")) {
          sent = true;
          fake.ctrlC();
        }
      };
      return { io, fake };
    }, /↑ 0 uploaded/), // the row reached the cloud before Ctrl-C: nothing lost
});
