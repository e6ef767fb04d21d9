import { create, fromBinary, type JsonObject, type JsonValue, toBinary } from "@bufbuild/protobuf";
import { createClient, createContextValues, type HandlerContext } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import { type Event, EventSchema, SessionSchema } from "../../gen/sessiond/v1/session_pb.js";
import { GetEventsResponseSchema, GetSessionResponseSchema, ListEventsResponseSchema, SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import { eventToProto } from "../../src/api/convert.js";
import { attachedEncoding, kTakesEncodedResponse } from "../../src/api/encoded-response.js";
import { encodeEvent, encodeStoredEvents, encodedTail, unknownEventFields, withEncodedEvents } from "../../src/api/private/event-encoder.js";
import { encodedStoredEvent } from "../../src/core/event-data.js";
import { textProblem } from "../../src/core/json-check.js";
import type { StoredEvent } from "../../src/core/types.js";
import { startServer } from "../../src/server.js";
import { MemoryStore } from "../../src/stores/memory.js";

/** A deterministic pseudo-random source, so failures reproduce. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const STRINGS = ["", "a", "héllo wörld", "日本語テキスト", "emoji 😀🎉", "x".repeat(127), "y".repeat(128), "z".repeat(20_000), "é".repeat(100), "ü".repeat(9_000), "\u0000\n\t\"", "lone \ud800 surrogate", "0", "__proto__"];
const NUMBERS = [0, -0, 1, -1, 0.5, -2.25, 1e21, -1e-7, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, 2 ** 53 + 2, 1.7976931348623157e308];

/** The strings a server accepts: no U+0000, no lone surrogate. */
const STORABLE = STRINGS.filter((s) => textProblem(s) === undefined);

function jsonValue(next: () => number, depth: number, strings = STRINGS): JsonValue {
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  const kind = Math.floor(next() * (depth > 0 ? 7 : 4));
  switch (kind) {
    case 0:
      return pick(strings);
    case 1:
      return pick(NUMBERS);
    case 2:
      return next() < 0.5;
    case 3:
      return null;
    case 4:
    case 5:
      return jsonObject(next, depth - 1, strings);
    default:
      return Array.from({ length: Math.floor(next() * 4) }, () => jsonValue(next, depth - 1, strings));
  }
}

function jsonObject(next: () => number, depth: number, strings = STRINGS): JsonObject {
  const object: JsonObject = {};
  const keys = ["role", "parts", "text", "", "ключ", "2", "10", "nested", "list", "k😀"];
  for (let i = Math.floor(next() * 5); i > 0; i--) object[keys[Math.floor(next() * keys.length)]!] = jsonValue(next, depth, strings);
  return object;
}

function storedEvent(next: () => number, i: number, strings = STRINGS): StoredEvent {
  const maybe = <T>(value: T) => (next() < 0.5 ? value : null);
  const text = (fallback: string) => (next() < 0.5 ? strings[Math.floor(next() * strings.length)]! : fallback);
  return {
    id: text(`e-${i}`),
    sequence: Math.floor(next() * 3) === 0 ? 0 : Math.floor(next() * 2 ** 40),
    invocationId: text(""),
    agentId: text(""),
    author: text("agent"),
    branch: text(""),
    // Before and after the epoch, with and without microseconds.
    timestampUs: [0, 1_700_000_000_123_456, -86_400_000_001, 1_000_000, 999][Math.floor(next() * 5)]!,
    content: maybe(jsonObject(next, 4, strings)),
    actions: maybe({
      ...(next() < 0.5 ? { stateDelta: jsonObject(next, 3, strings) } : {}),
      ...(next() < 0.5 ? { artifactDelta: { "a.txt": 0, "b.png": 7, "日本": 2 ** 40, "": 1 } } : {}),
      ...(next() < 0.5 ? { transferToAgent: text("other") } : {}),
      ...(next() < 0.5 ? { escalate: next() < 0.5 } : {}),
      ...(next() < 0.5 ? { skipSummarization: next() < 0.5 } : {}),
      ...(next() < 0.5 ? { custom: jsonObject(next, 3, strings) } : {}),
      ...(next() < 0.3
        ? { rewind: { targetSequence: Math.floor(next() * 2 ** 40), lastRewoundSequence: Math.floor(next() * 3), ...(next() < 0.5 ? { beforeInvocationId: text("inv") } : {}) } }
        : {}),
    }),
    metadata: maybe(next() < 0.2 ? {} : jsonObject(next, 3, strings)),
    turnComplete: next() < 0.5,
    errorCode: text(""),
    errorMessage: text(""),
    longRunningToolIds: next() < 0.5 ? [] : ["t1", "", "ツール"],
    interrupted: next() < 0.5,
  };
}

describe("event encoder", () => {
  it("writes exactly the bytes of the generic encoder", () => {
    const next = random(42);
    for (let i = 0; i < 3000; i++) {
      const message = eventToProto(storedEvent(next, i), next() < 0.2 ? "" : "session-ü");
      const expected = toBinary(EventSchema, message);
      const actual = encodeEvent(message);
      // Byte comparison of a Buffer: element-wise matchers are slow on large arrays.
      if (!Buffer.from(actual).equals(Buffer.from(expected))) {
        expect(fromBinary(EventSchema, actual)).toEqual(fromBinary(EventSchema, expected));
        expect.fail(`event ${i}: bytes differ from toBinary`);
      }
    }
  });

  it("covers every field at once and the all-default event", () => {
    const full: Event = create(EventSchema, {
      id: "e",
      sessionId: "s",
      sequence: 9_007_199_254_740_993n,
      invocationId: "i",
      agentId: "a",
      author: "u",
      branch: "b.c",
      timestamp: { seconds: -5n, nanos: 999_999_999 },
      content: { role: "user", parts: [{ text: "hi" }, { n: -1.5 }, [], {}, null, true] },
      actions: {
        stateDelta: { k: { deep: [1, [2, [3]]] }, gone: null },
        artifactDelta: { f: 3n, neg: -1n },
        transferToAgent: "t",
        escalate: false,
        skipSummarization: true,
        custom: {},
        rewind: { targetSequence: 3n, lastRewoundSequence: 0n, beforeInvocationId: "i" },
      },
      metadata: { m: "" },
      partial: true,
      turnComplete: true,
      errorCode: "E",
      errorMessage: "bad",
      longRunningToolIds: ["x", "y"],
      interrupted: true,
    });
    for (const message of [full, create(EventSchema), create(EventSchema, { timestamp: {}, content: {}, actions: {} })]) {
      expect(Buffer.from(encodeEvent(message)).equals(Buffer.from(toBinary(EventSchema, message)))).toBe(true);
    }
  });

  it("makes repeated fields the parent decodes like the generic encoding", () => {
    const next = random(7);
    const stored = Array.from({ length: 200 }, (_, i) => storedEvent(next, i));
    const events = stored.map((e) => eventToProto(e, "s"));
    const fast = toBinary(GetEventsResponseSchema, { $typeName: "sessiond.v1.GetEventsResponse", events: [], caughtUp: true, $unknown: unknownEventFields(stored, "s", 1) });
    const slow = toBinary(GetEventsResponseSchema, create(GetEventsResponseSchema, { events, caughtUp: true }));
    // Unknown fields follow the known ones, so only the field order differs.
    const decoded = fromBinary(GetEventsResponseSchema, fast);
    expect(decoded).toEqual(fromBinary(GetEventsResponseSchema, slow));
    expect(fast.length).toBe(slow.length);
  });

  it("writes an event from its stored tail, as bytes or as base64 text, exactly as from its fields", () => {
    const next = random(11);
    // Long ids and tails make length prefixes of two and three bytes, non-ASCII ids a wrong guess of the size.
    const stored = Array.from({ length: 400 }, (_, i) => {
      const event = storedEvent(next, i);
      return i % 5 === 0 ? { ...event, id: STRINGS[i % STRINGS.length]! || "id" } : event;
    });
    for (const sessionId of ["", "s", "séssion-ü", "q".repeat(300)]) {
      const fromFields = encodeStoredEvents(stored, sessionId, 1);
      const fromTails = encodeStoredEvents(
        stored.map((e, i) => {
          const tail = encodedTail(e);
          return encodedStoredEvent(e.sequence, e.id, i % 2 === 0 ? tail : Buffer.from(tail).toString("base64"));
        }),
        sessionId,
        1,
      );
      expect(Buffer.from(fromTails.bytes).equals(Buffer.from(fromFields.bytes))).toBe(true);
      expect(fromTails.ends).toEqual(fromFields.ends);
    }
  });
});

describe("responses with their encoding attached", () => {
  const takes = { values: createContextValues().set(kTakesEncodedResponse, true) } as HandlerContext;
  const declines = { values: createContextValues() } as HandlerContext;

  it("frame exactly the bytes the binary serialization writes for the same message, nested or not", () => {
    const next = random(5);
    // No events, one, and enough for lengths of three bytes; a small head and one over 16 KiB.
    for (const count of [0, 1, 300]) {
      for (const token of ["", "t".repeat(20_000)]) {
        const state: JsonObject = token === "" ? {} : { big: token, n: 1 };
        const stored = Array.from({ length: count }, (_, i) => storedEvent(next, i, STORABLE));
        // forked_from's number follows that of the events: the serialization still writes the events last.
        const session = create(SessionSchema, { id: "s", appName: "a", userId: "u", state, lastSequence: 9n, forkedFrom: { sessionId: "p", sequence: 3n } });
        const parent = { schema: SessionSchema, message: session, wrapField: GetSessionResponseSchema.field.session.number };
        const wrapped = withEncodedEvents(takes, create(GetSessionResponseSchema, { session }), parent, stored, "s", SessionSchema.field.events.number);
        const list = create(ListEventsResponseSchema, { nextPageToken: token });
        const flat = withEncodedEvents(takes, list, { schema: ListEventsResponseSchema, message: list }, stored, "s", ListEventsResponseSchema.field.events.number);
        for (const [response, schema] of [[wrapped, GetSessionResponseSchema], [flat, ListEventsResponseSchema]] as const) {
          // The message still carries its events, through $unknown: serialized, it is the attached encoding.
          expect(Buffer.from(attachedEncoding(response)!).equals(Buffer.from(toBinary(schema as typeof ListEventsResponseSchema, response as never)))).toBe(true);
        }
        expect(fromBinary(GetSessionResponseSchema, attachedEncoding(wrapped)!).session!.events).toEqual(stored.map((e) => eventToProto(e, "s")));
      }
    }
  });

  it("are left unframed where the transport does not take them", () => {
    const stored = [storedEvent(random(1), 0, STORABLE)];
    const list = create(ListEventsResponseSchema, {});
    const response = withEncodedEvents(declines, list, { schema: ListEventsResponseSchema, message: list }, stored, "s", 1);
    expect(attachedEncoding(response)).toBeUndefined();
    expect(fromBinary(ListEventsResponseSchema, toBinary(ListEventsResponseSchema, response)).events).toEqual(stored.map((e) => eventToProto(e, "s")));
  });
});

describe("events in responses of every protocol", () => {
  it("are the same over binary and JSON codecs, POST and GET", async () => {
    const server = await startServer({ store: new MemoryStore(), host: "127.0.0.1", port: 0 });
    try {
      const baseUrl = server.url;
      const transports = {
        grpc: createGrpcTransport({ baseUrl }),
        grpcWeb: createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
        connectProto: createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true }),
        connectJson: createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: false }),
        connectProtoGet: createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true, useHttpGet: true }),
        connectJsonGet: createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: false, useHttpGet: true }),
      };
      const key = { appName: "codecs", userId: "u", sessionId: "s" };
      const client = createClient(SessionService, transports.grpc);
      await client.createSession(key);
      const next = random(3);
      const events = Array.from({ length: 40 }, (_, i) => {
        // Through JSON text first: a JSON codec cannot tell -0 from 0.
        const e = eventToProto(JSON.parse(JSON.stringify(storedEvent(next, i, STORABLE))) as StoredEvent, "");
        // Random JSON values; the labels are valid input.
        const labels = { invocationId: "inv", agentId: "", author: "agent", branch: "", errorCode: "", longRunningToolIds: ["t1"] };
        // Only RewindSession writes rewind markers; the stream of markers is covered by the conformance suite.
        const actions = e.actions && { ...e.actions, transferToAgent: e.actions.transferToAgent === "" ? "" : "other", rewind: undefined };
        return { ...e, ...labels, actions, id: `e${i}`, sequence: 0n, timestamp: undefined, partial: false };
      });
      await client.appendEvents({ ...key, events });
      const expected = (await client.getSession(key)).session!.events;
      expect(expected.length).toBe(40);
      for (const [name, transport] of Object.entries(transports)) {
        const c = createClient(SessionService, transport);
        expect((await c.getSession(key)).session!.events, name).toEqual(expected);
        expect((await c.listEvents({ ...key, pageSize: 100 })).events, name).toEqual(expected);
        const streamed = [];
        for await (const m of c.getEvents(key)) streamed.push(...m.events);
        expect(streamed, name).toEqual(expected);
      }
    } finally {
      await server.close(1000);
    }
  });
});
