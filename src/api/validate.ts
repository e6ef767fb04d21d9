import { randomUUID } from "node:crypto";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { Event, EventActions } from "../../gen/sessiond/v1/session_pb.js";
import { HistoryView } from "../../gen/sessiond/v1/session_service_pb.js";
import { invalidArgument } from "../core/errors.js";
import { checkJson, checkStorableText, keyPath } from "../core/json-check.js";
import { limits } from "../core/limits.js";
import { splitDelta } from "../core/state.js";
import type { JsonObject, PendingEvent, SessionKey } from "../core/types.js";
import { actionsFromProto, timestampToUs } from "./convert.js";
import { structsOf } from "./json-request.js";

/**
 * Request validation. Every check throws INVALID_ARGUMENT naming the field
 * as the client spells it, so a bad request fails before any store call.
 */

// C0 and C1 control characters, DEL, and the line/paragraph separators.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** A required identifier: non-empty, at most 128 code points, no control characters. */
export function requireId(field: string, value: string): string {
  if (value.length === 0) throw invalidArgument(field, "is required");
  return checkText(field, value, limits.maxIdLength);
}

/**
 * An optional label such as author or branch: may be empty, at most
 * `maxLength` Unicode code points (an emoji counts once), no control
 * characters, well-formed Unicode.
 */
export function checkText(field: string, value: string, maxLength: number = limits.maxLabelLength): string {
  if (codePointsOver(value, maxLength)) throw invalidArgument(field, `is longer than ${maxLength} characters (Unicode code points)`);
  if (CONTROL.test(value)) throw invalidArgument(field, "contains control characters");
  return checkStorableText(field, value);
}

