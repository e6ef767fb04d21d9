import { type DescMessage, type JsonObject, type JsonValue, type Message, toBinary, type UnknownField } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import type { HandlerContext } from "@connectrpc/connect";
import type { Event, EventActions } from "../../../gen/sessiond/v1/session_pb.js";
import type { EventData, StoredEvent } from "../../core/types.js";
import { eventToProto } from "../convert.js";
import { attachEncoding, takesEncodedResponse } from "../encoded-response.js";
import type { EventStructs } from "../json-request.js";
import { base64Size, putVarint, varintSize, WireBuffer } from "./wire-buffer.js";

/**
 * A direct binary encoder for Event messages. The generic encoder turns
 * every google.protobuf.Struct (content, state deltas, metadata) into
 * reflection messages first, allocating an object per JSON value; writing
 * the JSON values straight to the wire costs a fraction of that. The output
 * is byte for byte what `toBinary(EventSchema, event)` writes.
 *
 * The bytes reach the response through `$unknown`, which the binary
 * serialization writes verbatim: a handler puts the encoded events there
 * and leaves the repeated field empty. JSON serialization ignores unknown
 * fields, so this is only done for binary protocols (see {@link binaryResponse}).
 */

/** Response content types of the binary codecs, as the gRPC, gRPC-Web and Connect handlers set them. */
const BINARY_CONTENT_TYPES = new Set(["application/grpc+proto", "application/grpc-web+proto", "application/proto", "application/connect+proto"]);

/**
 * Whether the response of this call is serialized in the binary format. The
 * protocol handlers set the response content type from the request's codec
 * (for Connect GET requests from the `encoding` parameter) before calling
 * the handler.
 */
export function binaryResponse(ctx: HandlerContext): boolean {
  return BINARY_CONTENT_TYPES.has(ctx.responseHeader.get("content-type") ?? "");
}

/**
 * Stored events encoded as the repeated message field `fieldNo` of their
 * parent: each event's tag, length and encoding, back to back in `bytes`
 * from `start` (the bytes before it are free). Event i's field ends at `ends[i]`.
 */
export interface EncodedEvents {
  readonly fieldNo: number;
  readonly bytes: Uint8Array;
  readonly start: number;
  readonly ends: readonly number[];
}

/**
 * Stored events as {@link EncodedEvents}, all written into one buffer. An
 * event with an encodedTail is its id, session id and sequence followed by
 * the tail, the bytes `toBinary` writes for the same event (fields in number
 * order); others are encoded from their fields.
 */
export function encodeStoredEvents(events: readonly StoredEvent[], sessionId: string, fieldNo: number, room = 0): EncodedEvents {
  // Each event's size is guessed (ids counted as ASCII, as they almost always are) so that its length
  // prefix rarely has to move, and the page's so that the buffer rarely grows.
  const sizes = new Array<number>(events.length);
  let total = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const tail = e.encodedTail;
    sizes[i] = tail === undefined ? 0 : tailSize(tail) + e.id.length + sessionId.length + 16;
    total += (sizes[i] || GUESSED_EVENT_SIZE) + 6;
  }
  const w = new WireBuffer(Math.max(room + total, 1024));
  w.pos = room;
  const ends = new Array<number>(events.length);
  const tag = ((fieldNo << 3) | WireType.LengthDelimited) >>> 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    w.uint32(tag);
    const tail = e.encodedTail;
    const mark = w.fork(sizes[i]);
    if (tail) {
      if (e.id !== "") w.uint32(0x0a).string(e.id);
      if (sessionId !== "") w.uint32(0x12).string(sessionId);
      // No BigInt per event for the sequences there are in practice.
      if (e.sequence !== 0) {
        w.uint32(0x18);
        if (e.sequence <= 0xffffffff) w.uint32(e.sequence);
        else w.int64(BigInt(e.sequence));
      }
      if (typeof tail === "string") w.base64(tail);
      else w.raw(tail);
    } else {
      writeEvent(w, eventToProto(e, sessionId));
    }
    w.join(mark);
    ends[i] = w.pos;
  }
  return { fieldNo, bytes: w.bytes(), start: room, ends };
}

/**
 * Events from..to of `encoded` as the parent's `$unknown`, which the binary
 * serialization writes verbatim as tag and data: one unknown field whose
 * data runs from the first event's length to the last event's end, later
 * events' tags included. The serializer copies one block per message
 * instead of a field per event.
 */
export function unknownEvents(encoded: EncodedEvents, from = 0, to = encoded.ends.length): UnknownField[] {
  if (to <= from) return [];
  const tagBytes = varintSize((encoded.fieldNo << 3) | WireType.LengthDelimited);
  return [{ no: encoded.fieldNo, wireType: WireType.LengthDelimited, data: eventFields(encoded, from, to).subarray(tagBytes) }];
}

