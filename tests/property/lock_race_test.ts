/**
 * The sync lock under a crowd: several processes start at the same moment
 * while a lock of a dead process is in the way (as after `kill -9` during a
 * sync, when a few commands each start a background sync). Exactly one may
 * hold the lock at any time, and every one of them gets it in the end.
 */
import assert from "node:assert/strict";
import { join } from "node:path";

const CHILD = new URL("../helpers/lock_child.ts", import.meta.url).pathname;
const ROUNDS = Number(Deno.env.get("JDO_LOCK_ROUNDS") ?? 4);
const PROCESSES = 6;

async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

Deno.test("a stale sync lock is taken over by exactly one of many racing processes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jdo-lock-" });
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const lockPath = join(dir, `sync-${round}.lock`);
      const logPath = join(dir, `log-${round}.txt`);
      await Deno.writeTextFile(lockPath, `${await deadPid()} ${Date.now()}\n`);
      const startAt = Date.now() + 1_500; // every child loaded, then all at once
      const children = Array.from({ length: PROCESSES }, () =>
        new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "--quiet", CHILD, lockPath, logPath, String(startAt), "60"],
          stdout: "null",
          stderr: "piped",
        }).output());
      const results = await Promise.all(children);
      for (const r of results) {
        assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
      }
      const lines = (await Deno.readTextFile(logPath)).trim().split("\n");
      assert.equal(lines.length, 2 * PROCESSES, lines.join("\n"));
      for (let i = 0; i < lines.length; i += 2) {
        const [enter, pid] = lines[i].split(" ");
        assert.equal(enter, "enter", `round ${round}: two holders at once:\n${lines.join("\n")}`);
        assert.equal(lines[i + 1], `leave ${pid}`, `round ${round}: overlap:\n${lines.join("\n")}`);
      }
      assert.equal(await Deno.stat(lockPath).then(() => true, () => false), false);
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
