import { create, fromBinary, type JsonObject, toBinary } from "@bufbuild/protobuf";
import { createClient, createContextValues, type HandlerContext } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import { type Event, EventSchema, SessionSchema } from "../../gen/sessiond/v1/session_pb.js";
import {
  AppendEventResponseSchema,
  AppendEventsResponseSchema,
  GetEventsResponseSchema,
  GetSessionResponseSchema,
  ListEventsResponseSchema,
  SessionService,
} from "../../gen/sessiond/v1/session_service_pb.js";
import { assignedToProto, eventToProto } from "../../src/api/convert.js";
import { attachedEncoding, kTakesEncodedResponse } from "../../src/api/encoded-response.js";
import { encodeAppendResponse, encodeEvent, encodeStoredEvents, encodedTail, unknownEventFields, withEncodedEvents } from "../../src/api/private/event-encoder.js";
import { encodedStoredEvent } from "../../src/core/event-data.js";
import type { StoredEvent } from "../../src/core/types.js";
import { startServer } from "../../src/server.js";
import { MemoryStore } from "../../src/stores/memory.js";
import { random, STORABLE, STRINGS, storedEvent } from "../support/random-events.js";

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

  it("encodes append responses as toBinary does", () => {
    const next = random(9);
    for (let i = 0; i < 300; i++) {
      const count = i === 0 ? 0 : 1 + Math.floor(next() * 5);
      const events = Array.from({ length: count }, (_, k) => {
        const reply = assignedToProto({ id: `${STRINGS[k % STRINGS.length]}-${i}`, sequence: Math.floor(next() * 2 ** 40), timestampUs: Math.floor(next() * 2 ** 52) - 2 ** 40 }, next() < 0.5 ? "" : "sess");
        return next() < 0.2 ? { ...reply, sequence: 0n, partial: true } : reply;
      });
      const last = BigInt(Math.floor(next() * 3) === 0 ? 0 : Math.floor(next() * 2 ** 50));
      const many = toBinary(AppendEventsResponseSchema, create(AppendEventsResponseSchema, { events, sessionLastSequence: last }));
      expect(Buffer.from(encodeAppendResponse(events, last)).equals(Buffer.from(many)), `response ${i}`).toBe(true);
      if (count === 1) {
        const one = toBinary(AppendEventResponseSchema, create(AppendEventResponseSchema, { event: events[0], sessionLastSequence: last }));
        expect(Buffer.from(encodeAppendResponse(events, last)).equals(Buffer.from(one))).toBe(true);
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
