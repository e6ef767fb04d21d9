import { type JsonObject, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventSchema } from "../../gen/sessiond/v1/session_pb.js";
import { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import { eventToProto } from "../../src/api/convert.js";
import { encodedTail } from "../../src/api/private/event-encoder.js";
import { openStore } from "../../src/stores/open.js";
import type { Store } from "../../src/stores/store.js";
import { eventData } from "../support/events.js";
import { startTestServer, type TestServer, uniqueName } from "../support/server.js";
import { type IsolatedStore, testStores } from "../support/stores.js";

/** Events with every field set in turn, the edges of Struct values among them. */
function requestEvents(prefix: string): MessageInitShape<typeof EventSchema>[] {
  const content: JsonObject[] = [
    { parts: [{ text: "héllo ✓ \u{1F600}" }], role: "model" },
    { nested: { list: [1, -2.5, 1e21, 5e-324, true, null, "x", [], {}], empty: {} }, "1": "numeric key", b: "order" },
    {},
  ];
  return content.map((c, i) => ({
    id: `${prefix}${i}`,
    invocationId: `inv-${i}`,
    agentId: i === 1 ? "agent" : "",
    author: "user",
    branch: i === 2 ? "a.b" : "",
    content: c,
    actions: i === 0 ? undefined : { stateDelta: { k: i, "temp:t": 1, "user:u": [i] }, artifactDelta: { "f.txt": BigInt(i) }, transferToAgent: "t", escalate: true, custom: { c: "d" } },
    metadata: i === 2 ? { m: "v" } : undefined,
    turnComplete: i === 1,
    errorCode: i === 2 ? "E" : "",
    errorMessage: i === 2 ? "broken \u2028 line" : "",
    longRunningToolIds: i === 1 ? ["tool-1", "tool-2"] : [],
    interrupted: i === 2,
  }));
}

for (const name of ["sqlite", "postgres", "mysql", "redis", "redis-cluster", "memory"] as const) {
  describe(`${name}: binary reads write the tails encoded at append where the store keeps them`, () => {
    let isolated: IsolatedStore;
    let store: Store;
    let server: TestServer;
    let json: ReturnType<typeof createClient<typeof SessionService>>;
    beforeAll(async () => {
      isolated = await testStores[name]!();
      store = await openStore(isolated.url);
      server = await startTestServer(store, {}, "grpc");
      json = createClient(SessionService, createConnectTransport({ baseUrl: server.server.url, httpVersion: "2", useBinaryFormat: false }));
    });
    afterAll(async () => {
      await server?.close();
      await store?.close();
      await isolated?.cleanup();
    });

    it("answers GetEvents, ListEvents and GetSession in binary as in JSON, for events with a tail and without", async () => {
      const key = { appName: uniqueName("tails"), userId: "u", sessionId: "s" };
      await server.client.createSession(key);
      // One event stored the way an import stores it: without a tail, encoded from its columns on every read.
      await store.restoreEvents(key, [{ ...eventData("imported", { timestampUs: 1_000_001, content: { from: "export" } }), sequence: 1 }]);
      await server.client.appendEvents({ ...key, events: requestEvents("e") });
      const tails = async (afterSequence: number) =>
        (await store.readEvents(key, { filter: {}, afterSequence, limit: 10, encoded: true })).map((e) => e.encodedTail !== undefined);
      // The SQL and Redis stores keep tails (the SQL stores read a page holding an event without one again whole); memory keeps none.
      const keeps = name !== "memory";
      expect(store.keepsEncodedTails === true).toBe(keeps);
      expect(await tails(1)).toEqual([keeps, keeps, keeps]);
      if (keeps) expect(await tails(0)).toEqual([false, ...(name.startsWith("redis") ? [true, true, true] : [false, false, false])]);

      const streamed = async (client: typeof json) => {
        const events = [];
        for await (const r of client.getEvents(key)) events.push(...r.events);
        return events;
      };
      const binary = await streamed(server.client);
      expect(binary.map((e) => e.id)).toEqual(["imported", "e0", "e1", "e2"]);
      expect(binary).toEqual(await streamed(json));
      expect((await server.client.listEvents(key)).events).toEqual((await json.listEvents(key)).events);
      expect((await server.client.getSession(key)).session?.events).toEqual(binary);
      expect((await server.client.getSession({ ...key, numRecentEvents: 2 })).session?.events).toEqual(binary.slice(2));
      // A fork renumbers its copies; their tails hold no sequence or session id.
      await server.client.forkSession({ ...key, newSessionId: "fork" });
      const copy = (await server.client.listEvents({ ...key, sessionId: "fork" })).events;
      expect(copy.map((e) => [e.sessionId, Number(e.sequence)])).toEqual(binary.map((e) => ["fork", Number(e.sequence)]));
      expect(copy).toEqual((await json.listEvents({ ...key, sessionId: "fork" })).events);
    });
  });
}

describe("encodedTail", () => {
  it("after the id, session id and sequence, is the encoding of the event as a read returns it", async () => {
    const { unknownEventFields } = await import("../../src/api/private/event-encoder.js");
    const event = { ...eventData("id-1", { timestampUs: 1_750_000_000_123_456, content: { a: [1, "b", { c: null }] }, turnComplete: true }), sequence: 7 };
    const [field] = unknownEventFields([{ ...event, encodedTail: encodedTail(event) }], "sid", 1);
    const expected = toBinary(EventSchema, eventToProto(event, "sid"));
    // The field's data is the length prefix, then the event.
    expect(Buffer.from(field!.data.subarray(1))).toEqual(Buffer.from(expected));
    expect(field!.data[0]).toBe(expected.length);
  });
});
