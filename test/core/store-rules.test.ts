import { describe, expect, it } from "vitest";
import { statePurge } from "../../src/core/delete-scope.js";
import { SessiondError } from "../../src/core/errors.js";
import { inRecentEventsRange, recentEventsRange } from "../../src/core/recent-events.js";
import { eventsToRestore } from "../../src/core/restore.js";
import { newSessionRecord, patchSession } from "../../src/core/session-patch.js";
import type { SessionRecord, StoredEvent } from "../../src/core/types.js";
import { eventData } from "../support/events.js";

const stored = (sequence: number, timestampUs = sequence * 10): StoredEvent => ({ ...eventData(`e${sequence}`, { timestampUs }), sequence });
const session = (range: number) => Array.from({ length: range }, (_, i) => stored(i + 1));
const select = (events: StoredEvent[], query: Parameters<typeof recentEventsRange>[0]) => {
  const range = recentEventsRange(query, events.length);
  return range ? events.filter((e) => inRecentEventsRange(e, range)).map((e) => e.sequence) : [];
};

describe("recentEventsRange", () => {
  it("selects every event, the newest N, or none", () => {
    expect(select(session(5), {})).toEqual([1, 2, 3, 4, 5]);
    expect(select(session(5), { numRecentEvents: 2 })).toEqual([4, 5]);
    expect(select(session(5), { numRecentEvents: 9 })).toEqual([1, 2, 3, 4, 5]);
    expect(select(session(5), { numRecentEvents: 0 })).toEqual([]);
    expect(recentEventsRange({ numRecentEvents: 0 }, 5)).toBeUndefined();
    expect(select([], { numRecentEvents: 3 })).toEqual([]);
  });

  it("intersects the newest N with after_time rather than taking N after it", () => {
    expect(select(session(5), { afterTimeUs: 30 })).toEqual([3, 4, 5]);
    expect(select(session(5), { numRecentEvents: 3, afterTimeUs: 40 })).toEqual([4, 5]);
    expect(select(session(5), { numRecentEvents: 2, afterTimeUs: 10 })).toEqual([4, 5]);
    expect(select(session(5), { numRecentEvents: 2, afterTimeUs: 60 })).toEqual([]);
    expect(recentEventsRange({ numRecentEvents: 2, afterTimeUs: 7 }, 10)).toEqual({ afterSequence: 8, afterTimeUs: 7 });
  });
});

describe("statePurge", () => {
  it("purges a named user's state, or the app's and all its users', and nothing without an app", () => {
    expect(statePurge({ appName: "a", userId: "u", purgeState: true })).toEqual({ kind: "user", appName: "a", userId: "u" });
    expect(statePurge({ appName: "a", purgeState: true })).toEqual({ kind: "app", appName: "a" });
    expect(statePurge({ userId: "u", purgeState: true })).toEqual({ kind: "none" });
    expect(statePurge({ appName: "a", userId: "u", purgeState: false })).toEqual({ kind: "none" });
  });
});

describe("eventsToRestore", () => {
  const seqs = (events: StoredEvent[]) => events.map((e) => e.sequence);

  it("skips what is stored and keeps what continues it", () => {
    expect(seqs(eventsToRestore(session(3), 0))).toEqual([1, 2, 3]);
    expect(seqs(eventsToRestore(session(5), 3))).toEqual([4, 5]);
    expect(seqs(eventsToRestore(session(3), 3))).toEqual([]);
    expect(seqs(eventsToRestore([stored(2), stored(3), stored(4)], 2))).toEqual([3, 4]);
  });

  it("rejects a gap before writing, naming the sequence", () => {
    const gap = () => eventsToRestore([stored(1), stored(2), stored(4)], 0);
    expect(gap).toThrow(SessiondError);
    expect(gap).toThrow("events: sequence 4 would leave a gap after 2");
    expect(() => eventsToRestore([stored(5)], 3)).toThrow("sequence 5 would leave a gap after 3");
    expect(() => eventsToRestore([stored(2), stored(1)], 0)).toThrow("sequence 2 would leave a gap after 0");
  });
});

describe("patchSession", () => {
  const record: SessionRecord = {
    appName: "a",
    userId: "u",
    id: "s",
    agentId: "agent",
    status: "active",
    state: { k: 1 },
    metadata: { m: 1 },
    createTimeUs: 1,
    updateTimeUs: 2,
    lastSequence: 4,
  };

  it("changes only the fields the patch sets, and the update time", () => {
    expect(patchSession(record, { nowUs: 9, status: "completed" })).toEqual({ ...record, status: "completed", updateTimeUs: 9 });
    expect(patchSession(record, { nowUs: 9, metadata: { n: 2 }, agentId: "b" })).toEqual({ ...record, metadata: { n: 2 }, agentId: "b", updateTimeUs: 9 });
  });

  it("checks expected_last_sequence first", () => {
    expect(patchSession(record, { nowUs: 9, expectedLastSequence: 4 }).updateTimeUs).toBe(9);
    expect(() => patchSession(record, { nowUs: 9, expectedLastSequence: 3, status: "failed" })).toThrow(/session is at sequence 4, not 3/);
  });
});

describe("newSessionRecord", () => {
  it("starts active at sequence 0 with the session-scoped part of the state, created and updated now", () => {
    const record = newSessionRecord({
      appName: "a",
      userId: "u",
      id: "s",
      agentId: "agent",
      metadata: { m: 1 },
      delta: { session: { x: 1, gone: null }, app: { y: 2 }, user: null },
      nowUs: 7,
    });
    expect(record).toEqual({
      appName: "a",
      userId: "u",
      id: "s",
      agentId: "agent",
      status: "active",
      state: { x: 1 },
      metadata: { m: 1 },
      createTimeUs: 7,
      updateTimeUs: 7,
      lastSequence: 0,
    });
  });
});