/** Where event i's field (its tag first) starts in `encoded.bytes`. */
export function fieldStart(encoded: EncodedEvents, i: number): number {
  return i === 0 ? encoded.start : encoded.ends[i - 1]!;
}

/** The fields of events from..to (from < to), tags included: a view, not a copy. */
export function eventFields(encoded: EncodedEvents, from: number, to: number): Uint8Array {
  return encoded.bytes.subarray(fieldStart(encoded, from), encoded.ends[to - 1]);
}

/** Stored events as the `$unknown` of their parent message (see {@link encodeStoredEvents} and {@link unknownEvents}). */
export function unknownEventFields(events: readonly StoredEvent[], sessionId: string, fieldNo: number): UnknownField[] {
  return unknownEvents(encodeStoredEvents(events, sessionId, fieldNo));
}

/**
 * A binary response carrying `events` as the repeated field `fieldNo` of
 * `parent`: the response itself, or its message field `wrapField`. Their
 * encodings go into `parent.$unknown`; when the call's transport takes
 * encoded responses, the response's whole encoding is attached as well,
 * made in the events' buffer: the parent's other fields are written into
 * room kept before the events, the wrapping field's tag and length before
 * those. The bytes are those the binary serialization writes, which puts
 * unknown fields last.
 */
export function withEncodedEvents<T extends Message>(
  ctx: HandlerContext,
  response: T,
  parent: { schema: DescMessage; message: Message; wrapField?: number },
  events: readonly StoredEvent[],
  sessionId: string,
  fieldNo: number,
): T {
  const { message, wrapField } = parent;
  if (!takesEncodedResponse(ctx)) {
    message.$unknown = unknownEventFields(events, sessionId, fieldNo);
    return response;
  }
  const head = toBinary(parent.schema, message);
  const wrapTag = wrapField === undefined ? 0 : ((wrapField << 3) | WireType.LengthDelimited) >>> 0;
  const room = (wrapField === undefined ? 0 : varintSize(wrapTag) + 5) + head.length;
  const encoded = encodeStoredEvents(events, sessionId, fieldNo, room);
  message.$unknown = unknownEvents(encoded);
  const bytes = encoded.bytes;
  let start = room - head.length;
  bytes.set(head, start);
  if (wrapField !== undefined) {
    const length = bytes.length - start;
    start -= varintSize(wrapTag) + varintSize(length);
    putVarint(bytes, putVarint(bytes, start, wrapTag), length);
  }
  return attachEncoding(response, bytes.subarray(start));
}

/** Bytes assumed for an event encoded from its fields, when sizing the buffer. */
const GUESSED_EVENT_SIZE = 512;

function tailSize(tail: Uint8Array | string): number {
  return typeof tail === "string" ? base64Size(tail) : tail.length;
}

const scratch = new WireBuffer();

/**
 * An appended event's encodedTail: its encoding as reads return it, from
 * field 4 on. Id, session id and sequence are left out (they are written
 * only when set), as a read writes them from the row: the tail holds for a
 * fork's renumbered copy too.
 */
export function encodedTail(event: EventData, structs?: EventStructs): Uint8Array {
  scratch.pos = 0;
  writeEvent(scratch, eventToProto({ ...event, id: "", sequence: 0 }, ""), structs);
  return Uint8Array.prototype.slice.call(scratch.bytes());
}

/**
 * The binary encoding of an append's response, AppendEvent's and
 * AppendEvents' alike (the events as field 1, the session's last sequence
 * as field 2), as `toBinary` writes it.
 */
export function encodeAppendResponse(events: readonly Event[], lastSequence: bigint): Uint8Array {
  const w = new WireBuffer(64 + events.length * 96);
  for (const event of events) {
    const mark = w.uint32(0x0a).fork();
    writeEvent(w, event);
    w.join(mark);
  }
  if (lastSequence !== 0n) w.uint32(0x10).int64(lastSequence);
  return w.bytes();
}

/** The encoding of one event without a length prefix (as `toBinary` returns it). */
export function encodeEvent(event: Event): Uint8Array {
  const w = new WireBuffer(1024);
  writeEvent(w, event);
  return w.bytes();
}

