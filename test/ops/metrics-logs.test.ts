import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import type { Sessiond } from "../../src/commands/serve.js";
import { expectCode } from "../support/expect-code.js";
import { testStores } from "../support/stores.js";
import { Code } from "@connectrpc/connect";
import { type LogCapture, serveConfig, startCaptured } from "./sessiond.js";

const SECRET_CONTENT = "secret-content-7f3a9c";
const SECRET_STATE = "secret-state-41be02";

/** The value of one sample in Prometheus text, or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...(match[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return undefined;
}

describe("metrics and request logs", () => {
  let sessiond: Sessiond;
  let logs: LogCapture;
  let cleanup: () => Promise<void>;
  const scrape = async () => {
    const res = await fetch(`${sessiond.server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    return res.text();
  };

  beforeAll(async () => {
    const isolated = await testStores.sqlite!();
    cleanup = isolated.cleanup;
    ({ sessiond, logs } = await startCaptured(serveConfig(["--store", isolated.url])));
  });
  afterAll(async () => {
    await sessiond.close(1000);
    await cleanup();
  });

  it("counts RPCs by method and code, times them and the store, and logs one line per RPC", async () => {
    const client = createClient(SessionService, createGrpcTransport({ baseUrl: sessiond.server.url }));
    const before = logs.rpcs().length;
    const key = { appName: "metrics-app", userId: "u1", sessionId: "s1" };
    await client.createSession({ ...key, state: { "user:token": SECRET_STATE } });
    await client.appendEvent({
      ...key,
      event: { author: "user", content: { role: "user", parts: [{ text: SECRET_CONTENT }] }, actions: { stateDelta: { note: SECRET_STATE } } },
    });
    await client.getSession(key);
    for await (const _ of client.getEvents(key)) void _;
    await expectCode(client.getSession({ ...key, sessionId: "missing" }), Code.NotFound);
    await expectCode(client.createSession(key), Code.AlreadyExists);

    const text = await scrape();
    const svc = { service: "sessiond.v1.SessionService" };
    expect(sample(text, "sessiond_rpc_requests_total", { ...svc, method: "CreateSession", code: "ok" })).toBe(1);
    expect(sample(text, "sessiond_rpc_requests_total", { ...svc, method: "CreateSession", code: "already_exists" })).toBe(1);
    expect(sample(text, "sessiond_rpc_requests_total", { ...svc, method: "AppendEvent", code: "ok" })).toBe(1);
    expect(sample(text, "sessiond_rpc_requests_total", { ...svc, method: "GetSession", code: "ok" })).toBe(1);
    expect(sample(text, "sessiond_rpc_requests_total", { ...svc, method: "GetSession", code: "not_found" })).toBe(1);
    expect(sample(text, "sessiond_rpc_requests_total", { ...svc, method: "GetEvents", code: "ok" })).toBe(1);
    expect(sample(text, "sessiond_rpc_duration_seconds_count", { ...svc, method: "GetSession" })).toBe(2);
    expect(sample(text, "sessiond_rpc_duration_seconds_bucket", { ...svc, method: "AppendEvent", le: "+Inf" })).toBe(1);
    expect(sample(text, "sessiond_rpc_active_streams", { ...svc, method: "GetEvents" })).toBe(0);
    expect(sample(text, "sessiond_store_operation_duration_seconds_count", { operation: "appendEvents", outcome: "ok" })).toBe(1);
    expect(sample(text, "sessiond_store_operation_duration_seconds_count", { operation: "getSession", outcome: "error" })).toBe(1);
    expect(sample(text, "sessiond_store_operation_duration_seconds_count", { operation: "ping", outcome: "ok" })).toBeGreaterThanOrEqual(1);
    expect(sample(text, "sessiond_store_up")).toBe(1);
    expect(sample(text, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(sample(text, "nodejs_heap_size_used_bytes")).toBeGreaterThan(0);

    const lines = logs.rpcs().slice(before);
    expect(lines.map((l) => `${l.method} ${l.code}`)).toEqual([
      "CreateSession ok",
      "AppendEvent ok",
      "GetSession ok",
      "GetEvents ok",
      "GetSession not_found",
      "CreateSession already_exists",
    ]);
    for (const line of lines) {
      expect(line).toMatchObject({ service: "sessiond.v1.SessionService", app_name: "metrics-app", protocol: "grpc" });
      expect(typeof line.duration_ms).toBe("number");
      expect(line.request_id).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(lines[3]!.messages).toBe(1);
    const everything = logs.raw.join("\n");
    expect(everything).not.toContain(SECRET_CONTENT);
    expect(everything).not.toContain(SECRET_STATE);
  });

  it("takes the caller's x-request-id, echoes it and logs it", async () => {
    const res = await fetch(`${sessiond.server.url}/sessiond.v1.SessionService/GetUserState`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "trace-42" },
      body: JSON.stringify({ appName: "metrics-app", userId: "u1" }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe("trace-42");
    expect(logs.rpcs().at(-1)).toMatchObject({ method: "GetUserState", code: "ok", request_id: "trace-42", protocol: "connect" });
    // A failing call carries the id too; a generated one replaces an unusable id.
    const failed = await fetch(`${sessiond.server.url}/sessiond.v1.SessionService/GetSession`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "bad id with spaces" },
      body: JSON.stringify({ appName: "metrics-app", userId: "u1", sessionId: "nope" }),
    });
    expect(failed.status).toBe(404);
    const generated = failed.headers.get("x-request-id");
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect(logs.rpcs().at(-1)).toMatchObject({ method: "GetSession", code: "not_found", request_id: generated });
  });

  it("exports how many follow streams are open", async () => {
    const client = createClient(SessionService, createGrpcTransport({ baseUrl: sessiond.server.url }));
    const key = { appName: "metrics-app", userId: "u1", sessionId: "followed" };
    await client.createSession(key);
    const base = sample(await scrape(), "sessiond_follow_streams_active")!;
    const followers = [new AbortController(), new AbortController()];
    const ended = followers.map(async (abort) => {
      const stream = client.getEvents({ ...key, follow: true }, { signal: abort.signal });
      try {
        for await (const _ of stream) void _;
      } catch {
        // cancelled below
      }
    });
    await expect.poll(async () => sample(await scrape(), "sessiond_follow_streams_active")).toBe(base + 2);
    for (const abort of followers) abort.abort();
    await Promise.all(ended);
    await expect.poll(async () => sample(await scrape(), "sessiond_follow_streams_active")).toBe(base);
  });
});

describe("metrics off", () => {
  it("serves no /metrics with --no-metrics", async () => {
    const { sessiond } = await startCaptured(serveConfig(["--no-metrics", "--log-level", "warn"]));
    try {
      const res = await fetch(`${sessiond.server.url}/metrics`);
      expect(res.status).toBe(404);
    } finally {
      await sessiond.close(500);
    }
  });

  it("rejects an unknown log level", async () => {
    expect(() => serveConfig(["--log-level", "loud"])).toThrow("--log-level must be one of");
  });
});
