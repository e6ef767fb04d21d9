import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";
import { encodedStoredEvent, tailBytes } from "../../core/event-data.js";
import { emptyJsonObject, jsonObjectFromEntries } from "../../core/json-object.js";
import type { EventData, ForkOrigin, JsonObject, SessionKey, SessionRecord, SessionStatus, StoredEvent } from "../../core/types.js";

/**
 * Conversions between domain values and the strings the Redis store keeps:
 * events as JSON without their sequence (the hash field holds it), after
 * their encoded tail where they have one (see eventValue), state as
 * hashes of key to JSON text, records as hashes of plain fields.
 */

/** The JSON of an event without its sequence (the field it is stored under) and its encoded tail. */
function eventJson(event: EventData): string {
  const { sequence: _, encodedTail: __, json, content, metadata, ...data } = event as StoredEvent;
  // Content and metadata go last, as the text the request carried where it did.
  const rest = JSON.stringify(data);
  return `${rest.slice(0, -1)},"content":${json?.content ?? JSON.stringify(content ?? null)},"metadata":${json?.metadata ?? JSON.stringify(metadata ?? null)}}`;
}

/** Marks a stored value that starts with the id and the encoded tail (JSON values start with "{"). */
const WITH_TAIL = 0;

/**
 * The value stored for an event: its JSON, or with an encoded tail, the
 * marker byte, the id and the tail (each length-prefixed, as protobuf
 * writes bytes), then the JSON, so binary reads take the tail without
 * parsing anything.
 */
export function eventValue(event: EventData): string | Buffer {
  const json = eventJson(event);
  if (!event.encodedTail) return json;
  const tail = tailBytes(event.encodedTail);
  // The tail's length prefix is written here and the tail itself copied once, by concat.
  const head = new BinaryWriter().raw(Uint8Array.of(WITH_TAIL)).string(event.id).uint32(tail.length).finish();
  return Buffer.concat([head, tail, Buffer.from(json)]);
}

/**
 * An event read back from its field and stored value. With `encoded`, one
 * stored with a tail comes back with only the tail, its id and sequence
 * (see EventPageQuery.encoded); otherwise whole, keeping its tail.
 */
export function eventFromValue(sequence: number, value: Buffer, encoded: boolean): StoredEvent {
  if (value[0] !== WITH_TAIL) return { ...(JSON.parse(value.toString("utf8")) as EventData), sequence };
  const reader = new BinaryReader(value);
  reader.pos = 1;
  const id = reader.string();
  const encodedTail = reader.bytes();
  if (encoded) return encodedStoredEvent(sequence, id, encodedTail);
  return { ...(JSON.parse(value.toString("utf8", reader.pos)) as EventData), encodedTail, sequence };
}

/** Flat key/JSON pairs of a delta or state; a null value becomes "null" (delete). */
export function statePairs(delta: JsonObject | null | undefined): string[] {
  const out: string[] = [];
  if (delta) for (const key of Object.keys(delta)) out.push(key, JSON.stringify(delta[key]));
  return out;
}

/** A state object from HGETALL pairs (flat array) or an object of JSON texts. */
export function stateFrom(raw: string[] | Record<string, string>): JsonObject {
  const state = emptyJsonObject();
  if (Array.isArray(raw)) {
    for (let i = 0; i + 1 < raw.length; i += 2) state[raw[i]!] = JSON.parse(raw[i + 1]!);
  } else {
    for (const key of Object.keys(raw)) state[key] = JSON.parse(raw[key]!);
  }
  return state;
}

/** An object from flat HGETALL pairs. */
export function pairsToObject(raw: string[]): Record<string, string> {
  const out = jsonObjectFromEntries<string>([]);
  for (let i = 0; i + 1 < raw.length; i += 2) out[raw[i]!] = raw[i + 1]!;
  return out;
}

/** A session record from its hash and state, or undefined when the hash is empty (missing). */
export function recordFrom(key: SessionKey, hash: Record<string, string>, state: JsonObject): SessionRecord | undefined {
  if (hash.ct === undefined) return undefined;
  return {
    appName: key.appName,
    userId: key.userId,
    id: key.sessionId,
    agentId: hash.agent ?? "",
    status: (hash.status ?? "active") as SessionStatus,
    state,
    metadata: JSON.parse(hash.meta ?? "{}") as JsonObject,
    createTimeUs: Number(hash.ct),
    updateTimeUs: Number(hash.ut),
    lastSequence: Number(hash.last ?? 0),
    ...(hash.ff ? { forkedFrom: JSON.parse(hash.ff) as ForkOrigin } : {}),
  };
}

/** An app delta as the pending JSON the app script applies: key to JSON text ("null" deletes). */
export function appDeltaJson(delta: JsonObject): string {
  return JSON.stringify(jsonObjectFromEntries(Object.keys(delta).map((key) => [key, JSON.stringify(delta[key])])));
}
