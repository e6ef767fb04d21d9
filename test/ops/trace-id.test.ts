import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { trace } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import type { Sessiond } from "../../src/commands/serve.js";
import { type LogCapture, serveConfig, startCaptured } from "./sessiond.js";

// This file runs in its own process (pool "forks") with no OpenTelemetry SDK registered.
let sessiond: Sessiond;
let logs: LogCapture;
beforeAll(async () => {
  ({ sessiond, logs } = await startCaptured(serveConfig()));
});
afterAll(() => sessiond.close());

describe("trace id in the request log without an OpenTelemetry SDK", () => {
  it("logs the caller's trace id from a valid traceparent, and none from an invalid one", async () => {
    expect(trace.getTracerProvider().getTracer("probe").startSpan("x").isRecording()).toBe(false);
    const client = createClient(SessionService, createGrpcTransport({ baseUrl: sessiond.server.url }));
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const cases: [string, string | undefined][] = [
      [`00-${traceId}-b7ad6b7169203331-01`, traceId],
      [`00-${traceId}-b7ad6b7169203331-00`, traceId],
      [`00-${"0".repeat(32)}-b7ad6b7169203331-01`, undefined],
      [`00-${traceId}-${"0".repeat(16)}-01`, undefined],
      [`ff-${traceId}-b7ad6b7169203331-01`, undefined],
      [`00-${traceId.toUpperCase()}-b7ad6b7169203331-01`, undefined],
      ["garbage", undefined],
    ];
    for (const [i, [traceparent]] of cases.entries()) {
      await client.createSession({ appName: "trace-id", userId: "u", sessionId: `s${i}` }, { headers: { traceparent } });
    }
    await client.createSession({ appName: "trace-id", userId: "u", sessionId: "none" });
    const lines = logs.rpcs().filter((l) => l.method === "CreateSession");
    // The calls ran one after another, so their lines are in the same order.
    for (const [i, [traceparent, expected]] of cases.entries()) {
      const line = lines[i];
      expect(line?.trace_id, traceparent).toBe(expected);
    }
    expect(lines.at(-1)!.trace_id).toBeUndefined();
    expect(lines).toHaveLength(cases.length + 1);
  });
});
