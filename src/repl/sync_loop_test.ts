import assert from "node:assert/strict";
import type { ReplSync } from "../sync/repl_hook.ts";
import { SyncLoop } from "./sync_loop.ts";

/** A sync hook whose syncs finish only when the test says so. */
function fakeSync(intervalSeconds = 0) {
  const finishers: ((summary: string) => void)[] = [];
  let pending = 3;
  const hook: ReplSync & { calls: number; finish(summary?: string): void; running(): number } = {
    calls: 0,
    intervalSeconds,
    indicator: () => Promise.resolve(pending === 0 ? "✓" : `⇡${pending}`),
    syncNow() {
      hook.calls++;
      return new Promise<string>((resolve) => {
        finishers.push((summary) => {
          pending = 0;
          resolve(summary);
        });
      });
    },
    finish(summary = "Synced") {
      finishers.shift()?.(summary);
    },
    running: () => finishers.length,
  };
  return hook;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("SyncLoop: syncs once at start without waiting, then updates the indicator", async () => {
  const sync = fakeSync();
  const seen: string[] = [];
  const loop = new SyncLoop(sync, (indicator) => seen.push(indicator));
  loop.start();
  assert.equal(sync.calls, 1);
  assert.ok(loop.busy);
  await tick();
  assert.deepEqual(seen, ["⇡3"]);
  sync.finish();
  await tick();
  await tick();
  assert.equal(loop.busy, false);
  assert.deepEqual(seen, ["⇡3", "✓"]);
  loop.stop();
});

Deno.test("SyncLoop: now() waits for a running sync, then runs its own", async () => {
  const sync = fakeSync();
  const loop = new SyncLoop(sync, () => {});
  loop.start();
  const result = loop.now();
  await tick();
  assert.equal(sync.calls, 1, "no second sync while one is running");
  sync.finish("background");
  await tick();
  await tick();
  assert.equal(sync.calls, 2);
  sync.finish("Pushed 1, pulled 0");
  assert.equal(await result, "Pushed 1, pulled 0");
  loop.stop();
});

Deno.test("SyncLoop: the timer never starts a second sync while one runs; stop() ends it", async () => {
  const sync = fakeSync(0.02);
  const loop = new SyncLoop(sync, () => {});
  loop.start();
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.equal(sync.calls, 1);
  sync.finish();
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.ok(sync.calls >= 2, `expected another sync, got ${sync.calls}`);
  loop.stop();
  while (sync.running() > 0) sync.finish();
  const calls = sync.calls;
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.equal(sync.calls, calls, "no syncs after stop()");
});

Deno.test("SyncLoop: a hook that throws becomes a one-line summary", async () => {
  const seen: string[] = [];
  const loop = new SyncLoop({
    intervalSeconds: 0,
    indicator: () => Promise.reject(new Error("no")),
    syncNow: () => Promise.reject(new Error("socket hang up\n    at somewhere")),
  }, (indicator) => seen.push(indicator));
  loop.start();
  assert.equal(await loop.now(), "Sync failed: socket hang up");
  await tick();
  assert.deepEqual(seen, []);
  loop.stop();
});
