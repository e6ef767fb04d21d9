import { create, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import http from "node:http";
import http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetEventsRequestSchema, SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import type { Sessiond } from "../../src/commands/serve.js";
import { type LogCapture, serveConfig, startCaptured } from "../ops/sessiond.js";
import { envelope, h2Connect } from "./raw-clients.js";

const PATH = "/sessiond.v1.SessionService/GetEvents";
const key = { appName: "cancel-app", userId: "u", sessionId: "s" };
const FOLLOW = envelope(toBinary(GetEventsRequestSchema, create(GetEventsRequestSchema, { ...key, follow: true })));

/** Opens a follow stream over HTTP/1.1 and resolves once its first bytes (the caught-up marker) arrived. */
function h1Follow(url: string, contentType: string): Promise<http.ClientRequest> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${PATH}`, { method: "POST", agent: false, headers: { "content-type": contentType } }, (res) => {
      res.once("data", () => resolve(req));
    });
    req.on("error", () => {});
    req.once("error", reject);
    req.end(FOLLOW);
  });
}

/** Opens a follow stream on an HTTP/2 session and resolves once its first bytes arrived. */
function h2Follow(session: http2.ClientHttp2Session): Promise<http2.ClientHttp2Stream> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":path": PATH, "content-type": "application/grpc", te: "trailers" });
    stream.once("data", () => resolve(stream));
    stream.on("error", () => {});
    stream.once("close", () => reject(new Error("closed before the first message")));
    stream.end(FOLLOW);
  });
}

describe("client cancels", () => {
  let sessiond: Sessiond;
  let logs: LogCapture;
  let url: string;

  beforeAll(async () => {
    ({ sessiond, logs } = await startCaptured(serveConfig()));
    url = sessiond.server.url;
    await createClient(SessionService, createGrpcTransport({ baseUrl: url })).createSession(key);
  });
  afterAll(() => sessiond.close(1000));

  /** Runs `cancel` `count` times and expects as many GetEvents lines, all `canceled` at info level, and no error lines. */
  async function expectCancelled(count: number, cancel: () => Promise<void>) {
    const lines = logs.lines.length;
    const rpcs = logs.rpcs().length;
    for (let i = 0; i < count; i++) await cancel();
    await expect.poll(() => logs.rpcs().length, { timeout: 10_000 }).toBe(rpcs + count);
    await expect.poll(() => sessiond.server.followStats().followers, { timeout: 10_000 }).toBe(0);
    const added = logs.lines.slice(lines);
    expect(added.filter((l) => l.msg === "rpc").map((l) => [l.method, l.code, l.level])).toEqual(Array(count).fill(["GetEvents", "canceled", "info"]));
    expect(added.filter((l) => l.level === "warn" || l.level === "error")).toEqual([]);
  }

  it("over HTTP/1.1, Connect and gRPC-Web streams the client closes end canceled at info level", async () => {
    await expectCancelled(3, async () => void (await h1Follow(url, "application/connect+proto")).destroy());
    await expectCancelled(3, async () => void (await h1Follow(url, "application/grpc-web+proto")).destroy());
  });

  it("over HTTP/2, streams the client resets end canceled, every one of them", async () => {
    const session = await h2Connect(url);
    try {
      await expectCancelled(40, async () => (await h2Follow(session)).close(http2.constants.NGHTTP2_CANCEL));
    } finally {
      session.close();
    }
  });

  it("over HTTP/2, streams whose client destroys its session end canceled", async () => {
    await expectCancelled(5, async () => {
      const session = await h2Connect(url);
      await h2Follow(session);
      session.destroy();
    });
  });
});
