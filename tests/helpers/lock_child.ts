/**
 * Child process for tests/property/lock_race_test.ts: waits until a start
 * time, takes the sync lock at Deno.args[0], records "enter"/"leave" lines
 * in the log at Deno.args[1] while holding it, and releases it.
 */
import { acquireSyncLock } from "../../src/sync/lock.ts";

const [lockPath, logPath, startAt, holdMs] = Deno.args;
const wait = Number(startAt) - Date.now();
if (wait > 0) await new Promise((r) => setTimeout(r, wait));
const lock = await acquireSyncLock(lockPath, 30_000);
await Deno.writeTextFile(logPath, `enter ${Deno.pid}\n`, { append: true });
await new Promise((r) => setTimeout(r, Number(holdMs)));
await Deno.writeTextFile(logPath, `leave ${Deno.pid}\n`, { append: true });
await lock.release();
