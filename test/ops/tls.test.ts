import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import type { Sessiond } from "../../src/commands/serve.js";
import { bufCurl } from "./buf-curl.js";
import { serveConfig, startCaptured } from "./sessiond.js";

describe("TLS", () => {
  let dir: string;
  let cert: Buffer;
  let sessiond: Sessiond;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sessiond-tls-"));
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1",
      "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ], { stdio: "pipe" });
    cert = readFileSync(join(dir, "cert.pem"));
    ({ sessiond } = await startCaptured(serveConfig(["--tls-cert", join(dir, "cert.pem"), "--tls-key", join(dir, "key.pem")])));
  });
  afterAll(async () => {
    await sessiond?.close(500);
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves gRPC over HTTP/2 with TLS to a client trusting the certificate", async () => {
    expect(sessiond.server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const client = createClient(SessionService, createGrpcTransport({ baseUrl: sessiond.server.url, nodeOptions: { ca: cert } }));
    const { session } = await client.createSession({ appName: "tls", userId: "u1", sessionId: "s1" });
    expect(session?.id).toBe("s1");
  });

  it("serves the Connect protocol over HTTP/1.1 with TLS", async () => {
    const client = createClient(
      SessionService,
      createConnectTransport({ baseUrl: sessiond.server.url, httpVersion: "1.1", nodeOptions: { ca: cert } }),
    );
    const { session } = await client.getSession({ appName: "tls", userId: "u1", sessionId: "s1" });
    expect(session?.appName).toBe("tls");
  });

  it("answers buf curl health checks through TLS with reflection", async () => {
    const res = await bufCurl([
      "--protocol", "grpc", "--reflect", "--cacert", join(dir, "cert.pem"),
      "-d", "{}", `${sessiond.server.url}/grpc.health.v1.Health/Check`,
    ]);
    expect(res.stderr).toBe("");
    expect(JSON.parse(res.stdout)).toEqual({ status: "SERVING" });
  });

  it("is refused by a client that does not trust the certificate", async () => {
    const client = createClient(SessionService, createGrpcTransport({ baseUrl: sessiond.server.url }));
    await expect(client.getSession({ appName: "tls", userId: "u1", sessionId: "s1" })).rejects.toThrow(/self-signed|certificate/i);
  });

  it("needs both --tls-cert and --tls-key", async () => {
    expect(() => serveConfig(["--tls-cert", join(dir, "cert.pem")])).toThrow("--tls-cert and --tls-key must be given together");
  });
});
