import { type DescMethod, fromBinary, type JsonObject, type Message } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { type Event, type EventActions, EventActionsSchema } from "../../gen/sessiond/v1/session_pb.js";
import { AppendEventRequestSchema, AppendEventsRequestSchema } from "../../gen/sessiond/v1/session_service_pb.js";
import { emptyEvent } from "./convert.js";
import { structJsonText } from "./private/struct-json.js";
import { WireReader } from "./private/wire-reader.js";

/**
 * Binary AppendEvent and AppendEvents requests decoded with their events'
 * content and metadata (google.protobuf.Struct) as JSON text, the form the
 * stores write: the Struct bytes go to text in one pass, checked as they
 * are written, without the Value messages protobuf-es would build and
 * convert. The events hold the same values (parsed from the text,
 * natively) and carry the text for the stores (see {@link structsOf}). A
 * transport that decodes binary requests itself (the gRPC fast path) uses
 * this; a request it does not take (an unknown or repeated message field,
 * a field of another wire type, invalid UTF-8, a Struct structJsonText
 * leaves) is decoded generically, with the same result and errors.
 */

/** A Struct field of a request event, as JSON text and as the request encoded it (the form protobuf-es writes). */
export interface StructText {
  text: string;
  bytes: Uint8Array;
  /** The object parsed from the text: the text holds while the event's field is still this object. */
  value: JsonObject;
}

/** An event's content and metadata, where they were decoded to text. */
export type EventStructs = Partial<Record<"content" | "metadata", StructText>>;

// On the event itself (a request's, so short-lived): a WeakMap entry per event costs every collection more.
const STRUCTS = Symbol("sessiond.structs");

type DecodedEvent = Event & { [STRUCTS]?: EventStructs };

/**
 * An event's content and metadata as text and bytes, where they were
 * decoded so and the event still holds the objects made from them (an
 * interceptor may have replaced one).
 */
export function structsOf(event: Event): EventStructs | undefined {
  const structs = (event as DecodedEvent)[STRUCTS];
  if (structs === undefined) return undefined;
  const { content, metadata } = structs;
  if ((content === undefined || content.value === event.content) && (metadata === undefined || metadata.value === event.metadata)) return structs;
  return {
    ...(content?.value === event.content ? { content } : {}),
    ...(metadata?.value === event.metadata ? { metadata } : {}),
  };
}

/** A decoder of the method's binary requests that takes their JSON as text, or undefined for methods without one. */
export function jsonTextRequestDecoder(method: DescMethod): ((bytes: Uint8Array) => Message | undefined) | undefined {
  const typeName = method.input.typeName;
  if (typeName !== AppendEventRequestSchema.typeName && typeName !== AppendEventsRequestSchema.typeName) return undefined;
  const repeated = typeName === AppendEventsRequestSchema.typeName;
  return (bytes) => {
    try {
      return appendRequest(new WireReader(bytes), typeName, repeated);
    } catch {
      // Not what the reader takes after all: the generic decoder decides.
      return undefined;
    }
  };
}

// Tags, (field number << 3) | wire type, of the request fields (the same in both requests).
const APP_NAME = 0x0a;
const USER_ID = 0x12;
const SESSION_ID = 0x1a;
const EVENTS = 0x22;
const EXPECTED_LAST_SEQUENCE = 0x28;

function appendRequest(r: WireReader, typeName: string, repeated: boolean): Message | undefined {
  const end = r.end;
  const request: Record<string, unknown> = { $typeName: typeName, appName: "", userId: "", sessionId: "" };
  const events: Event[] = [];
  if (repeated) request.events = events;
  while (r.pos < end) {
    const tag = r.varint(end);
    let value: string | bigint | Event | undefined;
    switch (tag) {
      case APP_NAME:
        value = request.appName = r.string(end);
        break;
      case USER_ID:
        value = request.userId = r.string(end);
        break;
      case SESSION_ID:
        value = request.sessionId = r.string(end);
        break;
      case EVENTS: {
        // A singular message field that repeats merges its parts: the generic decoder's case.
        if (!repeated && events.length > 0) return undefined;
        const eventEnd = r.length(end);
        value = eventEnd < 0 ? undefined : readEvent(r, eventEnd);
        if (value !== undefined) events.push(value);
        break;
      }
      case EXPECTED_LAST_SEQUENCE:
        value = request.expectedLastSequence = r.int64(end);
        break;
      default:
        return undefined;
    }
    if (value === undefined) return undefined;
  }
  if (!repeated && events.length > 0) request.event = events[0];
  return request as unknown as Message;
}

