import type http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sessiond } from "../../src/commands/serve.js";
import { type LogCapture, serveConfig, startCaptured } from "../ops/sessiond.js";
import { envelope, envelopes, grpcWebStatus, h1Request, h2Connect, h2Request } from "./raw-clients.js";

const SVC = "/sessiond.v1.SessionService";
// Field 1 (app_name) as a length-delimited string that claims more bytes than follow.
const TRUNCATED = Buffer.from([0x0a, 0x7f, 0x61]);
// A tag with wire type 7, which does not exist.
const BAD_WIRE_TYPE = Buffer.from([0x0f, 0x01]);

/** The number of finished RPCs with these labels in a Prometheus scrape. */
async function rpcCount(url: string, method: string, code: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text
    .split("\n")
    .find((l) => l.startsWith("sessiond_rpc_requests_total{") && l.includes(`method="${method}"`) && l.includes(`code="${code}"`));
  return line ? Number(line.split(" ").pop()) : 0;
}

describe("malformed requests", () => {
  let sessiond: Sessiond;
  let logs: LogCapture;
  let url: string;
  let session: http2.ClientHttp2Session;
  const grpc = (method: string, body: Buffer, headers: http2.OutgoingHttpHeaders = {}) =>
    h2Request(session, { ":path": `${SVC}/${method}`, "content-type": "application/grpc", te: "trailers", ...headers }, body);

  beforeAll(async () => {
    ({ sessiond, logs } = await startCaptured(serveConfig()));
    url = sessiond.server.url;
    session = await h2Connect(url);
  });
  afterAll(async () => {
    session.close();
    await sessiond.close(1000);
  });

  /** Runs `send`, then expects exactly one request-log line for it, with `code`, and one more count in the metrics. */
  async function expectRejected(method: string, code: string, send: () => Promise<void>) {
    const before = logs.rpcs().length;
    const counted = await rpcCount(url, method, code);
    await send();
    await expect.poll(() => logs.rpcs().length).toBe(before + 1);
    const line = logs.rpcs().at(-1)!;
    expect(line).toMatchObject({ method, code, level: code === "internal" ? "error" : "info" });
    expect(await rpcCount(url, method, code)).toBe(counted + 1);
    return line;
  }

  it("answers undecodable protobuf over gRPC INVALID_ARGUMENT, logs and counts it, and keeps the connection", async () => {
    for (const bytes of [TRUNCATED, BAD_WIRE_TYPE]) {
      const line = await expectRejected("CreateSession", "invalid_argument", async () => {
        const res = await grpc("CreateSession", envelope(bytes));
        expect(res.status).toBe(200);
        expect(res.trailers["grpc-status"] ?? res.headers["grpc-status"]).toBe("3");
      });
      expect(line).toMatchObject({ protocol: "grpc", reason: expect.stringContaining("parse binary") });
      expect(line.request_id).toEqual(expect.any(String));
    }
    // Server streaming: decoded inside the call, logged by the interceptors.
    await expectRejected("GetEvents", "invalid_argument", async () => {
      const res = await grpc("GetEvents", envelope(TRUNCATED));
      expect(res.trailers["grpc-status"] ?? res.headers["grpc-status"]).toBe("3");
    });
    const ok = await grpc("ListSessions", envelope(Buffer.from([0x0a, 0x01, 0x61])));
    expect(ok.trailers["grpc-status"] ?? ok.headers["grpc-status"]).toBe("0");
  });

  it("answers bad compression over gRPC as the spec says: INVALID_ARGUMENT, UNIMPLEMENTED, and INTERNAL only for a flag without encoding", async () => {
    const truncatedGzip = gzipSync(Buffer.from([0x0a, 0x01, 0x61])).subarray(0, 12);
    await expectRejected("CreateSession", "invalid_argument", async () => {
      const res = await grpc("CreateSession", envelope(truncatedGzip, 1), { "grpc-encoding": "gzip" });
      expect(res.trailers["grpc-status"] ?? res.headers["grpc-status"]).toBe("3");
    });
    await expectRejected("CreateSession", "invalid_argument", async () => {
      const res = await grpc("CreateSession", envelope("not gzip at all", 1), { "grpc-encoding": "gzip" });
      expect(res.trailers["grpc-status"] ?? res.headers["grpc-status"]).toBe("3");
    });
    await expectRejected("CreateSession", "unimplemented", async () => {
      const res = await grpc("CreateSession", envelope(Buffer.alloc(0)), { "grpc-encoding": "snappy" });
      expect(res.trailers["grpc-status"] ?? res.headers["grpc-status"]).toBe("12");
    });
    await expectRejected("CreateSession", "internal", async () => {
      const res = await grpc("CreateSession", envelope(gzipSync(Buffer.alloc(0)), 1));
      expect(res.trailers["grpc-status"] ?? res.headers["grpc-status"]).toBe("13");
    });
  });

  it("answers undecodable gRPC-Web over HTTP/1.1 INVALID_ARGUMENT in its trailer frame", async () => {
    const line = await expectRejected("GetSession", "invalid_argument", async () => {
      const res = await h1Request(`${url}${SVC}/GetSession`, { headers: { "content-type": "application/grpc-web+proto" } }, envelope(BAD_WIRE_TYPE));
      expect(res.status).toBe(200);
      expect(grpcWebStatus(res.body)).toBe("3");
    });
    expect(line.protocol).toBe("grpc-web");
  });

  it("answers undecodable Connect requests 400 invalid_argument: binary, JSON, GET with bad base64 or bad bytes, streams", async () => {
    const connectError = (body: Buffer) => JSON.parse(body.toString("utf8")) as { code: string; message: string };
    await expectRejected("GetSession", "invalid_argument", async () => {
      const res = await h1Request(`${url}${SVC}/GetSession`, { headers: { "content-type": "application/proto" } }, TRUNCATED);
      expect(res.status).toBe(400);
      expect(connectError(res.body).code).toBe("invalid_argument");
    });
    await expectRejected("GetSession", "invalid_argument", async () => {
      const res = await h1Request(`${url}${SVC}/GetSession`, { headers: { "content-type": "application/json" } }, "{not json");
      expect(res.status).toBe(400);
    });
    for (const query of ["encoding=proto&base64=1&message=!!!!", "encoding=proto&base64=1&message=abcde", "encoding=proto&base64=1&message=DwE"]) {
      await expectRejected("GetSession", "invalid_argument", async () => {
        const res = await h1Request(`${url}${SVC}/GetSession?${query}`, { method: "GET" });
        expect(res.status, query).toBe(400);
        expect(connectError(res.body).code).toBe("invalid_argument");
      });
    }
    await expectRejected("GetEvents", "invalid_argument", async () => {
      const res = await h2Request(session, { ":path": `${SVC}/GetEvents`, "content-type": "application/connect+proto" }, envelope(TRUNCATED));
      const end = envelopes(res.body).find((e) => e.flags & 0x02)!;
      expect(JSON.parse(end.data.toString("utf8")).error.code).toBe("invalid_argument");
    });
  });

  it("logs and counts requests refused for their content type", async () => {
    const line = await expectRejected("GetSession", "invalid_argument", async () => {
      const res = await h1Request(`${url}${SVC}/GetSession`, { headers: { "content-type": "text/plain" } }, "hello");
      expect(res.status).toBe(415);
    });
    expect(line.reason).toContain("415");
  });
});
