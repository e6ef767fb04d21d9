import { create, fromBinary, type JsonObject, type JsonValue, toBinary, toJson } from "@bufbuild/protobuf";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { type Event, EventSchema } from "../../gen/sessiond/v1/session_pb.js";
import { AppendEventRequestSchema, AppendEventsRequestSchema, SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import { eventToProto } from "../../src/api/convert.js";
import { jsonTextRequestDecoder, structsOf } from "../../src/api/json-request.js";
import { encodedTail } from "../../src/api/private/event-encoder.js";
import { structJsonText } from "../../src/api/private/struct-json.js";
import { WireReader } from "../../src/api/private/wire-reader.js";
import { pendingEvents } from "../../src/api/validate.js";
import { limits } from "../../src/core/limits.js";
import { jsonObject, random, STORABLE, STRINGS, storedEvent } from "../support/random-events.js";

/** The Struct bytes protobuf-es writes for `object` (an event's content field, without tag and length). */
function structBytes(object: JsonObject): Uint8Array {
  const bytes = toBinary(EventSchema, create(EventSchema, { content: object }));
  const r = new WireReader(bytes);
  expect(r.varint(bytes.length)).toBe(0x4a);
  const end = r.length(bytes.length);
  return bytes.subarray(r.pos, end);
}

/** Struct bytes to text as the request decoder does, or undefined where it leaves them to the generic decoder. */
function text(bytes: Uint8Array): string | undefined {
  const r = new WireReader(bytes);
  const result = structJsonText(r, bytes.length);
  return r.pos === bytes.length ? result : undefined;
}

/** What the stores wrote before: JSON.stringify of the object protobuf-es decodes. */
function generic(bytes: Uint8Array): string {
  const event = new BinaryWriter().tag(9, 2).bytes(bytes).finish();
  return JSON.stringify(fromBinary(EventSchema, event).content);
}

/** Whether `value` holds an object key JavaScript lists before the others (an array index) or U+0000 anywhere. */
function leftToGenericDecoder(value: JsonValue): boolean {
  if (typeof value === "string") return value.includes("\u0000");
  if (value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return value.some(leftToGenericDecoder);
  return Object.keys(value).some((key) => /^(0|[1-9][0-9]*)$/.test(key) || key.includes("\u0000") || leftToGenericDecoder(value[key]!));
}

// Hand-made Struct encodings, for the forms protobuf-es never writes.
const w = () => new BinaryWriter();
const entry = (key: Uint8Array | string, value: Uint8Array) => {
  const inner = w();
  if (typeof key === "string") inner.tag(1, 2).string(key);
  else inner.tag(1, 2).bytes(key);
  return w().tag(1, 2).bytes(inner.tag(2, 2).bytes(value).finish()).finish();
};
const struct = (...entries: Uint8Array[]) => Buffer.concat(entries);
const numberValue = (n: number) => w().tag(2, 1).double(n).finish();
const stringValue = (s: string | Uint8Array) => (typeof s === "string" ? w().tag(3, 2).string(s).finish() : w().tag(3, 2).bytes(s).finish());

describe("Struct bytes to JSON text", () => {
  it("writes JSON.stringify's text of what protobuf-es decodes, for random values", () => {
    const next = random(2026);
    let taken = 0;
    let left = 0;
    for (let i = 0; i < 4000; i++) {
      const object = jsonObject(next, 5, STRINGS);
      const bytes = structBytes(object);
      const actual = text(bytes);
      const decoded = fromBinary(EventSchema, new BinaryWriter().tag(9, 2).bytes(bytes).finish()).content!;
      if (leftToGenericDecoder(decoded)) {
        expect(actual, JSON.stringify(object)).toBeUndefined();
        left++;
      } else {
        expect(actual).toBe(generic(bytes));
        taken++;
      }
    }
    // Both ways are exercised.
    expect(taken).toBeGreaterThan(1000);
    expect(left).toBeGreaterThan(100);
  });

  it("covers the edges of the Struct spec", () => {
    const cases: JsonObject[] = [
      {},
      { a: {} },
      { a: [] },
      { nested: [[[]], [{}], [[1, [2, [3]]]]] },
      { z: -0, n: 5e-324, big: 1.7976931348623157e308, e: 1e21, f: 1e-7, i: 2 ** 53 + 2 },
      { "": "", " ": " ", "ключ": "значение", "k😀": "😀🎉", "日本": "語" },
      { escapes: "\"\\\n\r\t\b\f\u0001\u001f\u007f\u2028\u2029", slash: "/" },
      { quote: 'say "hi"', 'k"ey': 'a"', backslash: "back\\slash", "k\\": "\u007f", "k\n": "\u001f" },
      { t: true, f: false, n: null },
      JSON.parse('{"__proto__": {"polluted": true}, "constructor": 1, "toString": "x"}') as JsonObject,
      { replacement: "\ufffd", bom: "\ufeffstart" },
    ];
    for (const object of cases) {
      const bytes = structBytes(object);
      expect(text(bytes), JSON.stringify(object)).toBe(generic(bytes));
    }
    expect(text(structBytes({ z: -0 }))).toBe('{"z":0}');
  });

  it("leaves to the generic decoder what it would reject or decode otherwise", () => {
    const deep = (levels: number): JsonObject => (levels === 1 ? {} : { d: deep(levels - 1) });
    expect(text(structBytes(deep(limits.maxJsonDepth)))).toBe(generic(structBytes(deep(limits.maxJsonDepth))));
    const cases: [string, Uint8Array][] = [
      ["too deep", structBytes(deep(limits.maxJsonDepth + 1))],
      ["NaN", struct(entry("n", numberValue(Number.NaN)))],
      ["Infinity", struct(entry("n", numberValue(Number.POSITIVE_INFINITY)))],
      ["-Infinity", struct(entry("n", numberValue(Number.NEGATIVE_INFINITY)))],
      ["U+0000 in a value", structBytes({ s: "a\u0000b" })],
      ["U+0000 in a key", structBytes({ "a\u0000": 1 })],
      ["invalid UTF-8 in a value", struct(entry("s", stringValue(Uint8Array.of(0x61, 0xff, 0x62))))],
      ["invalid UTF-8 in a key", struct(entry(Uint8Array.of(0xc3), numberValue(1)))],
      ["an encoded surrogate", struct(entry("s", stringValue(Uint8Array.of(0xed, 0xa0, 0x80))))],
      ["a repeated key", struct(entry("k", numberValue(1)), entry("k", numberValue(2)))],
      ["an array-index key", struct(entry("b", numberValue(1)), entry("7", numberValue(2)))],
      ["value before key", struct(w().tag(1, 2).bytes(w().tag(2, 2).bytes(numberValue(1)).tag(1, 2).string("k").finish()).finish())],
      ["an entry without value", struct(w().tag(1, 2).bytes(w().tag(1, 2).string("k").finish()).finish())],
      ["an empty Value", struct(entry("k", new Uint8Array()))],
      ["a Value with two kinds", struct(entry("k", Buffer.concat([numberValue(1), stringValue("x")])))],
      ["an unknown Struct field", Buffer.concat([structBytes({ a: 1 }), w().tag(2, 0).uint32(1).finish()])],
      ["a padded length", Uint8Array.of(0x0a, 0x86, 0x00, 0x0a, 0x01, 0x6b, 0x12, 0x01, 0x08)],
      ["a null_value other than NULL_VALUE", struct(entry("k", w().tag(1, 0).uint32(3).finish()))],
      ["a bool other than 0 or 1", struct(entry("k", w().tag(4, 0).uint32(2).finish()))],
      ["a truncated number", struct(entry("k", Uint8Array.of(0x11, 1, 2, 3)))],
      ["a truncated Struct", structBytes({ a: "text" }).subarray(0, 5)],
    ];
    for (const [name, bytes] of cases) expect(text(bytes), name).toBeUndefined();
  });
});

describe("append requests with JSON as text", () => {
  const decodeEvents = jsonTextRequestDecoder(SessionService.method.appendEvents)!;
  const decodeEvent = jsonTextRequestDecoder(SessionService.method.appendEvent)!;

  /** A request event as clients send it: any stored event, partial or not, without the server's fields at random. */
  function requestEvent(next: () => number, i: number, strings = STRINGS): Event {
    const event = eventToProto(storedEvent(next, i, strings), next() < 0.5 ? "" : "s");
    event.partial = next() < 0.2;
    if (next() < 0.5) event.sequence = 0n;
    if (next() < 0.3) event.timestamp = undefined;
    return event;
  }

  it("decodes to the message protobuf-es decodes, for random requests", () => {
    const next = random(11);
    let taken = 0;
    for (let i = 0; i < 600; i++) {
      const request = create(AppendEventsRequestSchema, {
        appName: "app-ü",
        userId: next() < 0.5 ? "" : "u",
        sessionId: "s",
        events: Array.from({ length: Math.floor(next() * 4) }, (_, k) => requestEvent(next, k)),
        expectedLastSequence: next() < 0.5 ? undefined : BigInt(Math.floor(next() * 2 ** 40)),
      });
      const bytes = toBinary(AppendEventsRequestSchema, request);
      const expected = fromBinary(AppendEventsRequestSchema, bytes);
      const actual = decodeEvents(bytes);
      if (actual === undefined) {
        // Left only for the values the text decoder does not take.
        expect(expected.events.some((e) => [e.content, e.metadata, e.actions?.stateDelta].some((v) => v !== undefined && leftToGenericDecoder(v)))).toBe(true);
        continue;
      }
      taken++;
      // The same message, its JSON values as their JSON text has them (-0 is 0 there).
      const normalized = (message: typeof expected) => {
        const copy = fromBinary(AppendEventsRequestSchema, toBinary(AppendEventsRequestSchema, message));
        for (const e of copy.events) for (const v of [e.content, e.metadata, e.actions?.stateDelta]) if (v) Object.assign(v, JSON.parse(JSON.stringify(v)));
        return Buffer.from(toBinary(AppendEventsRequestSchema, copy));
      };
      expect(normalized(actual as typeof expected).equals(normalized(expected)), `request ${i}`).toBe(true);
      for (const [k, event] of (actual as typeof expected).events.entries()) {
        const structs = structsOf(event);
        if (expected.events[k]!.content !== undefined) expect(structs?.content?.text).toBe(JSON.stringify(expected.events[k]!.content));
        if (expected.events[k]!.metadata !== undefined) expect(structs?.metadata?.text).toBe(JSON.stringify(expected.events[k]!.metadata));
      }
    }
    expect(taken).toBeGreaterThan(200);
  });

  it("gives the stores the same text, sizes and encoded tails as the generic decoder", () => {
    const next = random(5);
    let compared = 0;
    for (let i = 0; i < 1000; i++) {
      // One event per request: most random events break some rule of the server's (tool ids, text sizes, a rewind action).
      const events = [{ ...requestEvent(next, i, STORABLE), partial: false, id: `e${i}` }];
      const bytes = toBinary(AppendEventsRequestSchema, create(AppendEventsRequestSchema, { appName: "a", userId: "u", sessionId: "s", events }));
      const fast = decodeEvents(bytes) as ReturnType<typeof fromBinary<typeof AppendEventsRequestSchema>> | undefined;
      if (fast === undefined) continue;
      const slow = fromBinary(AppendEventsRequestSchema, bytes);
      let fastPending: ReturnType<typeof pendingEvents>["pending"];
      try {
        fastPending = pendingEvents("events", fast.events, 1).pending;
      } catch (error) {
        // Both refuse the same input with the same message (ids and text fields are random too).
        expect(() => pendingEvents("events", slow.events, 1)).toThrow((error as Error).message);
        continue;
      }
      const slowPending = pendingEvents("events", slow.events, 1).pending;
      for (const [k, p] of fastPending.entries()) {
        const q = slowPending[k]!;
        expect(p.event.json?.content).toBe(q.event.content === null ? undefined : JSON.stringify(q.event.content));
        expect(p.event.json?.metadata).toBe(q.event.metadata === null ? undefined : JSON.stringify(q.event.metadata));
        // Either way the actions' text is what JSON.stringify writes for them.
        expect(p.event.json?.actions).toBe(q.event.actions === null ? undefined : JSON.stringify(q.event.actions));
        expect(q.event.json?.actions).toBe(p.event.json?.actions);
        const { json: _, ...fastEvent } = p.event;
        const { json: __, ...slowEvent } = q.event;
        // The same event, its JSON values as their JSON text has them (-0 is 0 there).
        expect(JSON.stringify(fastEvent) === JSON.stringify(slowEvent), `event ${i}.${k}`).toBe(true);
        expect(Buffer.from(encodedTail(p.event, structsOf(fast.events[k]!))).equals(Buffer.from(encodedTail(q.event)))).toBe(true);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(100);
  });

  it("leaves malformed and uncommon requests to the generic decoder", () => {
    const one = (event: Parameters<typeof create<typeof EventSchema>>[1]) =>
      toBinary(AppendEventRequestSchema, create(AppendEventRequestSchema, { appName: "a", userId: "u", sessionId: "s", event }));
    const good = one({ author: "me", content: { a: 1 }, metadata: { m: [true] }, actions: { stateDelta: { k: "v" } } });
    const decoded = decodeEvent(good) as ReturnType<typeof fromBinary<typeof AppendEventRequestSchema>>;
    expect(toJson(AppendEventRequestSchema, decoded)).toEqual(toJson(AppendEventRequestSchema, fromBinary(AppendEventRequestSchema, good)));
    expect(structsOf(decoded.event!)?.metadata?.text).toBe('{"m":[true]}');
    // A field replaced after decoding (by an interceptor, say) drops its text.
    const changed = decodeEvent(good) as typeof decoded;
    changed.event!.content = { other: true };
    expect(structsOf(changed.event!)?.content).toBeUndefined();
    expect(structsOf(changed.event!)?.metadata?.text).toBe('{"m":[true]}');
    const [pending] = pendingEvents("event", [changed.event!], 1).pending;
    expect(pending!.event.json).toEqual({ content: undefined, metadata: '{"m":[true]}', actions: '{"stateDelta":{"k":"v"}}' });
    expect(pending!.event.content).toEqual({ other: true });
    // The actions beyond a state delta go through protobuf-es, and come out the same.
    const rich = one({ actions: { stateDelta: { k: 1 }, artifactDelta: { f: 2n }, escalate: false, custom: { c: null } } });
    expect(toJson(AppendEventRequestSchema, decodeEvent(rich) as never)).toEqual(toJson(AppendEventRequestSchema, fromBinary(AppendEventRequestSchema, rich)));
    const eventBytes = toBinary(EventSchema, create(EventSchema, { author: "x" }));
    const eventField = new BinaryWriter().tag(4, 2).bytes(eventBytes).finish();
    const cases: [string, Uint8Array][] = [
      ["truncated", good.subarray(0, good.length - 3)],
      ["an unknown request field", Buffer.concat([good, new BinaryWriter().tag(99, 0).uint32(1).finish()])],
      ["an unknown event field", new BinaryWriter().tag(4, 2).bytes(Buffer.concat([eventBytes, new BinaryWriter().tag(50, 0).uint32(1).finish()])).finish()],
      ["a repeated singular event", Buffer.concat([good, eventField])],
      ["a field of another wire type", Buffer.concat([good, new BinaryWriter().tag(1, 0).uint32(1).finish()])],
      ["invalid UTF-8 in a string field", Buffer.concat([good, Uint8Array.of(0x0a, 0x01, 0xff)])],
      ["content with an index key", one({ content: { "0": 1 } })],
    ];
    for (const [name, bytes] of cases) expect(decodeEvent(bytes), name).toBeUndefined();
    expect(jsonTextRequestDecoder(SessionService.method.getSession)).toBeUndefined();
  });
});

describe("event size limit", () => {
  it("holds an event to maxEventBytes of JSON in UTF-8, to the byte, whatever its characters", () => {
    // JSON.stringify([content, null, null, ""]) around a content of {"t":"…"}: 15 + 8 bytes besides the text.
    const room = limits.maxEventBytes - 23;
    for (const char of ["x", "é", "日", "😀"]) {
      const width = Buffer.byteLength(char);
      const text = char.repeat(Math.floor(room / width)) + "x".repeat(room % width);
      const event = (t: string) => create(EventSchema, { author: "a", content: { t } });
      expect(pendingEvents("event", [event(text)], 1).pending).toHaveLength(1);
      expect(() => pendingEvents("event", [event(`${text}x`)], 1)).toThrow(`event: is larger than ${limits.maxEventBytes} bytes`);
    }
  });
});
