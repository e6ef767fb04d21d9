import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sessiond } from "../../src/commands/serve.js";
import { createSessiondClient, type Protocol } from "../../src/client/index.js";
import { serveConfig, startCaptured } from "../ops/sessiond.js";

// The typed client reaches a server whose certificate comes from a private CA
// through its `tls` option, with no NODE_EXTRA_CA_CERTS.

let dir: string;
let ca: Buffer;
let sessiond: Sessiond;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sessiond-client-tls-"));
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
    "-keyout", "ca-key.pem", "-out", "ca.pem", "-subj", "/CN=sessiond test CA");
  openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", "key.pem", "-out", "server.csr", "-subj", "/CN=sessiond.internal");
  writeFileSync(join(dir, "san.ext"), "subjectAltName=DNS:sessiond.internal\n");
  openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial", "-days", "1",
    "-out", "cert.pem", "-extfile", "san.ext");
  ca = readFileSync(join(dir, "ca.pem"));
  ({ sessiond } = await startCaptured(serveConfig(["--tls-cert", join(dir, "cert.pem"), "--tls-key", join(dir, "key.pem")])));
});

afterAll(async () => {
  await sessiond?.close(500);
  rmSync(dir, { recursive: true, force: true });
});

describe("the typed client's tls option", () => {
  it.each<Protocol>(["grpc", "connect", "grpc-web"])("trusts a private CA over %s", async (transport) => {
    const client = createSessiondClient({ baseUrl: sessiond.server.url, transport, tls: { ca, servername: "sessiond.internal" } });
    const session = await client.createSession({ appName: "tls", userId: "u1" });
    expect(session.appName).toBe("tls");
  });

  it("is refused without the CA, and with the CA but the wrong host name", async () => {
    const untrusting = createSessiondClient({ baseUrl: sessiond.server.url });
    await expect(untrusting.createSession({ appName: "tls", userId: "u1" })).rejects.toThrow(/certificate/i);
    const wrongName = createSessiondClient({ baseUrl: sessiond.server.url, tls: { ca } });
    await expect(wrongName.createSession({ appName: "tls", userId: "u1" })).rejects.toThrow(/altnames|host|certificate/i);
  });
});
