import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import { hashApiKey, parseKeysEnv, parseKeysFile } from "../../src/auth/api-keys.js";
import { isLoopback } from "../../src/auth/bind-policy.js";
import type { Sessiond } from "../../src/commands/serve.js";
import { expectCode } from "../support/expect-code.js";
import { bufCurl, grpcReflect } from "./buf-curl.js";
import { serveConfig, startCaptured } from "./sessiond.js";

const KEYS = {
  alphaWriter: "alpha-writer-0123456789abcdef",
  alphaReader: "alpha-reader-0123456789abcdef",
  admin: "admin-0123456789abcdef0123",
  hashedBeta: "beta-hashed-0123456789abcdef",
  envGamma: "gamma-env-0123456789abcdef",
};

function bearer(key: string | undefined): Interceptor {
  return (next) => (req) => {
    if (key !== undefined) req.header.set("authorization", `Bearer ${key}`);
    return next(req);
  };
}

describe("API keys", () => {
  it("parses the environment format, with plain and hashed keys", () => {
    const ring = parseKeysEnv(`k1:app1,app2:write; ${hashApiKey("k2")}:*:read ;`);
    expect(ring.size).toBe(2);
    const k1 = ring.authenticate("k1")!;
    expect(k1.role).toBe("write");
    expect(k1.apps).toEqual(new Set(["app1", "app2"]));
    expect(ring.authenticate("k2")).toMatchObject({ role: "read", apps: "*" });
    expect(ring.authenticate("k3")).toBeUndefined();
    expect(ring.authenticate("")).toBeUndefined();
  });

  it("rejects malformed entries naming the entry and field", () => {
    expect(() => parseKeysEnv("k1:app1")).toThrow("SESSIOND_API_KEYS[0]: expected KEY:APPS:ROLE");
    expect(() => parseKeysEnv("k1:app1:owner")).toThrow("SESSIOND_API_KEYS[0].role: must be read, write or admin");
    expect(() => parseKeysEnv("k1:a:read;k1:b:write")).toThrow("the same key is already configured");
    expect(() => parseKeysFile('{"keys":[{"key":"sha256:abc","apps":["a"],"role":"read"}]}', "keys.json")).toThrow(
      "keys.json: keys[0].key: sha256: must be followed by 64 hex digits",
    );
    expect(() => parseKeysFile('{"keys":[{"key":"x","apps":[],"role":"read"}]}', "keys.json")).toThrow("keys[0].apps");
    expect(() => parseKeysFile("{", "keys.json")).toThrow("keys.json: not valid JSON");
  });

  it("knows which addresses are loopback", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "::ffff:127.0.0.1"]) expect(isLoopback(host), host).toBe(true);
    for (const host of ["0.0.0.0", "::", "10.0.0.1", "192.168.1.2", "example.com", "::ffff:10.0.0.1"]) expect(isLoopback(host), host).toBe(false);
  });
});

