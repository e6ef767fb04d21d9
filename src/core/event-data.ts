import type { EventData, StoredEvent } from "./types.js";

/** Event data with every field empty except the id, then `fields`: events the server makes itself, or knows only in part. */
export function eventDataOf(id: string, fields: Partial<EventData>): EventData {
  return {
    id,
    invocationId: "",
    agentId: "",
    author: "",
    branch: "",
    timestampUs: 0,
    content: null,
    actions: null,
    metadata: null,
    turnComplete: false,
    errorCode: "",
    errorMessage: "",
    longRunningToolIds: [],
    interrupted: false,
    ...fields,
  };
}

const NO_FIELDS = {};

/**
 * A stored event read for a binary response: its sequence, id and encoded
 * tail, nothing else (see EventPageQuery.encoded). One object per event, as
 * replays make one for every event they send.
 */
export function encodedStoredEvent(sequence: number, id: string, encodedTail: Uint8Array | string): StoredEvent {
  const event = eventDataOf(id, NO_FIELDS) as StoredEvent;
  event.sequence = sequence;
  event.encodedTail = encodedTail;
  return event;
}

/** An encoded tail as bytes (see EventData.encodedTail). */
export function tailBytes(tail: Uint8Array | string): Uint8Array {
  return typeof tail === "string" ? Buffer.from(tail, "base64") : tail;
}
