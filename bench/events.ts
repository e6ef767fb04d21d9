import { randomUUID } from "node:crypto";
import type { JsonObject } from "@bufbuild/protobuf";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { EventSchema } from "../gen/sessiond/v1/session_pb.js";

/**
 * The event every workload writes, in the three shapes the contenders take:
 * a sessiond request event, a row for the raw driver and an ADK event. All
 * carry the same content (a model reply of about 300 bytes) and the same
 * state delta.
 */

/** Text every reply carries after its number. */
export const FILLER =
  "The quick brown fox jumps over the lazy dog while the agent explains its plan step by step, " +
  "cites two tools it called and summarizes the answer for the user in a short paragraph. ";

/** Content of event `i`. */
export function eventContent(i: number): JsonObject {
  return { role: "model", parts: [{ text: `reply ${i}: ${FILLER}` }] };
}

/** State delta of event `i`. */
export function eventDelta(i: number): JsonObject {
  return { turn: i };
}

/** A sessiond event; the server assigns id, sequence and time. */
export function sessiondEvent(i: number): MessageInitShape<typeof EventSchema> {
  return { invocationId: `inv-${i >> 4}`, author: "agent", content: eventContent(i), actions: { stateDelta: eventDelta(i) } };
}

/** The columns a raw-driver row fills, named as in the events table. */
export interface RawEventRow {
  session_id: string;
  sequence: number;
  id: string;
  invocation_id: string;
  author: string;
  timestamp: Date;
  content: JsonObject;
  actions: JsonObject;
}

/** Event `i` as a raw row with the given sequence; the driver encodes the JSON columns. */
export function rawEventRow(sessionId: string, sequence: number, i: number): RawEventRow {
  return {
    session_id: sessionId,
    sequence,
    id: randomUUID(),
    invocation_id: `inv-${i >> 4}`,
    author: "agent",
    timestamp: new Date(),
    content: eventContent(i),
    actions: { stateDelta: eventDelta(i) },
  };
}

/** Event `i` as an ADK event (the plain object ADK's createEvent makes). */
export function adkEvent(i: number) {
  return {
    id: randomUUID(),
    invocationId: `inv-${i >> 4}`,
    author: "agent",
    timestamp: Date.now(),
    content: eventContent(i),
    actions: { stateDelta: eventDelta(i), artifactDelta: {}, requestedAuthConfigs: {}, requestedToolConfirmations: {} },
  };
}