// The scalar fields of Event by tag, (field number << 3) | wire type; fields 16 and 17 take two-byte tags.
const STRING_FIELDS = new Map<number, "id" | "sessionId" | "invocationId" | "agentId" | "author" | "branch" | "errorCode" | "errorMessage">([
  [0x0a, "id"],
  [0x12, "sessionId"],
  [0x22, "invocationId"],
  [0x2a, "agentId"],
  [0x32, "author"],
  [0x3a, "branch"],
  [0x72, "errorCode"],
  [0x7a, "errorMessage"],
]);
const BOOL_FIELDS = new Map<number, "partial" | "turnComplete" | "interrupted">([
  [0x60, "partial"],
  [0x68, "turnComplete"],
  [0x88, "interrupted"],
]);

function readEvent(r: WireReader, end: number): Event | undefined {
  const event: DecodedEvent = emptyEvent();
  while (r.pos < end) {
    const tag = r.varint(end);
    const text = STRING_FIELDS.get(tag);
    if (text !== undefined) {
      const value = r.string(end);
      if (value === undefined) return undefined;
      event[text] = value;
      continue;
    }
    const flag = BOOL_FIELDS.get(tag);
    if (flag !== undefined) {
      const value = r.int64(end);
      if (value === undefined) return undefined;
      event[flag] = value !== 0n;
      continue;
    }
    // Whether the field was taken; a half-read event is dropped.
    let taken: boolean;
    switch (tag) {
      case 0x18: {
        const sequence = r.int64(end);
        taken = sequence !== undefined;
        if (taken) event.sequence = sequence!;
        break;
      }
      case 0x42:
        taken = event.timestamp === undefined && (event.timestamp = readTimestamp(r, r.length(end))) !== undefined;
        break;
      case 0x4a:
        taken = event.content === undefined && readStruct(r, r.length(end), event, "content");
        break;
      case 0x52:
        taken = event.actions === undefined && (event.actions = readActions(r, r.length(end))) !== undefined;
        break;
      case 0x5a:
        taken = event.metadata === undefined && readStruct(r, r.length(end), event, "metadata");
        break;
      case 0x82: {
        const id = r.string(end);
        taken = id !== undefined;
        if (taken) event.longRunningToolIds.push(id!);
        break;
      }
      default:
        taken = false;
    }
    if (!taken) return undefined;
  }
  return r.pos === end ? event : undefined;
}

/** A Struct field as JSON text, parsed into `event[name]` and kept with its bytes; false when not taken. */
function readStruct(r: WireReader, end: number, event: DecodedEvent, name: "content" | "metadata"): boolean {
  if (end < 0) return false;
  const start = r.pos;
  const text = structJsonText(r, end);
  if (text === undefined) return false;
  const value = JSON.parse(text) as JsonObject;
  event[name] = value;
  (event[STRUCTS] ??= {})[name] = { text, bytes: r.buf.subarray(start, end), value };
  return true;
}

/** Actions that set only a state delta, read here; any others through protobuf-es. */
function readActions(r: WireReader, end: number): EventActions | undefined {
  if (end < 0) return undefined;
  const start = r.pos;
  const deltaEnd = r.field(0x0a, end);
  if (deltaEnd === end) {
    const text = structJsonText(r, end);
    if (text !== undefined) {
      return { $typeName: "sessiond.v1.EventActions", artifactDelta: {}, transferToAgent: "", stateDelta: JSON.parse(text) as JsonObject };
    }
  }
  r.pos = end;
  return fromBinary(EventActionsSchema, r.buf.subarray(start, end));
}

function readTimestamp(r: WireReader, end: number): Timestamp | undefined {
  if (end < 0) return undefined;
  const timestamp: Timestamp = { $typeName: "google.protobuf.Timestamp", seconds: 0n, nanos: 0 };
  while (r.pos < end) {
    const tag = r.varint(end);
    if (tag === 0x08) {
      const seconds = r.int64(end);
      if (seconds === undefined) return undefined;
      timestamp.seconds = seconds;
    } else if (tag === 0x10) {
      const nanos = r.int64(end);
      if (nanos === undefined) return undefined;
      timestamp.nanos = Number(BigInt.asIntN(32, nanos));
    } else return undefined;
  }
  return r.pos === end ? timestamp : undefined;
}
