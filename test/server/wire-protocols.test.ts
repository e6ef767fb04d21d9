import { fromBinary, type MessageInitShape, type DescMessage, create, toBinary } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AppendEventRequestSchema,
  AppendEventResponseSchema,
  CreateSessionRequestSchema,
  CreateSessionResponseSchema,
  GetEventsRequestSchema,
  GetEventsResponseSchema,
  GetSessionRequestSchema,
  GetSessionResponseSchema,
  SessionService,
} from "../../gen/sessiond/v1/session_service_pb.js";
import { MemoryStore } from "../../src/stores/memory.js";
import { expectCode } from "../support/expect-code.js";
import { startTestServer, type TestServer, uniqueName } from "../support/server.js";

/** A unary or server-streaming method for grpc-js, (de)serialized by protobuf-es. */
function method<I extends DescMessage, O extends DescMessage>(name: string, input: I, output: O, responseStream = false) {
  return {
    path: `/sessiond.v1.SessionService/${name}`,
    requestStream: false,
    responseStream,
    requestSerialize: (m: MessageInitShape<I>) => Buffer.from(toBinary(input, create(input, m))),
    requestDeserialize: (b: Buffer) => fromBinary(input, b),
    responseSerialize: (m: MessageInitShape<O>) => Buffer.from(toBinary(output, create(output, m))),
    responseDeserialize: (b: Buffer) => fromBinary(output, b),
  };
}

const GrpcJsClient = grpc.makeGenericClientConstructor(
  {
    createSession: method("CreateSession", CreateSessionRequestSchema, CreateSessionResponseSchema),
    appendEvent: method("AppendEvent", AppendEventRequestSchema, AppendEventResponseSchema),
    getSession: method("GetSession", GetSessionRequestSchema, GetSessionResponseSchema),
    getEvents: method("GetEvents", GetEventsRequestSchema, GetEventsResponseSchema, true),
  },
  "SessionService",
);

