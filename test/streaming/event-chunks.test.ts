import { toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { EventSchema } from "../../gen/sessiond/v1/session_pb.js";
import { eventToProto } from "../../src/api/convert.js";
import { chunkEvents, estimateEventBytes } from "../../src/core/event-chunks.js";
import type { JsonObject, StoredEvent } from "../../src/core/types.js";
import { eventData } from "../support/events.js";

function event(sequence: number, content: JsonObject | null, extra: Partial<StoredEvent> = {}): StoredEvent {
  const data = eventData(`event-${sequence}`, {
    invocationId: "inv-1",
    agentId: "agent",
    author: "model",
    branch: "root",
    timestampUs: 1_750_000_000_000_000 + sequence,
    content,
  });
  return { ...data, sequence, ...extra };
}

const encoded = (e: StoredEvent) => toBinary(EventSchema, eventToProto(e, "session-1")).length;

describe("stream message bounds", () => {
  const shapes: [string, StoredEvent][] = [
    ["ascii text", event(1, { role: "model", parts: [{ text: "hello ".repeat(2000) }] })],
    ["CJK and emoji", event(2, { parts: [{ text: "日本語のテキスト🎌".repeat(500) }] })],
    ["numbers", event(3, { values: Array.from({ length: 3000 }, (_, i) => i * 1.5) })],
    ["nested objects", event(4, { a: { b: { c: [{ d: true, e: null, f: "x" }, { g: 1 }] } } }, { metadata: { tokens: 12 } })],
    [
      "actions and labels",
      event(5, null, {
        actions: { stateDelta: { count: 1, "user:lang": "en" }, artifactDelta: { "a.pdf": 2 }, transferToAgent: "billing" },
        errorMessage: "e".repeat(300),
        longRunningToolIds: ["t1", "t2"],
      }),
    ],
  ];

  it.each(shapes)("estimates the encoded size of %s from below by at most 10%% and from above by at most 3x", (_, e) => {
    const actual = encoded(e);
    const estimate = estimateEventBytes(e, "session-1");
    expect(estimate).toBeGreaterThanOrEqual(actual * 0.9);
    expect(estimate).toBeLessThanOrEqual(actual * 3 + 200);
  });

  it("splits by count and by bytes, keeps order, and sends an oversized event alone", () => {
    const small = Array.from({ length: 1200 }, (_, i) => event(i + 1, { text: "hi" }));
    const byCount = chunkEvents(small, { maxEvents: 500, maxBytes: 1 << 30 });
    expect(byCount.chunks.map((c) => c.length)).toEqual([500, 500, 200]);
    const big = Array.from({ length: 10 }, (_, i) => event(i + 1, { text: "x".repeat(300_000) }));
    const byBytes = chunkEvents(big, { maxEvents: 500, maxBytes: 1024 * 1024 });
    expect(byBytes.chunks.map((c) => c.length)).toEqual([3, 3, 3, 1]);
    expect(byBytes.chunks.flat().map((e) => e.sequence)).toEqual(big.map((e) => e.sequence));
    const huge = [event(1, { text: "a" }), event(2, { text: "x".repeat(2_000_000) }), event(3, { text: "b" })];
    expect(chunkEvents(huge, { maxEvents: 500, maxBytes: 1024 * 1024 }).chunks.map((c) => c.length)).toEqual([1, 1, 1]);
    expect(chunkEvents([], { maxEvents: 500, maxBytes: 1024 }).chunks).toEqual([]);
  });
});
