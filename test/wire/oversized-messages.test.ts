import * as grpc from "@grpc/grpc-js";
import type http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sessiond } from "../../src/commands/serve.js";
import { limits } from "../../src/core/limits.js";
import { type LogCapture, serveConfig, startCaptured } from "../ops/sessiond.js";
import { envelope, envelopes, grpcWebStatus, h1Request, h2Connect, h2Request } from "./raw-clients.js";

const SVC = "/sessiond.v1.SessionService";
const OVER = limits.maxMessageBytes + 1024 * 1024;
const SMALL_LIST = envelope(Buffer.from([0x0a, 0x01, 0x61]));

describe("messages over the size limit", () => {
  let sessiond: Sessiond;
  let logs: LogCapture;
  let url: string;
  let session: http2.ClientHttp2Session;

  beforeAll(async () => {
    ({ sessiond, logs } = await startCaptured(serveConfig()));
    url = sessiond.server.url;
    session = await h2Connect(url);
  });
  afterAll(async () => {
    session.close();
    await sessiond.close(1000);
  });

  it("end that stream RESOURCE_EXHAUSTED over gRPC and HTTP/2 Connect; the connection serves the next calls", async () => {
    const before = logs.rpcs().length;
    const res = await h2Request(session, { ":path": `${SVC}/CreateSession`, "content-type": "application/grpc", te: "trailers" }, envelope(Buffer.alloc(OVER)));
    expect(res.status).toBe(200);
    expect(res.trailers["grpc-status"] ?? res.headers["grpc-status"]).toBe("8");
    // The server stopped the upload with a reset that is not an error.
    expect(res.rstCode).toBe(0);
    const json = await h2Request(session, { ":path": `${SVC}/CreateSession`, "content-type": "application/json" }, JSON.stringify({ appName: "a".repeat(OVER) }));
    expect(json.status).toBe(429);
    expect(JSON.parse(json.body.toString()).code).toBe("resource_exhausted");
    const stream = await h2Request(session, { ":path": `${SVC}/GetEvents`, "content-type": "application/connect+proto" }, envelope(Buffer.alloc(OVER)));
    const end = envelopes(stream.body).find((e) => e.flags & 0x02)!;
    expect(JSON.parse(end.data.toString()).error.code).toBe("resource_exhausted");
    for (let i = 0; i < 5; i++) {
      const ok = await h2Request(session, { ":path": `${SVC}/ListSessions`, "content-type": "application/grpc", te: "trailers" }, SMALL_LIST);
      expect(ok.trailers["grpc-status"]).toBe("0");
    }
    const lines = logs.rpcs().slice(before);
    expect(lines.map((l) => l.code)).toEqual(["resource_exhausted", "resource_exhausted", "resource_exhausted", "ok", "ok", "ok", "ok", "ok"]);
  });

  it("answer HTTP/1.1 Connect and gRPC-Web 429 / status 8 and close the connection instead of reading the rest", async () => {
    const connect = await h1Request(`${url}${SVC}/CreateSession`, { headers: { "content-type": "application/json" } }, JSON.stringify({ appName: "a".repeat(OVER) }));
    expect(connect.status).toBe(429);
    expect(connect.headers.connection).toBe("close");
    const web = await h1Request(`${url}${SVC}/CreateSession`, { headers: { "content-type": "application/grpc-web+proto" } }, envelope(Buffer.alloc(OVER)));
    expect(grpcWebStatus(web.body)).toBe("8");
  });

  it("answer @grpc/grpc-js RESOURCE_EXHAUSTED, and its channel keeps working", async () => {
    const client = new grpc.Client(`127.0.0.1:${sessiond.server.port}`, grpc.credentials.createInsecure());
    const call = (path: string, body: Buffer) =>
      new Promise<grpc.ServiceError | null>((resolve) =>
        client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, body, (error) => resolve(error)),
      );
    try {
      const error = await call(`${SVC}/CreateSession`, Buffer.alloc(OVER));
      expect(error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(await call(`${SVC}/ListSessions`, Buffer.from([0x0a, 0x01, 0x61]))).toBeNull();
    } finally {
      client.close();
    }
  });
});
