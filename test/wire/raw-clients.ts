import http from "node:http";
import http2 from "node:http2";

/** What a raw HTTP exchange returned: status, headers, trailers (HTTP/2 only) and body. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  trailers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The RST_STREAM code when the server reset the stream (HTTP/2), else 0. */
  rstCode: number;
}

/** A gRPC / gRPC-Web / Connect-streaming envelope: flag byte, 32-bit length, payload. */
export function envelope(payload: Uint8Array | string, flags = 0): Buffer {
  const data = typeof payload === "string" ? Buffer.from(payload) : Buffer.from(payload);
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(data.length, 1);
  return Buffer.concat([head, data]);
}

/** The envelopes of a response body. */
export function envelopes(body: Buffer): { flags: number; data: Buffer }[] {
  const out: { flags: number; data: Buffer }[] = [];
  for (let at = 0; at + 5 <= body.length; ) {
    const length = body.readUInt32BE(at + 1);
    out.push({ flags: body[at]!, data: body.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

/** The grpc-status of a gRPC-Web response, read from its trailer envelope. */
export function grpcWebStatus(body: Buffer): string | undefined {
  const trailer = envelopes(body).find((e) => e.flags & 0x80);
  return /grpc-status:\s*(\d+)/.exec(trailer?.data.toString("utf8") ?? "")?.[1];
}

/** Sends one request on an existing HTTP/2 session and collects the whole answer. */
export function h2Request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer | string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ...headers });
    const chunks: Buffer[] = [];
    let status = 0;
    let responseHeaders: RawResponse["headers"] = {};
    let trailers: RawResponse["trailers"] = {};
    stream.on("response", (h) => {
      status = Number(h[":status"]);
      responseHeaders = h;
    });
    stream.on("trailers", (t) => (trailers = t));
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("error", (error) => {
      if (status === 0) reject(error);
    });
    stream.on("close", () => resolve({ status, headers: responseHeaders, trailers, body: Buffer.concat(chunks), rstCode: stream.rstCode ?? 0 }));
    stream.end(body);
  });
}

/** Opens an HTTP/2 cleartext session and waits until it is connected. */
export async function h2Connect(url: string): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(url, { maxSessionMemory: 1000 });
  await new Promise<void>((resolve, reject) => {
    session.once("connect", () => resolve());
    session.once("error", reject);
  });
  session.on("error", () => {});
  return session;
}

/** One HTTP/1.1 request with node:http on a fresh connection. */
export function h1Request(url: string, options: http.RequestOptions, body?: Buffer | string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", agent: false, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, trailers: res.trailers, body: Buffer.concat(chunks), rstCode: 0 }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}