// Tags are (field number << 3 | wire type), precomputed.
function writeEvent(w: WireBuffer, e: Event, structs?: EventStructs): void {
  if (e.id !== "") w.uint32(0x0a).string(e.id);
  if (e.sessionId !== "") w.uint32(0x12).string(e.sessionId);
  if (e.sequence != BigInt(0)) w.uint32(0x18).int64(e.sequence);
  if (e.invocationId !== "") w.uint32(0x22).string(e.invocationId);
  if (e.agentId !== "") w.uint32(0x2a).string(e.agentId);
  if (e.author !== "") w.uint32(0x32).string(e.author);
  if (e.branch !== "") w.uint32(0x3a).string(e.branch);
  const ts = e.timestamp;
  if (ts !== undefined) {
    const mark = w.uint32(0x42).fork();
    if (ts.seconds != BigInt(0)) w.uint32(0x08).int64(ts.seconds);
    if (ts.nanos !== 0) w.uint32(0x10).int32(ts.nanos);
    if (ts.$unknown !== undefined) writeUnknown(w, ts.$unknown);
    w.join(mark);
  }
  if (structs?.content) w.uint32(0x4a).uint32(structs.content.bytes.length).raw(structs.content.bytes);
  else if (e.content !== undefined) writeStructField(w, 0x4a, e.content);
  if (e.actions !== undefined) {
    const mark = w.uint32(0x52).fork();
    writeActions(w, e.actions);
    w.join(mark);
  }
  if (structs?.metadata) w.uint32(0x5a).uint32(structs.metadata.bytes.length).raw(structs.metadata.bytes);
  else if (e.metadata !== undefined) writeStructField(w, 0x5a, e.metadata);
  if (e.partial !== false) w.uint32(0x60).bool(e.partial);
  if (e.turnComplete !== false) w.uint32(0x68).bool(e.turnComplete);
  if (e.errorCode !== "") w.uint32(0x72).string(e.errorCode);
  if (e.errorMessage !== "") w.uint32(0x7a).string(e.errorMessage);
  const ids = e.longRunningToolIds;
  for (let i = 0; i < ids.length; i++) w.uint32(130).string(ids[i]!);
  if (e.interrupted !== false) w.uint32(136).bool(e.interrupted);
}

function writeActions(w: WireBuffer, a: EventActions): void {
  if (a.stateDelta !== undefined) writeStructField(w, 0x0a, a.stateDelta);
  const artifacts = a.artifactDelta;
  for (const key of Object.keys(artifacts)) {
    const mark = w.uint32(0x12).fork();
    w.uint32(0x0a).string(key).uint32(0x10).int64(artifacts[key]!);
    w.join(mark);
  }
  if (a.transferToAgent !== "") w.uint32(0x1a).string(a.transferToAgent);
  if (a.escalate !== undefined) w.uint32(0x20).bool(a.escalate);
  if (a.skipSummarization !== undefined) w.uint32(0x28).bool(a.skipSummarization);
  if (a.custom !== undefined) writeStructField(w, 0x32, a.custom);
  const r = a.rewind;
  if (r !== undefined) {
    const mark = w.uint32(0x3a).fork();
    if (r.targetSequence != BigInt(0)) w.uint32(0x08).int64(r.targetSequence);
    if (r.lastRewoundSequence != BigInt(0)) w.uint32(0x10).int64(r.lastRewoundSequence);
    if (r.beforeInvocationId !== "") w.uint32(0x1a).string(r.beforeInvocationId);
    if (r.$unknown !== undefined) writeUnknown(w, r.$unknown);
    w.join(mark);
  }
  if (a.$unknown !== undefined) writeUnknown(w, a.$unknown);
}

/** A google.protobuf.Struct field (held as a JsonObject) with its tag. */
function writeStructField(w: WireBuffer, tag: number, value: JsonObject): void {
  const mark = w.uint32(tag).fork();
  writeStruct(w, value);
  w.join(mark);
}

/** Struct: `map<string, Value> fields = 1`; anything but a plain object encodes as an empty Struct. */
function writeStruct(w: WireBuffer, object: JsonObject): void {
  if (object === null || typeof object !== "object" || Array.isArray(object)) return;
  for (const key of Object.keys(object)) {
    const entry = w.uint32(0x0a).fork();
    const value = w.uint32(0x0a).string(key).uint32(0x12).fork();
    writeValue(w, object[key]);
    w.join(value).join(entry);
  }
}

/** Value: a oneof of null (1), number (2, double), string (3), bool (4), struct (5), list (6). */
function writeValue(w: WireBuffer, value: JsonValue | undefined): void {
  switch (typeof value) {
    case "string":
      w.uint32(0x1a).string(value);
      return;
    case "number":
      w.uint32(0x11).double(value);
      return;
    case "boolean":
      w.uint32(0x20).bool(value);
      return;
    case "object":
      if (value === null) {
        w.uint32(0x08).uint32(0);
      } else if (Array.isArray(value)) {
        // ListValue: `repeated Value values = 1`.
        const list = w.uint32(0x32).fork();
        for (let i = 0; i < value.length; i++) {
          const item = w.uint32(0x0a).fork();
          writeValue(w, value[i]);
          w.join(item);
        }
        w.join(list);
      } else {
        const struct = w.uint32(0x2a).fork();
        writeStruct(w, value);
        w.join(struct);
      }
      return;
    default:
      // No kind set: an empty Value, as the generic encoder writes for undefined.
      return;
  }
}

function writeUnknown(w: WireBuffer, fields: readonly UnknownField[]): void {
  for (const { no, wireType, data } of fields) w.uint32(((no << 3) | wireType) >>> 0).raw(data);
}