function codePointsOver(value: string, max: number): boolean {
  // A string has at least as many UTF-16 units as code points, and at most twice as many.
  if (value.length <= max) return false;
  if (value.length > 2 * max) return true;
  let count = 0;
  for (const _ of value) if (++count > max) return true;
  return false;
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

/** The history a read asks for: true for the effective history, false for the raw log. */
export function effectiveView(field: string, view: HistoryView): boolean {
  switch (view) {
    case HistoryView.UNSPECIFIED:
    case HistoryView.RAW:
      return false;
    case HistoryView.EFFECTIVE:
      return true;
    default:
      throw invalidArgument(field, `unknown value ${view}`);
  }
}

/** A page size: 0 means the default, at most {@link limits.maxPageSize}. */
export function pageSize(field: string, value: number): number {
  nonNegative(field, value);
  if (value > limits.maxPageSize) throw invalidArgument(field, `must be at most ${limits.maxPageSize}`);
  return value === 0 ? limits.defaultPageSize : value;
}

const MIN_SECONDS = BigInt(Math.floor(limits.minTimestampUs / 1e6));
const MAX_SECONDS = BigInt(Math.floor(limits.maxTimestampUs / 1e6));

/**
 * A timestamp that is stored (an event's): within 1700-01-01T00:00:00Z and
 * 2199-12-31T23:59:59.999999999Z, as microseconds (sub-microsecond digits
 * are dropped); undefined stays undefined.
 */
export function storedTimeUs(field: string, ts: Timestamp | undefined): number | undefined {
  if (!ts) return undefined;
  checkNanos(field, ts);
  if (ts.seconds < MIN_SECONDS || ts.seconds > MAX_SECONDS) {
    throw invalidArgument(field, "must be from 1700-01-01T00:00:00Z to 2199-12-31T23:59:59.999999999Z");
  }
  return timestampToUs(ts);
}

/**
 * A timestamp that only bounds a query: any valid protobuf timestamp (years
 * 1 to 9999). Outside the stored range it is clamped to just beyond it,
 * which selects the same rows and keeps the number exact for every store.
 */
export function timeUs(field: string, ts: Timestamp | undefined): number | undefined {
  if (!ts) return undefined;
  checkNanos(field, ts);
  // 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, as protobuf defines the valid range.
  if (ts.seconds < -62135596800n || ts.seconds > 253402300799n) throw invalidArgument(field, "is outside the valid timestamp range");
  if (ts.seconds < MIN_SECONDS) return limits.minTimestampUs - 1;
  if (ts.seconds > MAX_SECONDS) return limits.maxTimestampUs + 1;
  return timestampToUs(ts);
}

function checkNanos(field: string, ts: Timestamp): void {
  if (ts.nanos < 0 || ts.nanos > 999_999_999) throw invalidArgument(field, "nanos must be from 0 to 999999999");
}

/** A JSON object field that every store can hold and every client read back, bounded in encoded size. */
export function boundedObject(field: string, value: JsonObject | undefined, maxBytes: number): JsonObject {
  if (!value) return {};
  checkJson(field, value);
  if (Buffer.byteLength(JSON.stringify(value)) > maxBytes) throw invalidArgument(field, `is larger than ${maxBytes} bytes`);
  return value;
}

/** An event's actions, checked field by field before anything is derived from them. */
function checkActions(field: string, actions: EventActions): void {
  // Markers change what the effective history is; only a rewind may write one.
  if (actions.rewind) throw invalidArgument(`${field}.rewind`, "is set only by RewindSession");
  checkJson(`${field}.state_delta`, actions.stateDelta);
  checkJson(`${field}.custom`, actions.custom);
  checkText(`${field}.transfer_to_agent`, actions.transferToAgent, limits.maxIdLength * 2);
  for (const [name, version] of Object.entries(actions.artifactDelta)) {
    const at = keyPath(`${field}.artifact_delta`, name);
    checkStorableText(at, name);
    nonNegative(at, version);
  }
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
    // Only the client's ids can repeat: a generated one is a random UUID, and hashing it into the set was a sizable part of validation.
    const id = e.id === "" ? randomUUID() : requireId(`${at}.id`, e.id);
    if (e.id !== "") {
      if (seen.has(id)) throw invalidArgument(`${at}.id`, `repeats id ${JSON.stringify(id)} within the request`);
      seen.add(id);
    }
    // Content and metadata decoded straight to text were checked by that decoder.
    const structs = structsOf(e);
    const contentText = structs?.content?.text;
    const metadataText = structs?.metadata?.text;
    if (contentText === undefined) checkJson(`${at}.content`, e.content);
    if (metadataText === undefined) checkJson(`${at}.metadata`, e.metadata);
    if (e.actions) checkActions(`${at}.actions`, e.actions);
    const { scoped, stored } = splitDelta(e.actions?.stateDelta);
    const actions = e.actions ? actionsFromProto(e.actions, stored) : null;
    // Measured here anyway, the actions' JSON is handed on so that stores do not encode them again.
    const actionsText = JSON.stringify(actions);
    const event = {
      id,
      invocationId: checkText(`${at}.invocation_id`, e.invocationId, limits.maxIdLength * 2),
      agentId: checkText(`${at}.agent_id`, e.agentId, limits.maxIdLength * 2),
      author: checkText(`${at}.author`, e.author),
      branch: checkText(`${at}.branch`, e.branch),
      timestampUs: storedTimeUs(`${at}.timestamp`, e.timestamp) ?? nowUs,
      content: e.content ?? null,
      actions,
      metadata: e.metadata ?? null,
      turnComplete: e.turnComplete,
      errorCode: checkText(`${at}.error_code`, e.errorCode),
      errorMessage: checkStorableText(`${at}.error_message`, e.errorMessage),
      longRunningToolIds: e.longRunningToolIds.map((t, j) => requireId(`${at}.long_running_tool_ids[${j}]`, t)),
      interrupted: e.interrupted,
      json: { content: contentText, metadata: metadataText, actions: actions === null ? undefined : actionsText },
    };
    if (overEventBytes([contentText ?? JSON.stringify(event.content), actionsText, metadataText ?? JSON.stringify(event.metadata), JSON.stringify(event.errorMessage)])) {
      throw invalidArgument(at, `is larger than ${limits.maxEventBytes} bytes`);
    }
    if (e.partial) partialIndexes.add(i);
    pending.push({ event, delta: scoped });
  });
  return { pending, partialIndexes };
}

/**
 * Whether JSON.stringify([content, actions, metadata, errorMessage]), given
 * the four values' JSON, takes more than maxEventBytes in UTF-8. A UTF-16
 * unit takes at most 3 bytes, so texts short enough need no count.
 */
function overEventBytes(texts: string[]): boolean {
  let units = 5;
  for (const text of texts) units += text.length;
  if (units * 3 <= limits.maxEventBytes) return false;
  let bytes = 5;
  for (const text of texts) bytes += Buffer.byteLength(text);
  return bytes > limits.maxEventBytes;
}
