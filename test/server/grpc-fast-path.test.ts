import http2 from "node:http2";
import { gunzipSync, gzipSync } from "node:zlib";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { StructSchema } from "@bufbuild/protobuf/wkt";
import { Code, createContextValues } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthCheckRequestSchema } from "../../gen/grpc/health/v1/health_pb.js";
import {
  AppendEventRequestSchema,
  CreateSessionRequestSchema,
  GetEventsRequestSchema,
  GetEventsResponseSchema,
  GetSessionRequestSchema,
  GetSessionResponseSchema,
  ListEventsRequestSchema,
  ListEventsResponseSchema,
} from "../../gen/sessiond/v1/session_service_pb.js";
import { HealthMonitor, healthService } from "../../src/ops/health.js";
import { observeStream, outcomeCode } from "../../src/ops/rpc-outcome.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { type CallHead, type RejectedCall, type SessiondServer, startServer } from "../../src/server.js";
import { limits } from "../../src/core/limits.js";
import { MemoryStore } from "../../src/stores/memory.js";
import { envelope, envelopes, h2Request, type RawResponse } from "../wire/raw-clients.js";

const SERVICE = "/sessiond.v1.SessionService";
const GRPC = { "content-type": "application/grpc", te: "trailers" };

/**
 * What must be the same on both paths: status, the headers and trailers that are not per call, the messages' kinds.
 * A JSON answer's length is per call too: its times print as many fractional digits as they need.
 */
function comparable(res: RawResponse) {
  const { date: _date, "x-request-id": _id, "content-length": _length, ...headers } = res.headers;
  const { ...trailers } = res.trailers;
  return { status: res.status, headers, trailers, rstCode: res.rstCode, envelopes: envelopes(res.body).map((e) => e.flags) };
}

