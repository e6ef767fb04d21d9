import http2 from "node:http2";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import type { Sessiond } from "../../src/commands/serve.js";
import { HealthMonitor } from "../../src/ops/health.js";
import { probeRoutes } from "../../src/ops/probes.js";
import { startServer } from "../../src/server.js";
import { MemoryStore } from "../../src/stores/memory.js";
import { startGatedProxy } from "../support/gated-proxy.js";
import { testStores } from "../support/stores.js";
import { serveConfig, startCaptured } from "./sessiond.js";

/** GET (or another method) over HTTP/2 cleartext with prior knowledge, as h2c probes do. */
async function h2(url: string, path: string): Promise<{ status: number; body: string }> {
  const session = http2.connect(url);
  try {
    return await new Promise((resolve, reject) => {
      const req = session.request({ ":path": path, ":method": "GET" });
      let status = 0;
      let body = "";
      req.on("response", (headers) => (status = Number(headers[":status"])));
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => (body += chunk));
      req.on("end", () => resolve({ status, body }));
      req.on("error", reject);
    });
  } finally {
    session.close();
  }
}

async function h1(url: string, path: string, method = "GET"): Promise<{ status: number; body: string }> {
  const res = await fetch(`${url}${path}`, { method });
  return { status: res.status, body: await res.text() };
}

describe("HTTP probes", () => {
  let sessiond: Sessiond;
  beforeAll(async () => {
    ({ sessiond } = await startCaptured(serveConfig([], { SESSIOND_API_KEYS: "k1:probe-app:write" })));
  });
  afterAll(() => sessiond.close());

  it("answer on the API port without a key, over HTTP/1.1 and HTTP/2, while RPCs need one", async () => {
    const url = sessiond.server.url;
    for (const get of [h1, h2]) {
      expect(await get(url, "/healthz")).toEqual({ status: 200, body: "ok\n" });
      expect(await get(url, "/readyz")).toEqual({ status: 200, body: "ready\n" });
    }
    expect((await h1(url, "/readyz", "HEAD")).status).toBe(200);
    expect((await h1(url, "/readyz", "POST")).status).toBe(405);
    const client = createClient(SessionService, createGrpcTransport({ baseUrl: url }));
    const denied = await client.listSessions({ appName: "probe-app" }).catch((e: unknown) => ConnectError.from(e));
    expect((denied as ConnectError).code).toBe(Code.Unauthenticated);
  });

  it("/readyz turns 503 while the store is unreachable and 200 again when it is back; /healthz stays 200", async () => {
    const isolated = await testStores.redis!();
    const target = new URL(isolated.url);
    const upstream = { host: target.hostname, port: Number(target.port || 6379) };
    let proxy = await startGatedProxy(upstream);
    proxy.open();
    target.port = String(proxy.port);
    const { sessiond: redis } = await startCaptured(serveConfig(["--store", target.href]));
    try {
      expect((await h1(redis.server.url, "/readyz")).status).toBe(200);
      await proxy.close();
      expect(await h1(redis.server.url, "/readyz")).toEqual({ status: 503, body: "not ready\n" });
      expect((await h2(redis.server.url, "/readyz")).status).toBe(503);
      expect((await h1(redis.server.url, "/healthz")).status).toBe(200);
      // The store comes back on the same port.
      proxy = await startGatedProxy(upstream, Number(target.port));
      proxy.open();
      let status = 0;
      for (let i = 0; i < 200 && status !== 200; i++) {
        status = (await h1(redis.server.url, "/readyz")).status;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe(200);
    } finally {
      await redis.close(0);
      await proxy.close();
      await isolated.cleanup();
    }
  });

  it("/readyz turns 503 once the server starts draining", async () => {
    const store = new MemoryStore();
    const health = new HealthMonitor({ store, services: [] });
    await health.start();
    const server = await startServer({ store, port: 0, httpRoutes: probeRoutes(health) });
    try {
      expect((await h1(server.url, "/readyz")).status).toBe(200);
      // What Sessiond.close does first, before the listener drains.
      health.stop();
      expect((await h1(server.url, "/readyz")).status).toBe(503);
      expect((await h2(server.url, "/readyz")).status).toBe(503);
      expect((await h1(server.url, "/healthz")).status).toBe(200);
    } finally {
      await server.close(0);
    }
  });
});
