import { describe, expect, it } from "vitest";
import { effectiveRanges, inRanges, markerOf, newestOf, rangesAfter, rangesSize, type RewindMarker } from "../../src/core/effective-history.js";
import { collectTouchedKeys, foldKeys, jsonEqual, restoringDelta, rewindMarkerEvent } from "../../src/core/rewind.js";
import { applyDelta } from "../../src/core/state.js";
import type { JsonObject, JsonValue, StoredEvent } from "../../src/core/types.js";
import { eventData } from "../support/events.js";

/** eff() straight from its recursive definition, for comparison. */
function effByDefinition(markers: ReadonlyMap<number, number>, n: number): number[] {
  if (n === 0) return [];
  const target = markers.get(n);
  return target === undefined ? [...effByDefinition(markers, n - 1), n] : effByDefinition(markers, target);
}

function expand(ranges: { first: number; last: number }[]): number[] {
  return ranges.flatMap((r) => Array.from({ length: r.last - r.first + 1 }, (_, i) => r.first + i));
}

function event(sequence: number, delta?: JsonObject, target?: number): StoredEvent {
  const rewind = target === undefined ? {} : { rewind: { targetSequence: target, lastRewoundSequence: sequence - 1 } };
  return {
    ...eventData(`e${sequence}`, { author: "", timestampUs: sequence, actions: delta || target !== undefined ? { stateDelta: delta, ...rewind } : null }),
    sequence,
  };
}

describe("effective history", () => {
  it("leaves out rewound events and markers, and a rewind of a rewind brings events back", () => {
    // 1 2 3 | 4: rewind to 1 | 5 | 6: rewind to 3 (undoes 4) | 7
    const markers: RewindMarker[] = [
      { sequence: 4, targetSequence: 1 },
      { sequence: 6, targetSequence: 3 },
    ];
    expect(expand(effectiveRanges(markers, 5))).toEqual([1, 5]);
    expect(expand(effectiveRanges(markers, 7))).toEqual([1, 2, 3, 7]);
    expect(expand(effectiveRanges(markers, 4))).toEqual([1]);
    expect(effectiveRanges([{ sequence: 3, targetSequence: 0 }], 3)).toEqual([]);
    expect(effectiveRanges([], 0)).toEqual([]);
  });

  it("matches the recursive definition on random logs", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 200; round++) {
      const n = 1 + Math.floor(random() * 30);
      const byDef = new Map<number, number>();
      const markers: RewindMarker[] = [];
      for (let seq = 1; seq <= n; seq++) {
        if (random() < 0.3) {
          const target = Math.floor(random() * seq);
          byDef.set(seq, target);
          markers.push({ sequence: seq, targetSequence: target });
        }
      }
      for (let through = 0; through <= n; through++) {
        const ranges = effectiveRanges(markers, through);
        expect(expand(ranges)).toEqual(effByDefinition(byDef, through));
        expect(rangesSize(ranges)).toBe(effByDefinition(byDef, through).length);
      }
    }
  });

  it("cuts ranges by cursor and by count, and finds sequences", () => {
    const ranges = [
      { first: 1, last: 3 },
      { first: 7, last: 9 },
    ];
    expect(rangesAfter(ranges, 2)).toEqual([{ first: 3, last: 3 }, { first: 7, last: 9 }]);
    expect(rangesAfter(ranges, 9)).toEqual([]);
    expect(newestOf(ranges, 4)).toEqual([{ first: 3, last: 3 }, { first: 7, last: 9 }]);
    expect(newestOf(ranges, 10)).toEqual(ranges);
    expect(newestOf(ranges, 0)).toEqual([]);
    expect([1, 3, 4, 7, 9, 10].map((s) => inRanges(ranges, s))).toEqual([true, true, false, true, true, false]);
  });

  it("reads markers from events and clamps impossible targets", () => {
    expect(markerOf(event(5, undefined, 2))).toEqual({ sequence: 5, targetSequence: 2 });
    expect(markerOf(event(5, { a: 1 }))).toBeUndefined();
    expect(markerOf(event(5, undefined, 9))).toEqual({ sequence: 5, targetSequence: 4 });
  });
});

describe("rewind state", () => {
  /** Computes the restoring delta the way the server does, from a log. */
  function rewindDelta(initial: JsonObject | null, log: StoredEvent[], current: JsonObject, target: number): JsonObject {
    const touched = new Set<string>();
    for (const e of log.filter((e) => e.sequence > target)) collectTouchedKeys(touched, e);
    const written = new Map<string, JsonValue>();
    for (const e of log.filter((e) => e.sequence <= target)) foldKeys(written, touched, e);
    return restoringDelta(current, touched, written, initial);
  }

  it("restores the state as of the target, deleting keys added since", () => {
    const initial = { a: 1, keep: "x" };
    const log = [event(1, { a: 2, b: 1 }), event(2, { a: 3, c: { n: 1 }, "app:shared": 1 }), event(3, { b: null, "user:u": 2 })];
    let state: JsonObject = initial;
    for (const e of log) state = applyDelta(state, Object.fromEntries(Object.entries(e.actions!.stateDelta!).filter(([k]) => !k.includes(":"))));
    expect(state).toEqual({ a: 3, keep: "x", c: { n: 1 } });
    const toOne = rewindDelta(initial, log, state, 1);
    expect(toOne).toEqual({ a: 2, b: 1, c: null });
    expect(applyDelta(state, toOne)).toEqual({ a: 2, b: 1, keep: "x" });
    expect(applyDelta(state, rewindDelta(initial, log, state, 0))).toEqual(initial);
    expect(rewindDelta(initial, log, state, 3)).toEqual({});
  });

  it("needs the initial state only for keys first written after the target", () => {
    const log = [event(1, { a: 1 }), event(2, { a: 2, b: 1 })];
    const current = { a: 2, b: 1, old: true };
    expect(rewindDelta(null, [event(1, { a: 1 }), event(2, { a: 2 })], { a: 2 }, 1)).toEqual({ a: 1 });
    expect(() => rewindDelta(null, log, current, 1)).toThrow(/initial value of "b" is unknown/);
    expect(rewindDelta({}, log, current, 1)).toEqual({ a: 1, b: null });
  });

  it("builds a marker whose delta is session-scoped and skips an empty delta", () => {
    const marker = rewindMarkerEvent({
      id: "m",
      invocationId: "inv",
      author: "user",
      nowUs: 5,
      rewind: { targetSequence: 1, lastRewoundSequence: 4, beforeInvocationId: "i2" },
      delta: { a: null },
    });
    expect(marker.event.actions).toEqual({ stateDelta: { a: null }, rewind: { targetSequence: 1, lastRewoundSequence: 4, beforeInvocationId: "i2" } });
    expect(marker.delta).toEqual({ app: null, user: null, session: { a: null } });
    const empty = rewindMarkerEvent({ id: "m", invocationId: "", author: "", nowUs: 5, rewind: { targetSequence: 4, lastRewoundSequence: 4 }, delta: {} });
    expect(empty.event.actions).toEqual({ rewind: { targetSequence: 4, lastRewoundSequence: 4 } });
    expect(empty.delta.session).toBeNull();
  });

  it("compares JSON structurally", () => {
    expect(jsonEqual({ a: [1, { b: 2 }], c: null }, { c: null, a: [1, { b: 2 }] })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(jsonEqual([1], { 0: 1 })).toBe(false);
    expect(jsonEqual("1", 1)).toBe(false);
  });
});
