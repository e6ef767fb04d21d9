import { describe, expect, it } from "vitest";
import { planAppend } from "../../src/core/append.js";
import { SessiondError } from "../../src/core/errors.js";
import type { PendingEvent } from "../../src/core/types.js";
import { eventData } from "../support/events.js";

const pending = (id: string, session: Record<string, number> | null = null): PendingEvent => ({
  event: eventData(id, { timestampUs: 1 }),
  delta: { app: null, user: null, session },
});

describe("planAppend", () => {
  it("numbers new events after the last sequence, in batch order", () => {
    const plan = planAppend({ events: [pending("a"), pending("b")], nowUs: 5 }, 7, new Map());
    expect(plan.inserts.map((e) => [e.id, e.sequence])).toEqual([["a", 8], ["b", 9]]);
    expect(plan.outcome).toEqual({ lastSequence: 9, events: [{ id: "a", sequence: 8, timestampUs: 1 }, { id: "b", sequence: 9, timestampUs: 1 }] });
  });

  it("returns stored assignments for known ids and leaves their deltas out", () => {
    const stored = new Map([["a", { id: "a", sequence: 3, timestampUs: 9 }]]);
    const plan = planAppend({ events: [pending("a", { x: 1 }), pending("b", { y: 2 })], nowUs: 5 }, 4, stored);
    expect(plan.inserts.map((e) => e.id)).toEqual(["b"]);
    expect(plan.delta.session).toEqual({ y: 2 });
    expect(plan.outcome.events[0]).toEqual({ id: "a", sequence: 3, timestampUs: 9 });
  });

  it("ignores expected_last_sequence for a pure retry but enforces it otherwise", () => {
    const stored = new Map([["a", { id: "a", sequence: 1, timestampUs: 1 }]]);
    expect(planAppend({ events: [pending("a")], expectedLastSequence: 0, nowUs: 1 }, 5, stored).inserts).toEqual([]);
    expect(() => planAppend({ events: [pending("b")], expectedLastSequence: 4, nowUs: 1 }, 5, stored)).toThrow(SessiondError);
    expect(planAppend({ events: [pending("b")], expectedLastSequence: 5, nowUs: 1 }, 5, stored).outcome.lastSequence).toBe(6);
  });
});
