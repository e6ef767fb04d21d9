import http from "node:http";
import http2 from "node:http2";
import { Code } from "@connectrpc/connect";
import { envelopes, grpcWebStatus } from "../../wire/raw-clients.js";

/** How a fuzz request travels: the protocol and, for gRPC-Web and Connect, the HTTP version. */
export type Wire = "grpc" | "grpc-web" | "grpc-web-h1" | "connect-proto" | "connect-json" | "connect-json-h1" | "connect-get" | "connect-get-h1";

/** One raw request: everything is given as bytes and headers, nothing is checked before it is sent. */
export interface RawCall {
  wire: Wire;
  /** HTTP/1.1 even for gRPC (which requires HTTP/2). */
  http1?: boolean;
  path: string;
  method: "POST" | "GET";
  headers: Record<string, string>;
  body?: Buffer;
  /** Expected end of the call on the server (its deadline), from the timeout header it was sent with. */
  deadlineMs: number;
}

/** What came back: a gRPC code name (OK, INVALID_ARGUMENT, …), HTTP_<status> without one, or HANG / RESET_<code> / NO_STATUS. */
export interface Outcome {
  code: string;
  ms: number;
}

const codeName = (n: number) => (n === 0 ? "OK" : (Code[n] ?? `CODE_${n}`)).replace(/(?<=[a-z])(?=[A-Z])/g, "_").toUpperCase();

/** Sends raw calls over one HTTP/2 session (reopened when the server closes it) and a keep-alive HTTP/1.1 agent. */
export class RawSender {
  private session: http2.ClientHttp2Session | undefined;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

  constructor(
    private readonly url: string,
    /** How long past its deadline a call may take before it counts as a hang. */
    private readonly graceMs: number,
  ) {}

  async send(call: RawCall): Promise<Outcome & { body: Buffer }> {
    const started = performance.now();
    const limit = call.deadlineMs + this.graceMs;
    const exchange = call.http1 ? this.h1(call) : this.h2(call);
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<"hang">((resolve) => (timer = setTimeout(() => resolve("hang"), limit)));
    const result = await Promise.race([exchange.then((r) => r, (error: unknown) => ({ error })), hang]);
    clearTimeout(timer);
    const ms = performance.now() - started;
    if (result === "hang") {
      this.session?.destroy();
      this.session = undefined;
      return { code: "HANG", ms, body: Buffer.alloc(0) };
    }
    if ("error" in result) return { code: `ERROR_${(result.error as NodeJS.ErrnoException).code ?? String(result.error)}`, ms, body: Buffer.alloc(0) };
    return { code: outcomeOf(call, result), ms, body: result.body };
  }

  close(): void {
    this.session?.close();
    this.agent.destroy();
  }

  private async h2Session(): Promise<http2.ClientHttp2Session> {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const session = http2.connect(this.url, { maxSessionMemory: 1000 });
    session.on("error", () => {});
    session.on("goaway", () => {
      if (this.session === session) this.session = undefined;
    });
    session.on("close", () => {
      if (this.session === session) this.session = undefined;
    });
    this.session = session;
    await new Promise<void>((resolve, reject) => {
      session.once("connect", () => resolve());
      session.once("error", reject);
    });
    return session;
  }

  private async h2(call: RawCall): Promise<Response> {
    const session = await this.h2Session();
    return new Promise((resolve, reject) => {
      const stream = session.request({ ":method": call.method, ":path": call.path, ...call.headers });
      const chunks: Buffer[] = [];
      let status = 0;
      let headers: Response["headers"] = {};
      let trailers: Response["trailers"] = {};
      stream.on("response", (h) => {
        status = Number(h[":status"]);
        headers = h;
      });
      stream.on("trailers", (t) => (trailers = t));
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("error", () => {});
      stream.on("close", () => {
        if (status === 0 && stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM) reject(Object.assign(new Error("refused"), { code: "REFUSED_STREAM" }));
        else resolve({ status, headers, trailers, body: Buffer.concat(chunks), rstCode: stream.rstCode ?? 0 });
      });
      stream.end(call.body);
    });
  }

  private h1(call: RawCall): Promise<Response> {
    return new Promise((resolve, reject) => {
      let answered = false;
      const req = http.request(`${this.url}${call.path}`, { method: call.method, agent: this.agent, headers: call.headers }, (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, trailers: res.trailers, body: Buffer.concat(chunks), rstCode: 0 });
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", done);
        // A server that answered an upload it will not read closes the connection: the answer stands.
        res.on("error", done);
      });
      req.on("error", (error) => {
        if (!answered) reject(error);
      });
      req.end(call.body);
    });
  }
}

interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  trailers: Record<string, string | string[] | undefined>;
  body: Buffer;
  rstCode: number;
}

function outcomeOf(call: RawCall, res: Response): string {
  if (call.wire === "grpc" || call.wire.startsWith("grpc-web")) {
    const status = res.trailers["grpc-status"] ?? res.headers["grpc-status"] ?? (call.wire.startsWith("grpc-web") ? grpcWebStatus(res.body) : undefined);
    if (status !== undefined) return codeName(Number(status));
    if (res.rstCode) return `RESET_${res.rstCode}`;
    return res.status === 200 ? "NO_STATUS" : `HTTP_${res.status}`;
  }
  if (res.rstCode && res.status === 0) return `RESET_${res.rstCode}`;
  const contentType = String(res.headers["content-type"] ?? "");
  if (contentType.startsWith("application/connect+")) {
    // A Connect stream ends with a JSON end-of-stream envelope, carrying the error if there was one.
    const end = envelopes(res.body).find((e) => e.flags & 0x02);
    if (!end) return res.status === 200 ? "NO_STATUS" : `HTTP_${res.status}`;
    const code = (JSON.parse(end.data.toString("utf8")) as { error?: { code?: string } }).error?.code;
    return code ? code.toUpperCase() : "OK";
  }
  if (res.status === 200) return "OK";
  try {
    const code = (JSON.parse(res.body.toString("utf8")) as { code?: unknown }).code;
    if (typeof code === "string") return code.toUpperCase();
  } catch {
    // Not a Connect error body.
  }
  return `HTTP_${res.status}`;
}
