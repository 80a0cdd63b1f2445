import assert from "node:assert/strict";
import fc from "fast-check";
import { formatVersion, type HlcState, newDeviceId, observe, parseVersion, tick } from "./hlc.ts";

const DEV_A = "aaaaaaaaaaaa";
const DEV_B = "bbbbbbbbbbbb";
const HOUR = 3_600_000;
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function tupleCmp(a: [number, number, string], b: [number, number, string]): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return cmp(a[2], b[2]);
}

Deno.test("formatVersion: fixed widths and parseVersion round-trip", () => {
  const v = formatVersion({ ms: 5, counter: 10 }, DEV_A);
  assert.equal(v, `0000000000005-000a-${DEV_A}`);
  assert.deepEqual(parseVersion(v), { ms: 5, counter: 10, deviceId: DEV_A });
  const max = formatVersion({ ms: NOW, counter: 0xffff }, DEV_B);
  assert.equal(max, `${NOW}-ffff-${DEV_B}`);
  assert.deepEqual(parseVersion(max), { ms: NOW, counter: 0xffff, deviceId: DEV_B });
  assert.equal(parseVersion("not a version"), undefined);
  assert.equal(parseVersion("123-0000-x"), undefined);
});

Deno.test("string order of versions equals (ms, counter, device) order", () => {
  const device = fc.stringMatching(/^[0-9a-f]{12}$/);
  const version = fc.tuple(
    fc.integer({ min: 0, max: 9_999_999_999_999 }),
    fc.integer({ min: 0, max: 0xffff }),
    device,
  );
  fc.assert(
    fc.property(version, version, (a, b) => {
      const sa = formatVersion({ ms: a[0], counter: a[1] }, a[2]);
      const sb = formatVersion({ ms: b[0], counter: b[1] }, b[2]);
      assert.equal(Math.sign(cmp(sa, sb)), Math.sign(tupleCmp(a, b)));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("counter order: 0x0fff < 0x1000 < 0xffff as strings (hex, zero-padded)", () => {
  const a = formatVersion({ ms: NOW, counter: 0x0fff }, DEV_A);
  const b = formatVersion({ ms: NOW, counter: 0x1000 }, DEV_A);
  const c = formatVersion({ ms: NOW, counter: 0xffff }, DEV_A);
  const d = formatVersion({ ms: NOW + 1, counter: 0 }, DEV_A);
  assert.ok(a < b && b < c && c < d, [a, b, c, d].join(" "));
});

Deno.test("tick: wall clock ahead resets the counter; same or earlier ms bumps it", () => {
  assert.deepEqual(tick({ ms: NOW, counter: 7 }, NOW + 5), { ms: NOW + 5, counter: 0 });
  assert.deepEqual(tick({ ms: NOW, counter: 7 }, NOW), { ms: NOW, counter: 8 });
  // Wall clock went backwards: stay on the logical time.
  assert.deepEqual(tick({ ms: NOW, counter: 7 }, NOW - HOUR), { ms: NOW, counter: 8 });
});

Deno.test("tick: counter overflow borrows the next millisecond and still orders later", () => {
  const full: HlcState = { ms: NOW, counter: 0xffff };
  const next = tick(full, NOW);
  assert.deepEqual(next, { ms: NOW + 1, counter: 0 });
  assert.ok(formatVersion(next, DEV_A) > formatVersion(full, DEV_A));
  // Even a smaller device id sorts later once the time moved on.
  assert.ok(formatVersion(next, "000000000000") > formatVersion(full, "ffffffffffff"));
  // Many events in one frozen millisecond keep increasing across the overflow.
  let state: HlcState = { ms: NOW, counter: 0xfff0 };
  let last = formatVersion(state, DEV_A);
  for (let i = 0; i < 40; i++) {
    state = tick(state, NOW);
    const v = formatVersion(state, DEV_A);
    assert.ok(v > last, `${v} should be > ${last}`);
    last = v;
  }
  assert.equal(state.ms, NOW + 1);
});

Deno.test("equal clocks break ties by device id", () => {
  const state = { ms: NOW, counter: 3 };
  const a = formatVersion(state, DEV_A);
  const b = formatVersion(state, DEV_B);
  assert.ok(a < b);
  assert.notEqual(a, b);
});

Deno.test("observe: a device whose clock is 1h behind orders after a remote version", () => {
  // Device B's clock is accurate and writes at NOW.
  const remote = formatVersion(tick({ ms: 0, counter: 0 }, NOW), DEV_B);
  // Device A's wall clock is one hour behind and it has its own history.
  let a: HlcState = tick({ ms: 0, counter: 0 }, NOW - HOUR);
  const beforeObserving = formatVersion(tick(a, NOW - HOUR + 10), DEV_A);
  assert.ok(beforeObserving < remote, "without observe, the lagging clock orders earlier");
  a = observe(a, remote);
  const after = formatVersion(tick(a, NOW - HOUR + 20), DEV_A);
  assert.ok(after > remote, `${after} should be > ${remote}`);
  // Observing a remote version with a full counter still yields a later version.
  const fullRemote = formatVersion({ ms: NOW + 5, counter: 0xffff }, DEV_B);
  const b = tick(observe(a, fullRemote), NOW - HOUR);
  assert.ok(formatVersion(b, DEV_A) > fullRemote);
});

Deno.test("observe: same ms takes the larger counter; older or unparseable versions change nothing", () => {
  const state = { ms: NOW, counter: 5 };
  assert.deepEqual(observe(state, formatVersion({ ms: NOW, counter: 9 }, DEV_B)), {
    ms: NOW,
    counter: 9,
  });
  assert.deepEqual(observe(state, formatVersion({ ms: NOW, counter: 2 }, DEV_B)), state);
  assert.deepEqual(observe(state, formatVersion({ ms: NOW - 1, counter: 99 }, DEV_B)), state);
  assert.deepEqual(observe(state, "garbage"), state);
  // Observing an equal version: the next tick is still strictly later.
  const same = formatVersion(state, DEV_B);
  assert.ok(formatVersion(tick(observe(state, same), NOW), DEV_A) > same);
});

Deno.test("property: any sequence of tick/observe yields strictly increasing versions", () => {
  const base = NOW;
  const op = fc.oneof(
    fc.record({
      kind: fc.constant("tick" as const),
      // Wall clock jumps around: behind, equal, ahead (including big skews).
      offset: fc.integer({ min: -2 * HOUR, max: 2 * HOUR }),
    }),
    fc.record({
      kind: fc.constant("observe" as const),
      offset: fc.integer({ min: -2 * HOUR, max: 2 * HOUR }),
      counter: fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.constant(0xffff)),
      device: fc.stringMatching(/^[0-9a-f]{12}$/),
    }),
    fc.record({
      kind: fc.constant("burst" as const),
      // Many ticks in one frozen millisecond (exercises counter overflow).
      count: fc.integer({ min: 1, max: 300 }),
    }),
  );
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), fc.boolean(), (ops, nearFull) => {
      let state: HlcState = { ms: base, counter: nearFull ? 0xff00 : 0 };
      let highest = formatVersion(state, DEV_A); // largest version seen or produced
      let lastLocal = highest;
      const emit = (nowMs: number) => {
        state = tick(state, nowMs);
        const v = formatVersion(state, DEV_A);
        assert.ok(v > lastLocal, `local ${v} not > previous ${lastLocal}`);
        assert.ok(v > highest, `local ${v} not > everything seen ${highest}`);
        assert.ok(state.counter >= 0 && state.counter <= 0xffff);
        lastLocal = v;
        highest = v;
      };
      for (const o of ops) {
        if (o.kind === "tick") emit(base + o.offset);
        else if (o.kind === "burst") { for (let i = 0; i < o.count; i++) emit(state.ms); }
        else {
          const remote = formatVersion({ ms: base + o.offset, counter: o.counter }, o.device);
          state = observe(state, remote);
          if (remote > highest) highest = remote;
        }
      }
    }),
    { numRuns: 500 },
  );
});

Deno.test("newDeviceId: 12 lowercase hex characters, random", () => {
  const ids = new Set(Array.from({ length: 50 }, () => newDeviceId()));
  assert.equal(ids.size, 50);
  for (const id of ids) assert.match(id, /^[0-9a-f]{12}$/);
});
