import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import type { Sessiond } from "../../src/commands/serve.js";
import { createSessiondClient } from "../../src/client/index.js";
import { SESSIOND_BIN } from "../support/cli-process.js";
import { startGatedProxy, type GatedProxy } from "../support/gated-proxy.js";
import { testStores, type IsolatedStore } from "../support/stores.js";
import { type LogCapture, serveConfig, startCaptured } from "./sessiond.js";

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";

let sessiond: Sessiond;
let logs: LogCapture;
beforeAll(async () => {
  // Installs the W3C propagator and the async-hooks context manager, as an SDK in production does.
  provider.register();
  ({ sessiond, logs } = await startCaptured(serveConfig()));
});
afterAll(async () => {
  await sessiond.close();
  await provider.shutdown();
  trace.disable();
});
beforeEach(() => exporter.reset());

/** Spans finish after the response is written: wait until the server span is exported. */
async function spansOf(method: string): Promise<{ server: ReadableSpan; all: ReadableSpan[] }> {
  for (;;) {
    const all = exporter.getFinishedSpans();
    const server = all.find((s) => s.name === `sessiond.v1.SessionService/${method}`);
    if (server) return { server, all };
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const childrenOf = (span: ReadableSpan, all: ReadableSpan[]) => all.filter((s) => s.parentSpanContext?.spanId === span.spanContext().spanId);

describe("OpenTelemetry", () => {
  it("makes a server span per RPC, child of the incoming traceparent, with the store calls beneath it", async () => {
    const client = createClient(SessionService, createGrpcTransport({ baseUrl: sessiond.server.url }));
    const headers = { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01`, tracestate: "vendor=abc" };
    await client.createSession({ appName: "traced", userId: "u", sessionId: "s1" }, { headers });
    const { server, all } = await spansOf("CreateSession");
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.spanContext().traceId).toBe(TRACE_ID);
    expect(server.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(server.spanContext().traceState?.get("vendor")).toBe("abc");
    expect(server.attributes).toMatchObject({
      "rpc.system": "grpc",
      "rpc.service": "sessiond.v1.SessionService",
      "rpc.method": "CreateSession",
      "rpc.grpc.status_code": 0,
    });
    expect(server.status.code).toBe(SpanStatusCode.UNSET);
    const store = childrenOf(server, all);
    expect(store.map((s) => s.name)).toEqual(["store.createSession"]);
    expect(store[0]!.attributes).toMatchObject({ "sessiond.store": "memory", "db.operation.name": "createSession" });

    const line = logs.rpcs().find((l) => l.method === "CreateSession")!;
    expect(line.trace_id).toBe(TRACE_ID);
  });

  it("starts a new trace without a traceparent and keeps streams' store calls beneath their span", async () => {
    const client = createClient(SessionService, createGrpcTransport({ baseUrl: sessiond.server.url }));
    const key = { appName: "traced", userId: "u", sessionId: "stream" };
    await client.createSession(key);
    await client.appendEvents({ ...key, events: Array.from({ length: 3 }, (_, i) => ({ id: `e${i}`, author: "user" })) });
    exporter.reset();
    let events = 0;
    for await (const chunk of client.getEvents(key)) events += chunk.events.length;
    expect(events).toBe(3);
    const { server, all } = await spansOf("GetEvents");
    expect(server.parentSpanContext).toBeUndefined();
    expect(server.attributes["rpc.grpc.status_code"]).toBe(0);
    const store = childrenOf(server, all);
    expect(store.length).toBeGreaterThan(0);
    expect(store.every((s) => s.name.startsWith("store.") && s.spanContext().traceId === server.spanContext().traceId)).toBe(true);
  });

  it("records the status code, marking only server failures as errors", async () => {
    const res = await fetch(`${sessiond.server.url}/sessiond.v1.SessionService/GetSession`, {
      method: "POST",
      headers: { "content-type": "application/json", traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` },
      body: JSON.stringify({ appName: "traced", userId: "u", sessionId: "missing" }),
    });
    expect(res.status).toBe(404);
    const { server, all } = await spansOf("GetSession");
    expect(server.attributes).toMatchObject({
      "rpc.system": "connect_rpc",
      "rpc.grpc.status_code": Code.NotFound,
      "rpc.connect_rpc.error_code": "not_found",
    });
    expect(server.status.code).toBe(SpanStatusCode.UNSET);
    expect(childrenOf(server, all)[0]!.attributes["sessiond.error_kind"]).toBe("not_found");
  });

  it("marks the server and store spans as errors when the store is unreachable", async () => {
    const isolated: IsolatedStore = await testStores.redis!();
    const target = new URL(isolated.url);
    const proxy: GatedProxy = await startGatedProxy({ host: target.hostname, port: Number(target.port || 6379) });
    proxy.open();
    target.port = String(proxy.port);
    const { sessiond: pg } = await startCaptured(serveConfig(["--store", target.href]));
    try {
      const client = createClient(SessionService, createGrpcTransport({ baseUrl: pg.server.url }));
      await client.createSession({ appName: "traced", userId: "u", sessionId: "down" });
      await proxy.close();
      exporter.reset();
      const error = await client.getSession({ appName: "traced", userId: "u", sessionId: "down" }).catch((e: unknown) => ConnectError.from(e));
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.Unavailable);
      const { server, all } = await spansOf("GetSession");
      expect(server.status.code).toBe(SpanStatusCode.ERROR);
      expect(server.attributes["rpc.grpc.status_code"]).toBe(Code.Unavailable);
      const store = childrenOf(server, all);
      expect(store.map((s) => s.name)).toContain("store.getSession");
      expect(store.find((s) => s.name === "store.getSession")!.status.code).toBe(SpanStatusCode.ERROR);
    } finally {
      await pg.close(0);
      await isolated.cleanup();
    }
  });

  it("the typed client sends the active context, so the server span joins the caller's trace", async () => {
    const client = createSessiondClient({ baseUrl: sessiond.server.url });
    const caller = trace.getTracer("test");
    const callerSpan = await caller.startActiveSpan("agent turn", async (span) => {
      await client.createSession({ appName: "traced", userId: "u", sessionId: "from-client" });
      span.end();
      return span;
    });
    const { server } = await spansOf("CreateSession");
    expect(server.spanContext().traceId).toBe(callerSpan.spanContext().traceId);
    expect(server.parentSpanContext?.spanId).toBe(callerSpan.spanContext().spanId);
  });
});

