import { limits } from "./limits.js";
import type { StoredEvent } from "./types.js";

/**
 * Splitting a page of events into stream messages bounded by event count and
 * bytes. Sizes are estimated from the event itself in one pass without
 * allocating: encoding every event twice just to measure it would double the
 * cost of the hot path. (Binary GetEvents responses are encoded before they
 * are split, so they use the exact sizes instead.)
 */

/** Bounds of one message. */
export interface ChunkBounds {
  maxEvents: number;
  maxBytes: number;
}

/** The bounds GetEvents uses. */
export const streamBounds: ChunkBounds = {
  maxEvents: limits.maxStreamMessageEvents,
  maxBytes: limits.maxStreamMessageBytes,
};

/** Field tags, lengths, sequence and timestamp of an event message. */
const EVENT_OVERHEAD = 64;

/**
 * Estimated protobuf size of an event in bytes. JSON values count as
 * google.protobuf.Struct: a number takes a fixed 8-byte double, so the
 * estimate follows the wire size rather than the (often smaller) JSON text.
 */
export function estimateEventBytes(event: StoredEvent, sessionId = ""): number {
  let n = EVENT_OVERHEAD + utf8(sessionId) + utf8(event.id) + utf8(event.invocationId) + utf8(event.agentId);
  n += utf8(event.author) + utf8(event.branch) + utf8(event.errorCode) + utf8(event.errorMessage);
  for (const id of event.longRunningToolIds) n += 2 + utf8(id);
  return n + valueBytes(event.content) + valueBytes(event.actions) + valueBytes(event.metadata);
}

/** Pages split into messages, plus their estimated total size (for sizing the next page). */
export interface Chunks {
  chunks: StoredEvent[][];
  bytes: number;
}

/** Splits events, in order, into runs that respect `bounds`; a single oversized event forms its own run. */
export function chunkEvents(events: readonly StoredEvent[], bounds: ChunkBounds = streamBounds, sessionId = ""): Chunks {
  const chunks: StoredEvent[][] = [];
  let current: StoredEvent[] = [];
  let currentBytes = 0;
  let bytes = 0;
  for (const event of events) {
    const size = estimateEventBytes(event, sessionId);
    bytes += size;
    if (current.length > 0 && (current.length >= bounds.maxEvents || currentBytes + size > bounds.maxBytes)) {
      chunks.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(event);
    currentBytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return { chunks, bytes };
}

function utf8(text: string): number {
  // Most labels are short ASCII; counting bytes natively is still cheap for long text.
  return text.length < 16 ? text.length * 3 : Buffer.byteLength(text, "utf8");
}

function valueBytes(value: unknown): number {
  if (value === null || value === undefined) return 2;
  switch (typeof value) {
    case "string":
      return 8 + utf8(value);
    case "number":
      return 11;
    case "boolean":
      return 4;
    case "object": {
      let n = 4;
      if (Array.isArray(value)) {
        for (const item of value) n += valueBytes(item);
      } else {
        const record = value as Record<string, unknown>;
        for (const key in record) n += 6 + utf8(key) + valueBytes(record[key]);
      }
      return n;
    }
    default:
      return 0;
  }
}