describe("gRPC fast path", () => {
  // Two servers alike but for the path their gRPC unary and server-streaming calls take.
  const servers: SessiondServer[] = [];
  const sessions: http2.ClientHttp2Session[] = [];
  // Per server, the path each call took: Node's compatibility request objects have a stream, a fast-path call's head has none.
  const paths: ("fast" | "router")[][] = [[], []];
  const rejected: RejectedCall[][] = [[], []];
  const seen: ((head: CallHead) => void)[] = [];
  // Per server, how each stream ended, as the interceptors saw it.
  const ended: string[][] = [[], []];
  beforeAll(async () => {
    for (const [index, grpcFastPath] of [true, false].entries()) {
      const store = new MemoryStore();
      const health = new HealthMonitor({ store, services: ["sessiond.v1.SessionService"] });
      await health.start();
      const server = await startServer({
        store,
        port: 0,
        grpcFastPath,
        contextValues: (req, res) => {
          paths[index]!.push("stream" in req ? "router" : "fast");
          for (const notify of seen.splice(0)) notify(req);
          res.setHeader("x-request-id", "fixed");
          return createContextValues();
        },
        onRejectedCall: (call) => rejected[index]!.push(call),
        interceptors: [(next) => async (req) => {
          const res = await next(req);
          return res.stream ? { ...res, message: observeStream(res.message, (error) => ended[index]!.push(`${req.method.name} ${outcomeCode(error)}`)) } : res;
        }],
        services: (router) => router.service(Health, healthService(health)),
      });
      servers.push(server);
      sessions.push(http2.connect(server.url));
      await h2Request(sessions.at(-1)!, { ":path": `${SERVICE}/CreateSession`, ...GRPC }, envelope(toBinary(CreateSessionRequestSchema, create(CreateSessionRequestSchema, { appName: "a", userId: "u", sessionId: "s" }))));
      paths[index]!.length = 0;
    }
  });
  afterAll(async () => {
    for (const session of sessions) session.close();
    await Promise.all(servers.map((s) => s.close(1000)));
  });

  /** Sends the same request to both servers; returns both answers after checking they agree. */
  async function both(headers: http2.OutgoingHttpHeaders, body?: Buffer, expectPath: "fast" | "router" = "fast"): Promise<RawResponse[]> {
    const answers = [];
    for (const session of sessions) answers.push(await h2Request(session, headers, body));
    expect(paths[0]!.splice(0)).toEqual([expectPath]);
    expect(paths[1]!.splice(0)).toEqual(["router"]);
    expect(comparable(answers[0]!)).toEqual(comparable(answers[1]!));
    expect(answers[0]!.headers["x-request-id"]).toBe("fixed");
    return answers;
  }

  const append = (fields: Record<string, unknown>) =>
    envelope(toBinary(AppendEventRequestSchema, create(AppendEventRequestSchema, { appName: "a", userId: "u", sessionId: "s", ...fields })));

  it("answers successful calls alike, with the same headers, trailers and message sizes", async () => {
    const [fast] = await both({ ":path": `${SERVICE}/AppendEvent`, ...GRPC }, append({ event: { author: "agent", content: { text: "hé ✓" } } }));
    expect(fast!.trailers["grpc-status"]).toBe("0");
    expect(fast!.headers["content-type"]).toBe("application/grpc+proto");
    await both({ ":path": `${SERVICE}/GetSession`, ...GRPC }, envelope(toBinary(GetSessionRequestSchema, create(GetSessionRequestSchema, { appName: "a", userId: "u", sessionId: "s" }))));
    await both({ ":path": "/grpc.health.v1.Health/Check", ...GRPC }, envelope(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema))));
  });

  it("answers handler errors, bad input and protocol faults with the same status, message and details", async () => {
    const cases: [http2.OutgoingHttpHeaders, Buffer][] = [
      [{ ":path": `${SERVICE}/AppendEvent`, ...GRPC }, append({ sessionId: "missing", event: {} })],
      [{ ":path": `${SERVICE}/AppendEvent`, ...GRPC }, append({ appName: "", event: {} })],
      [{ ":path": `${SERVICE}/AppendEvent`, ...GRPC }, envelope(Buffer.from([0x0a, 0xff, 0xff]))],
      [{ ":path": `${SERVICE}/AppendEvent`, ...GRPC }, Buffer.concat([append({ event: {} }), append({ event: {} })])],
      [{ ":path": `${SERVICE}/AppendEvent`, ...GRPC }, Buffer.alloc(0)],
      [{ ":path": `${SERVICE}/AppendEvent`, ...GRPC }, Buffer.from([0, 0, 0, 0, 9, 1])],
      [{ ":path": `${SERVICE}/AppendEvent`, ...GRPC }, envelope(Buffer.alloc(0), 1)],
      [{ ":path": `${SERVICE}/AppendEvent`, ...GRPC, "grpc-timeout": "bogus" }, append({ event: {} })],
      [{ ":path": `${SERVICE}/AppendEvent`, ...GRPC, "grpc-encoding": "gzip" }, envelope(Buffer.from("not gzip"), 1)],
    ];
    for (const [headers, body] of cases) {
      const [fast] = await both(headers, body);
      expect(fast!.trailers["grpc-status"] ?? fast!.headers["grpc-status"] ?? String(fast!.status)).not.toBe("0");
      const [a, b] = await both(headers, body);
      for (const key of ["grpc-status", "grpc-message", "grpc-status-details-bin"]) expect(a!.trailers[key]).toEqual(b!.trailers[key]);
    }
  });

  it("takes append requests' JSON as text with the same outcome as the generic decoder, for the forms it leaves too", async () => {
    const w = () => new BinaryWriter();
    const value = (write: (v: BinaryWriter) => BinaryWriter) => write(w()).finish();
    const entry = (key: string | Uint8Array, v: Uint8Array) =>
      w().tag(1, 2).bytes((typeof key === "string" ? w().tag(1, 2).string(key) : w().tag(1, 2).bytes(key)).tag(2, 2).bytes(v).finish()).finish();
    const deep = (levels: number): Uint8Array => (levels === 0 ? new Uint8Array() : entry("d", value((v) => v.tag(5, 2).bytes(deep(levels - 1)))));
    // Content bytes by case; the ones the text decoder leaves to protobuf-es among them.
    const contents: [string, Uint8Array][] = [
      ["plain", toBinary(StructSchema, create(StructSchema))],
      ["nested", Buffer.concat([entry("list", value((v) => v.tag(6, 2).bytes(w().tag(1, 2).bytes(value((x) => x.tag(2, 1).double(-0))).finish()))), entry("ü", value((v) => v.tag(3, 2).string("✓\n")))])],
      ["a repeated key", Buffer.concat([entry("k", value((v) => v.tag(2, 1).double(1))), entry("k", value((v) => v.tag(3, 2).string("last")))])],
      ["an index key", Buffer.concat([entry("b", value((v) => v.tag(4, 0).bool(true))), entry("7", value((v) => v.tag(1, 0).uint32(0)))])],
      ["NaN", entry("n", value((v) => v.tag(2, 1).double(Number.NaN)))],
      ["U+0000", entry("s", value((v) => v.tag(3, 2).string("a\u0000")))],
      ["invalid UTF-8", entry("s", value((v) => v.tag(3, 2).bytes(Uint8Array.of(0xff))))],
      ["invalid UTF-8 in a key", entry(Uint8Array.of(0xc3), value((v) => v.tag(4, 0).bool(false)))],
      ["too deep", deep(limits.maxJsonDepth)],
      ["deepest", deep(limits.maxJsonDepth - 1)],
    ];
    for (const [name, content] of contents) {
      const event = w().tag(1, 2).string(`json-${name}`).tag(6, 2).string("agent").tag(9, 2).bytes(content).tag(11, 2).bytes(content).finish();
      const body = envelope(w().tag(1, 2).string("a").tag(2, 2).string("u").tag(3, 2).string("s").tag(4, 2).bytes(event).finish());
      const [fast, router] = await both({ ":path": `${SERVICE}/AppendEvent`, ...GRPC }, body);
      for (const key of ["grpc-status", "grpc-message"]) expect(fast!.trailers[key], `${name}: ${key}`).toEqual(router!.trailers[key]);
    }
    const list = envelope(toBinary(ListEventsRequestSchema, create(ListEventsRequestSchema, { appName: "a", userId: "u", sessionId: "s", pageSize: 1000 })));
    const [fast, router] = await both({ ":path": `${SERVICE}/ListEvents`, ...GRPC }, list);
    const stored = (res: RawResponse) =>
      fromBinary(ListEventsResponseSchema, envelopes(res.body)[0]!.data)
        .events.filter((e) => e.id.startsWith("json-"))
        .map((e) => JSON.stringify([e.id, e.content, e.metadata]));
    expect(stored(fast!)).toEqual(stored(router!));
    expect(stored(fast!).map((e) => JSON.parse(e)[0])).toEqual(["json-plain", "json-nested", "json-a repeated key", "json-an index key", "json-deepest"]);
  });

  it("rejects an oversized message from its declared size alike, and the connection stays usable", async () => {
    const head = Buffer.from([0, 0x7f, 0xff, 0xff, 0xff]);
    const [fast, router] = await both({ ":path": `${SERVICE}/AppendEvent`, ...GRPC }, Buffer.concat([head, Buffer.alloc(64)]));
    expect(fast!.trailers["grpc-status"]).toBe("8");
    expect(fast!.trailers["grpc-message"]).toBe(router!.trailers["grpc-message"]);
    await both({ ":path": `${SERVICE}/AppendEvent`, ...GRPC }, append({ event: { author: "after" } }));
  });

  it("takes gzip requests and negotiates response encoding alike", async () => {
    const payload = toBinary(AppendEventRequestSchema, create(AppendEventRequestSchema, { appName: "a", userId: "u", sessionId: "s", event: { author: "zipped" } }));
    const [fast] = await both({ ":path": `${SERVICE}/AppendEvent`, ...GRPC, "grpc-encoding": "gzip", "grpc-accept-encoding": "gzip" }, envelope(gzipSync(payload), 1));
    expect(fast!.trailers["grpc-status"]).toBe("0");
    expect(fast!.headers["grpc-encoding"]).toBe("gzip");
  });

  it("serves server streams too, ending them alike, and leaves JSON, gRPC-Web and Connect to connect-node, on the same port", async () => {
    const request = toBinary(GetEventsRequestSchema, create(GetEventsRequestSchema, { appName: "a", userId: "u", sessionId: "s" }));
    const [stream] = await both({ ":path": `${SERVICE}/GetEvents`, ...GRPC }, envelope(request));
    expect(stream!.trailers["grpc-status"]).toBe("0");
    const missing = toBinary(GetEventsRequestSchema, create(GetEventsRequestSchema, { appName: "a", userId: "u", sessionId: "missing" }));
    const [notFound] = await both({ ":path": `${SERVICE}/GetEvents`, ...GRPC }, envelope(missing));
    expect(notFound!.trailers["grpc-status"]).toBe("5");
    const [twoRequests] = await both({ ":path": `${SERVICE}/GetEvents`, ...GRPC }, Buffer.concat([envelope(request), envelope(request)]));
    expect(twoRequests!.trailers["grpc-status"]).toBe("12");
    const json = await both({ ":path": `${SERVICE}/GetSession`, "content-type": "application/grpc+json", te: "trailers" }, envelope(JSON.stringify({ appName: "a", userId: "u", sessionId: "s" })), "router");
    expect(json[0]!.trailers["grpc-status"]).toBe("0");
    const connect = await both({ ":path": `${SERVICE}/GetSession`, "content-type": "application/json" }, Buffer.from(JSON.stringify({ appName: "a", userId: "u", sessionId: "s" })), "router");
    expect(connect[0]!.status).toBe(200);
    const web = await both({ ":path": `${SERVICE}/GetSession`, "content-type": "application/grpc-web+proto" }, envelope(toBinary(GetSessionRequestSchema, create(GetSessionRequestSchema, { appName: "a", userId: "u", sessionId: "s" }))), "router");
    expect(web[0]!.status).toBe(200);
    const browser = await both({ ":path": `${SERVICE}/GetSession`, ...GRPC, origin: "https://example.com" }, envelope(toBinary(GetSessionRequestSchema, create(GetSessionRequestSchema, { appName: "a", userId: "u", sessionId: "s" }))), "router");
    expect(browser[0]!.trailers["grpc-status"]).toBe("0");
    const unknownEncoding = await both({ ":path": `${SERVICE}/AppendEvent`, ...GRPC, "grpc-encoding": "snappy" }, append({ event: {} }), "router");
    expect(unknownEncoding[0]!.trailers["grpc-status"]).toBe("12");
  });

  it("sends event-carrying responses as the router does, compressed or not, and refuses one over the write limit alike", async () => {
    const key = { appName: "a", userId: "u", sessionId: "big" };
    await both({ ":path": `${SERVICE}/CreateSession`, ...GRPC }, envelope(toBinary(CreateSessionRequestSchema, create(CreateSessionRequestSchema, key))));
    // Nearly 1 MiB each (the event limit): 17 of them are more than a message may hold.
    const big = (i: number) => append({ ...key, event: { id: `e${i}`, timestamp: { seconds: 1_700_000_000n }, content: { text: `${i}`.padEnd(1_000_000, "x") } } });
    for (let i = 0; i < 2; i++) await both({ ":path": `${SERVICE}/AppendEvent`, ...GRPC }, big(i));
    const getSession = envelope(toBinary(GetSessionRequestSchema, create(GetSessionRequestSchema, key)));
    const listEvents = envelope(toBinary(ListEventsRequestSchema, create(ListEventsRequestSchema, { ...key, pageSize: 10 })));
    const decoded = (res: RawResponse, schema: typeof GetSessionResponseSchema | typeof ListEventsResponseSchema) => {
      const [message] = envelopes(res.body);
      const data = message!.flags === 1 ? gunzipSync(message!.data) : message!.data;
      return schema === GetSessionResponseSchema ? fromBinary(GetSessionResponseSchema, data).session!.events : fromBinary(ListEventsResponseSchema, data).events;
    };
    for (const extra of [{}, { "grpc-accept-encoding": "gzip" }]) {
      const [fastSession, routerSession] = await both({ ":path": `${SERVICE}/GetSession`, ...GRPC, ...extra }, getSession);
      expect(decoded(fastSession!, GetSessionResponseSchema).map((e) => e.id)).toEqual(["e0", "e1"]);
      expect(decoded(fastSession!, GetSessionResponseSchema)).toEqual(decoded(routerSession!, GetSessionResponseSchema));
      const [fastList, routerList] = await both({ ":path": `${SERVICE}/ListEvents`, ...GRPC, ...extra }, listEvents);
      expect(decoded(fastList!, ListEventsResponseSchema)).toEqual(decoded(routerList!, ListEventsResponseSchema));
    }
    // A stream of messages of 1 MiB each, more than the flow-control window: written as the client takes them.
    for (let i = 2; i < 12; i++) await both({ ":path": `${SERVICE}/AppendEvent`, ...GRPC }, big(i));
    const getEvents = envelope(toBinary(GetEventsRequestSchema, create(GetEventsRequestSchema, key)));
    const streamed = (res: RawResponse) =>
      envelopes(res.body).flatMap((m) => fromBinary(GetEventsResponseSchema, m.flags === 1 ? gunzipSync(m.data) : m.data).events);
    for (const extra of [{}, { "grpc-accept-encoding": "gzip" }]) {
      const [fastStream, routerStream] = await both({ ":path": `${SERVICE}/GetEvents`, ...GRPC, ...extra }, getEvents);
      expect(streamed(fastStream!).map((e) => e.id)).toEqual(Array.from({ length: 12 }, (_, i) => `e${i}`));
      expect(streamed(fastStream!)).toEqual(streamed(routerStream!));
    }
    for (let i = 12; i < 17; i++) await both({ ":path": `${SERVICE}/AppendEvent`, ...GRPC }, big(i));
    // Not through both(): the sizes in the messages differ by the varint sizes of the two servers' session times.
    const answers = [];
    for (const session of sessions) answers.push(await h2Request(session, { ":path": `${SERVICE}/GetSession`, ...GRPC }, getSession));
    expect(paths[0]!.splice(0)).toEqual(["fast"]);
    expect(paths[1]!.splice(0)).toEqual(["router"]);
    for (const res of answers) {
      expect(res.trailers["grpc-status"]).toBe("8");
      expect(decodeURIComponent(String(res.trailers["grpc-message"]))).toMatch(/^message size \d+ is larger than configured writeMaxBytes 16777216$/);
    }
  }, 60_000);

  it("ends a server stream at its deadline while the client reads nothing (the router waits for the client)", async () => {
    const key = { appName: "a", userId: "u", sessionId: "stalled" };
    await both({ ":path": `${SERVICE}/CreateSession`, ...GRPC }, envelope(toBinary(CreateSessionRequestSchema, create(CreateSessionRequestSchema, key))));
    for (let i = 0; i < 6; i++) {
      await both({ ":path": `${SERVICE}/AppendEvent`, ...GRPC }, append({ ...key, event: { content: { text: "x".repeat(1_000_000) } } }));
    }
    ended[0]!.length = 0;
    const stream = sessions[0]!.request({ ":method": "POST", ":path": `${SERVICE}/GetEvents`, ...GRPC, "grpc-timeout": "300m" });
    // Read nothing: the server's writes wait for the flow-control window.
    stream.pause();
    stream.end(envelope(toBinary(GetEventsRequestSchema, create(GetEventsRequestSchema, key))));
    await expect.poll(() => ended[0], { timeout: 10_000 }).toEqual(["GetEvents deadline_exceeded"]);
    const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once("trailers", resolve));
    stream.resume();
    expect((await trailers)["grpc-status"]).toBe("4");
    expect(paths[0]!.splice(0)).toEqual(["fast"]);
  });

  it("reports a call whose client resets the stream mid-request as CANCELED, and keeps serving", async () => {
    rejected[0]!.length = 0;
    const started = new Promise<CallHead>((resolve) => seen.push(resolve));
    const stream = sessions[0]!.request({ ":method": "POST", ":path": `${SERVICE}/AppendEvent`, ...GRPC });
    stream.write(append({ event: {} }).subarray(0, 3));
    await started;
    stream.close(http2.constants.NGHTTP2_CANCEL);
    await new Promise((resolve) => stream.once("close", resolve));
    await expect.poll(() => rejected[0]!.length).toBe(1);
    const call = rejected[0]![0]!;
    expect([call.method, call.protocol, call.error.code], call.error.message).toEqual(["AppendEvent", "grpc", Code.Canceled]);
    paths[0]!.length = 0;
    const [after] = await both({ ":path": `${SERVICE}/AppendEvent`, ...GRPC }, append({ event: {} }));
    expect(after!.trailers["grpc-status"]).toBe("0");
  });

  it("reports input rejected before the interceptors alike", async () => {
    rejected[0]!.length = 0;
    rejected[1]!.length = 0;
    await both({ ":path": `${SERVICE}/AppendEvent`, ...GRPC }, envelope(Buffer.from([0x0a, 0xff, 0xff])));
    expect(rejected[0]!.map((c) => [c.method, c.protocol, c.error.code, c.error.rawMessage])).toEqual(rejected[1]!.map((c) => [c.method, c.protocol, c.error.code, c.error.rawMessage]));
    expect(rejected[0]![0]!.error.code).toBe(Code.InvalidArgument);
  });
});