describe("OTLP export", () => {
  it("sends the spans of `serve --otlp-endpoint` to the collector", { timeout: 120_000 }, async () => {
    const received: { path: string; body: Buffer }[] = [];
    const collector = createServer(async (req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      received.push({ path: req.url ?? "", body: Buffer.concat(chunks) });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    const child = spawn(process.execPath, [SESSIOND_BIN, "serve", "--store", "memory:", "--port", "0"], {
      env: { PATH: process.env.PATH, SESSIOND_OTLP_ENDPOINT: endpoint },
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.once("exit", (code) => reject(new Error(`sessiond exited with ${code}`)));
        createInterface({ input: child.stdout! }).on("line", (line) => {
          const entry = JSON.parse(line) as Record<string, unknown>;
          if (entry.msg === "serving") resolve(String(entry.url));
        });
      });
      const client = createClient(SessionService, createGrpcTransport({ baseUrl: url }));
      await client.createSession({ appName: "exported", userId: "u", sessionId: "s" });
      // Draining flushes the batch.
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      expect((await exited)[0]).toBe(0);
      const traces = received.filter((r) => r.path === "/v1/traces");
      expect(traces.length).toBeGreaterThan(0);
      const body = Buffer.concat(traces.map((t) => t.body)).toString("latin1");
      expect(body).toContain("sessiond.v1.SessionService/CreateSession");
      expect(body).toContain("store.createSession");
    } finally {
      child.kill("SIGKILL");
      collector.close();
    }
  });
});