describe("wire protocols on one port", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(new MemoryStore(), { corsOrigins: ["http://viewer.example"] });
  });
  afterAll(() => t.close());

  it("serves plain gRPC over HTTP/2 to @grpc/grpc-js: unary, server streaming and status codes", async () => {
    const client = new GrpcJsClient(`127.0.0.1:${t.server.port}`, grpc.credentials.createInsecure());
    const unary = <T>(name: string, req: object) =>
      new Promise<T>((resolve, reject) =>
        (client as unknown as Record<string, (r: object, cb: (e: grpc.ServiceError | null, v: T) => void) => void>)[name]!(req, (e, v) =>
          e ? reject(e) : resolve(v),
        ),
      );
    try {
      const appName = uniqueName("grpcjs");
      const created = await unary<{ session: { id: string } }>("createSession", { appName, userId: "u" });
      const key = { appName, userId: "u", sessionId: created.session.id };
      const appended = await unary<{ event: { sequence: bigint } }>("appendEvent", { ...key, event: { author: "user", content: { text: "hi" } } });
      expect(appended.event.sequence).toBe(1n);
      const got = await unary<{ session: { events: { content: unknown }[] } }>("getSession", key);
      expect(got.session.events[0]!.content).toEqual({ text: "hi" });
      const streamed: bigint[] = [];
      await new Promise<void>((resolve, reject) => {
        const call = (client as unknown as { getEvents(r: object): grpc.ClientReadableStream<{ events: { sequence: bigint }[] }> }).getEvents(key);
        call.on("data", (m: { events: { sequence: bigint }[] }) => streamed.push(...m.events.map((e) => e.sequence)));
        call.on("error", reject);
        call.on("end", resolve);
      });
      expect(streamed).toEqual([1n]);
      const missing = await unary("getSession", { ...key, sessionId: "nope" }).catch((e: grpc.ServiceError) => e);
      expect((missing as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
      expect((missing as grpc.ServiceError).details).toContain("nope");
    } finally {
      client.close();
    }
  });

  for (const [name, transport] of [
    ["Connect JSON over HTTP/1.1", (url: string) => createConnectTransport({ baseUrl: url, httpVersion: "1.1", useBinaryFormat: false })],
    ["Connect binary over HTTP/2", (url: string) => createConnectTransport({ baseUrl: url, httpVersion: "2", useBinaryFormat: true })],
    ["gRPC-Web over HTTP/1.1", (url: string) => createGrpcWebTransport({ baseUrl: url, httpVersion: "1.1" })],
  ] as const) {
    it(`serves ${name}: unary, server streaming and status codes`, async () => {
      const client = createClient(SessionService, transport(t.server.url));
      const appName = uniqueName("wire");
      const { session } = await client.createSession({ appName, userId: "u" });
      const key = { appName, userId: "u", sessionId: session!.id };
      await client.appendEvents({ ...key, events: [{ author: "a" }, { author: "b" }] });
      const sequences: bigint[] = [];
      for await (const m of client.getEvents(key)) sequences.push(...m.events.map((e) => e.sequence));
      expect(sequences).toEqual([1n, 2n]);
      await expectCode(client.getSession({ ...key, sessionId: "nope" }), Code.NotFound, "nope");
      await expectCode(client.createSession({ appName, userId: "" }), Code.InvalidArgument, "user_id");
    });
  }

  it("answers the Connect JSON protocol to a plain HTTP/1.1 POST, as curl sends it", async () => {
    const res = await fetch(`${t.server.url}/sessiond.v1.SessionService/CreateSession`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ appName: uniqueName("curl"), userId: "u", state: { "user:lang": "en" } }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { session: { state: unknown; status: string } };
    expect(body.session.state).toEqual({ "user:lang": "en" });
    expect(body.session.status).toBe("SESSION_STATUS_ACTIVE");
    const bad = await fetch(`${t.server.url}/sessiond.v1.SessionService/CreateSession`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ userId: "u" }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ code: "invalid_argument", message: "app_name: is required" });
  });

  it("answers 404 for paths that are no RPC and no route", async () => {
    const res = await fetch(`${t.server.url}/sessiond.v1.SessionService/NoSuchMethod`, { method: "POST", body: "{}" });
    expect(res.status).toBe(404);
  });

  it("answers CORS preflights for allowed origins only, with the headers Connect-Web needs", async () => {
    const preflight = (origin: string) =>
      fetch(`${t.server.url}/sessiond.v1.SessionService/ListSessions`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,connect-protocol-version" },
      });
    const allowed = await preflight("http://viewer.example");
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("http://viewer.example");
    expect(allowed.headers.get("access-control-allow-headers")).toContain("Connect-Protocol-Version");
    expect(allowed.headers.get("access-control-allow-methods")).toContain("POST");
    const denied = await preflight("http://evil.example");
    expect(denied.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("compresses responses only when configured, and always accepts compressed requests", async () => {
    const appName = uniqueName("gzip");
    const big = { text: "x".repeat(4096) };
    const call = (url: string, body: object, headers: Record<string, string> = {}) =>
      fetch(`${url}/sessiond.v1.SessionService/CreateSession`, {
        method: "POST",
        headers: { "content-type": "application/json", "accept-encoding": "gzip", ...headers },
        body: headers["content-encoding"] === "gzip" ? gzipSync(JSON.stringify(body)) : JSON.stringify(body),
      });
    const plain = await call(t.server.url, { appName, userId: "u", metadata: big });
    expect(plain.status).toBe(200);
    expect(plain.headers.get("content-encoding")).toBeNull();
    const compressedRequest = await call(t.server.url, { appName, userId: "u", metadata: big }, { "content-encoding": "gzip" });
    expect(compressedRequest.status).toBe(200);
    const compressing = await startTestServer(new MemoryStore(), { compressResponses: true });
    try {
      const res = await call(compressing.server.url, { appName, userId: "u", metadata: big });
      expect(res.headers.get("content-encoding")).toBe("gzip");
      expect(((await res.json()) as { session: { metadata: unknown } }).session.metadata).toEqual(big);
    } finally {
      await compressing.close();
    }
  });
});
