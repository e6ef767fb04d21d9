import { randomUUID } from "node:crypto";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { Event } from "../../gen/sessiond/v1/session_pb.js";
import { invalidArgument } from "../core/errors.js";
import { limits } from "../core/limits.js";
import { splitDelta } from "../core/state.js";
import type { JsonObject, PendingEvent, SessionKey } from "../core/types.js";
import { actionsFromProto, timestampToUs } from "./convert.js";

/**
 * Request validation. Every check throws INVALID_ARGUMENT naming the field
 * as the client spells it, so a bad request fails before any store call.
 */

// C0 and C1 control characters, DEL, and the line/paragraph separators.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** A required identifier: non-empty, at most 128 characters, no control characters. */
export function requireId(field: string, value: string): string {
  if (value.length === 0) throw invalidArgument(field, "is required");
  return checkText(field, value, limits.maxIdLength);
}

/** An optional label such as author or branch: may be empty, bounded, no control characters. */
export function checkText(field: string, value: string, maxLength = 1024): string {
  if (value.length > maxLength) throw invalidArgument(field, `is longer than ${maxLength} characters`);
  if (CONTROL.test(value)) throw invalidArgument(field, "contains control characters");
  return value;
}

/** The session key of a request that addresses one session. */
export function sessionKeyOf(req: { appName: string; userId: string; sessionId: string }): SessionKey {
  return {
    appName: requireId("app_name", req.appName),
    userId: requireId("user_id", req.userId),
    sessionId: requireId("session_id", req.sessionId),
  };
}

/** A non-negative integer field below 2^53. */
export function nonNegative(field: string, value: number | bigint): number {
  if (value < 0) throw invalidArgument(field, "must not be negative");
  if (value > Number.MAX_SAFE_INTEGER) throw invalidArgument(field, "is too large");
  return Number(value);
}

/** A page size: 0 means the default, at most {@link limits.maxPageSize}. */
export function pageSize(field: string, value: number): number {
  nonNegative(field, value);
  if (value > limits.maxPageSize) throw invalidArgument(field, `must be at most ${limits.maxPageSize}`);
  return value === 0 ? limits.defaultPageSize : value;
}

/** A timestamp within years 1..9999, as microseconds; undefined stays undefined. */
export function timeUs(field: string, ts: Timestamp | undefined): number | undefined {
  if (!ts) return undefined;
  // 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, as protobuf defines the valid range.
  if (ts.seconds < -62135596800n || ts.seconds > 253402300799n || ts.nanos < 0 || ts.nanos > 999_999_999) {
    throw invalidArgument(field, "is outside the valid timestamp range");
  }
  return timestampToUs(ts);
}

/** A JSON object field bounded in encoded size. */
export function boundedObject(field: string, value: JsonObject | undefined, maxBytes: number): JsonObject {
  if (!value) return {};
  if (Buffer.byteLength(JSON.stringify(value)) > maxBytes) throw invalidArgument(field, `is larger than ${maxBytes} bytes`);
  return value;
}

/**
 * Turns request events into pending events: validates them, assigns ids and
 * times, strips `temp:` keys, routes the state delta to its scopes. Partial
 * events are returned separately: they are answered but never stored.
 */
export function pendingEvents(
  field: string,
  events: Event[],
  nowUs: number,
): { pending: PendingEvent[]; partialIndexes: Set<number> } {
  if (events.length > limits.maxEventsPerBatch) {
    throw invalidArgument(field, `holds ${events.length} events; at most ${limits.maxEventsPerBatch} per call`);
  }
  const seen = new Set<string>();
  const pending: PendingEvent[] = [];
  const partialIndexes = new Set<number>();
  events.forEach((e, i) => {
    const at = events.length === 1 && field === "event" ? field : `${field}[${i}]`;
    const id = e.id === "" ? randomUUID() : requireId(`${at}.id`, e.id);
    if (seen.has(id)) throw invalidArgument(`${at}.id`, `repeats id ${JSON.stringify(id)} within the request`);
    seen.add(id);
    const { scoped, stored } = splitDelta(e.actions?.stateDelta);
    const event = {
      id,
      invocationId: checkText(`${at}.invocation_id`, e.invocationId, limits.maxIdLength * 2),
      agentId: checkText(`${at}.agent_id`, e.agentId, limits.maxIdLength * 2),
      author: checkText(`${at}.author`, e.author),
      branch: checkText(`${at}.branch`, e.branch),
      timestampUs: timeUs(`${at}.timestamp`, e.timestamp) ?? nowUs,
      content: e.content ?? null,
      actions: e.actions ? actionsFromProto(e.actions, stored) : null,
      metadata: e.metadata ?? null,
      turnComplete: e.turnComplete,
      errorCode: checkText(`${at}.error_code`, e.errorCode),
      errorMessage: e.errorMessage,
      longRunningToolIds: e.longRunningToolIds.map((t, j) => requireId(`${at}.long_running_tool_ids[${j}]`, t)),
      interrupted: e.interrupted,
    };
    const size = Buffer.byteLength(JSON.stringify([event.content, event.actions, event.metadata, event.errorMessage]));
    if (size > limits.maxEventBytes) throw invalidArgument(at, `is larger than ${limits.maxEventBytes} bytes`);
    if (e.partial) partialIndexes.add(i);
    pending.push({ event, delta: scoped });
  });
  return { pending, partialIndexes };
}