describe("authentication and authorization", () => {
  let dir: string;
  let sessiond: Sessiond;
  const client = (key?: string) =>
    createClient(SessionService, createGrpcTransport({ baseUrl: sessiond.server.url, interceptors: [bearer(key)] }));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sessiond-auth-"));
    const file = join(dir, "keys.json");
    writeFileSync(
      file,
      JSON.stringify({
        keys: [
          { name: "alpha-writer", key: KEYS.alphaWriter, apps: ["alpha"], role: "write" },
          { name: "alpha-reader", key: KEYS.alphaReader, apps: ["alpha"], role: "read" },
          { name: "ops", key: KEYS.admin, apps: ["*"], role: "admin" },
          { name: "beta", key: hashApiKey(KEYS.hashedBeta), apps: ["beta"], role: "write" },
        ],
      }),
    );
    ({ sessiond } = await startCaptured(serveConfig(["--auth-keys", file], { SESSIOND_API_KEYS: `${KEYS.envGamma}:gamma:admin` })));
    await client(KEYS.admin).createSession({ appName: "alpha", userId: "u1", sessionId: "s1" });
    await client(KEYS.admin).createSession({ appName: "beta", userId: "u1", sessionId: "s1" });
  });
  afterAll(async () => {
    await sessiond.close(1000);
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers UNAUTHENTICATED without a key or with an unknown one", async () => {
    await expectCode(client().getSession({ appName: "alpha", userId: "u1", sessionId: "s1" }), Code.Unauthenticated, "authorization: Bearer");
    await expectCode(client("not-a-key").getSession({ appName: "alpha", userId: "u1", sessionId: "s1" }), Code.Unauthenticated, "unknown API key");
    // A configured key's hash is not itself a key.
    await expectCode(client(hashApiKey(KEYS.hashedBeta)).getSession({ appName: "beta", userId: "u1", sessionId: "s1" }), Code.Unauthenticated);
  });

  it("keeps each key inside its apps", async () => {
    const alpha = client(KEYS.alphaWriter);
    await alpha.createSession({ appName: "alpha", userId: "u2" });
    await expectCode(alpha.createSession({ appName: "beta", userId: "u2" }), Code.PermissionDenied, 'may not access app "beta"');
    await expectCode(alpha.getSession({ appName: "beta", userId: "u1", sessionId: "s1" }), Code.PermissionDenied);
    await expectCode(alpha.listSessions({ appName: "beta" }), Code.PermissionDenied);
    await expectCode(alpha.appendEvent({ appName: "beta", userId: "u1", sessionId: "s1", event: { author: "x" } }), Code.PermissionDenied);
    const stream = async () => {
      for await (const _ of alpha.getEvents({ appName: "beta", userId: "u1", sessionId: "s1" })) void _;
    };
    await expectCode(stream(), Code.PermissionDenied);
    // The hashed key and the key from the environment work for their own apps only.
    await client(KEYS.hashedBeta).appendEvent({ appName: "beta", userId: "u1", sessionId: "s1", event: { author: "x" } });
    await expectCode(client(KEYS.hashedBeta).getSession({ appName: "alpha", userId: "u1", sessionId: "s1" }), Code.PermissionDenied);
    await client(KEYS.envGamma).createSession({ appName: "gamma", userId: "u1" });
    await expectCode(client(KEYS.envGamma).listSessions({ appName: "alpha" }), Code.PermissionDenied);
  });

  it("lists to each key only the apps it may access", async () => {
    const names = async (key: string) => (await client(key).listApps({})).apps.map((a) => a.appName);
    expect(await names(KEYS.alphaReader)).toEqual(["alpha"]);
    expect(await names(KEYS.hashedBeta)).toEqual(["beta"]);
    const all = await names(KEYS.admin);
    expect(all).toEqual(expect.arrayContaining(["alpha", "beta"]));
    await expectCode(client().listApps({}), Code.Unauthenticated);
  });

  it("lets a read key read but not write", async () => {
    const reader = client(KEYS.alphaReader);
    const { session } = await reader.getSession({ appName: "alpha", userId: "u1", sessionId: "s1" });
    expect(session?.id).toBe("s1");
    expect((await reader.listSessions({ appName: "alpha" })).sessions.length).toBeGreaterThan(0);
    await reader.getUserState({ appName: "alpha", userId: "u1" });
    await reader.listEvents({ appName: "alpha", userId: "u1", sessionId: "s1" });
    for await (const _ of reader.getEvents({ appName: "alpha", userId: "u1", sessionId: "s1" })) void _;
    await expectCode(reader.createSession({ appName: "alpha", userId: "u3" }), Code.PermissionDenied, "CreateSession needs write");
    await expectCode(reader.appendEvents({ appName: "alpha", userId: "u1", sessionId: "s1", events: [{ author: "x" }] }), Code.PermissionDenied);
    await expectCode(reader.deleteSession({ appName: "alpha", userId: "u1", sessionId: "s1" }), Code.PermissionDenied);
  });

  it("reserves bulk deletes for admin keys", async () => {
    const writer = client(KEYS.alphaWriter);
    await writer.createSession({ appName: "alpha", userId: "gone", sessionId: "g1" });
    await writer.deleteSession({ appName: "alpha", userId: "gone", sessionId: "g1" });
    await expectCode(writer.deleteUserSessions({ appName: "alpha", userId: "u2" }), Code.PermissionDenied, "needs admin");
    await expectCode(writer.deleteAppSessions({ appName: "alpha" }), Code.PermissionDenied, "needs admin");
    await client(KEYS.admin).createSession({ appName: "purge-me", userId: "u1" });
    const { deletedCount } = await client(KEYS.admin).deleteAppSessions({ appName: "purge-me" });
    expect(deletedCount).toBe(1n);
  });

  it("still validates requests of authorized keys", async () => {
    await expectCode(client(KEYS.alphaWriter).createSession({ appName: "", userId: "u1" }), Code.InvalidArgument, "app_name");
  });

  it("leaves health and reflection open", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: sessiond.server.url }));
    expect((await health.check({})).status).toBe(ServingStatus.SERVING);
    const list = await bufCurl([...grpcReflect, "--list-services", sessiond.server.url]);
    expect(list.stdout).toContain("sessiond.v1.SessionService");
    const call = await bufCurl([
      ...grpcReflect,
      "-H",
      `authorization: Bearer ${KEYS.alphaReader}`,
      "-d",
      '{"appName":"alpha","userId":"u1","sessionId":"s1"}',
      `${sessiond.server.url}/sessiond.v1.SessionService/GetSession`,
    ]);
    expect(JSON.parse(call.stdout).session.id).toBe("s1");
  });
});

describe("binding beyond loopback", () => {
  it("refuses to start on 0.0.0.0 without keys", async () => {
    await expect(startCaptured(serveConfig(["--host", "0.0.0.0"]))).rejects.toThrow(
      /refusing to serve on 0\.0\.0\.0 without authentication.*--insecure/,
    );
  });

  it("starts on 0.0.0.0 without keys when told --insecure, and warns", async () => {
    const { sessiond, logs } = await startCaptured(serveConfig(["--host", "0.0.0.0", "--insecure"]));
    try {
      expect(sessiond.server.port).toBeGreaterThan(0);
      expect(logs.lines.some((l) => l.level === 40 && l.msg === "serving without authentication (--insecure)")).toBe(true);
    } finally {
      await sessiond.close(500);
    }
  });

  it("starts on 0.0.0.0 with keys", async () => {
    const { sessiond } = await startCaptured(serveConfig(["--host", "0.0.0.0"], { SESSIOND_API_KEYS: "k-0123456789:*:read" }));
    await sessiond.close(500);
  });
});
