import { create, toBinary } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetEventsRequestSchema, SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import type { Sessiond } from "../../src/commands/serve.js";
import { expectCode } from "../support/expect-code.js";
import { type LogCapture, serveConfig, startCaptured } from "../ops/sessiond.js";
import { envelope, h2Connect } from "./raw-clients.js";

const key = { appName: "deadline-app", userId: "u", sessionId: "s" };
const FOLLOW = toBinary(GetEventsRequestSchema, create(GetEventsRequestSchema, { ...key, follow: true }));

describe("deadlines", () => {
  let sessiond: Sessiond;
  let logs: LogCapture;
  let session: http2.ClientHttp2Session;
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);

  beforeAll(async () => {
    ({ sessiond, logs } = await startCaptured(serveConfig()));
    await createClient(SessionService, createGrpcTransport({ baseUrl: sessiond.server.url })).createSession(key);
    session = await h2Connect(sessiond.server.url);
    process.on("warning", onWarning);
  });
  afterAll(async () => {
    process.off("warning", onWarning);
    session.close();
    await sessiond.close(1000);
  });

  /**
   * Opens a follow stream with these headers, waits for the caught-up marker,
   * then for an event appended afterwards: the stream must still be open.
   */
  async function followOutlives(headers: http2.OutgoingHttpHeaders, body: Buffer) {
    const stream = session.request({ ":method": "POST", ":path": "/sessiond.v1.SessionService/GetEvents", ...headers });
    let received = 0;
    const ended = new Promise<void>((resolve) => stream.once("close", resolve));
    const chunks = new Promise<void>((resolve) =>
      stream.on("data", () => {
        if (++received === 2) resolve();
      }),
    );
    stream.on("error", () => {});
    stream.end(body);
    const endedEarly = ended.then(() => Promise.reject(new Error(`the stream ended under ${JSON.stringify(headers)}`)));
    endedEarly.catch(() => {});
    await Promise.race([expect.poll(() => received, { timeout: 10_000 }).toBeGreaterThanOrEqual(1), endedEarly]);
    await createClient(SessionService, createGrpcTransport({ baseUrl: sessiond.server.url })).appendEvent({ ...key, event: { author: "user" } });
    await Promise.race([chunks, endedEarly]);
    expect(stream.closed).toBe(false);
    stream.close(http2.constants.NGHTTP2_CANCEL);
    await ended;
  }

  it("keeps follow streams open under any valid grpc-timeout, up to 99999999H, without timer overflow", async () => {
    for (const timeout of ["600H", "99999999H", "99999999M", "2147484S"]) {
      await followOutlives({ "content-type": "application/grpc", te: "trailers", "grpc-timeout": timeout }, envelope(FOLLOW));
    }
    for (const timeout of ["9999999999", "2147483648"]) {
      await followOutlives({ "content-type": "application/connect+proto", "connect-timeout-ms": timeout }, envelope(FOLLOW));
    }
    expect(warnings.filter((w) => w.name === "TimeoutOverflowWarning")).toEqual([]);
    expect(logs.rpcs().filter((l) => l.code === "deadline_exceeded")).toEqual([]);
  });

  it("still ends calls whose deadline is short with DEADLINE_EXCEEDED", async () => {
    const client = createClient(SessionService, createGrpcTransport({ baseUrl: sessiond.server.url }));
    const follow = async () => {
      for await (const _ of client.getEvents({ ...key, follow: true }, { timeoutMs: 300 })) void _;
    };
    await expectCode(follow(), Code.DeadlineExceeded);
  });
});
