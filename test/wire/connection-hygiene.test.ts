import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http2 from "node:http2";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectionLimits, SessiondServer } from "../../src/server.js";
import { startServer } from "../../src/server.js";
import { MemoryStore } from "../../src/stores/memory.js";
import { envelope, h2Connect, h2Request } from "./raw-clients.js";

// Small limits so that every timeout fires within a bounded test; waits below are generous.
const LIMITS: Partial<ConnectionLimits> = {
  handshakeTimeoutMs: 300,
  headersTimeoutMs: 400,
  keepAliveTimeoutMs: 300,
  idleTimeoutMs: 400,
  maxConcurrentStreams: 7,
  maxResetsPer10s: 50,
};
const WAIT_MS = 15_000;
const LIST = { ":path": "/sessiond.v1.SessionService/ListSessions", "content-type": "application/grpc", te: "trailers" };
const LIST_BODY = envelope(Buffer.from([0x0a, 0x01, 0x61]));

/** Resolves with what the server sent once it closed `socket`; rejects if it stays open past WAIT_MS. */
function closedByServer(socket: net.Socket | tls.TLSSocket, what = "the connection"): Promise<string> {
  let received = "";
  socket.on("data", (d: Buffer) => (received += d.toString("latin1")));
  socket.on("error", () => {});
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server left ${what} open`)), WAIT_MS);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(received);
    });
  });
}

function connect(port: number, first?: string): Promise<net.Socket> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => {
      if (first !== undefined) socket.write(first);
      resolve(socket);
    });
  });
}

async function expectServing(url: string) {
  const session = await h2Connect(url);
  try {
    expect((await h2Request(session, LIST, LIST_BODY)).trailers["grpc-status"]).toBe("0");
  } finally {
    session.close();
  }
}

describe("connection hygiene (cleartext)", () => {
  let server: SessiondServer;
  beforeAll(async () => {
    server = await startServer({ store: new MemoryStore(), port: 0, connectionLimits: LIMITS });
  });
  afterAll(() => server.close(1000));

  it("closes silent connections, half HTTP/2 prefaces and slowloris HTTP/1.1 headers", async () => {
    const silent = closedByServer(await connect(server.port), "a silent connection");
    const halfPreface = closedByServer(await connect(server.port, "PRI * HTTP/2.0\r\n"), "a half preface");
    const slow = await connect(server.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n");
    const trickle = setInterval(() => slow.write("X-A: b\r\n"), 50);
    const slowloris = closedByServer(slow, "slowloris");
    try {
      await silent;
      await halfPreface;
      expect(await slowloris).toContain("408");
    } finally {
      clearInterval(trickle);
    }
    await expectServing(server.url);
  });

  it("closes HTTP/1.1 connections idle after a response", async () => {
    const socket = await connect(server.port, "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(await closedByServer(socket)).toMatch(/^HTTP\/1\.1 404/);
  });

  it("sends GOAWAY to idle HTTP/2 connections, not to ones with an open stream, and caps concurrent streams", async () => {
    // The stream is requested with the connection, so that it is open before any idle timer can fire.
    const busy = http2.connect(server.url);
    busy.on("error", () => {});
    const open = busy.request({ ":method": "POST", ...LIST });
    open.on("error", () => {});
    open.resume();
    // An unfinished request body keeps the stream open.
    open.write(LIST_BODY.subarray(0, 3));
    const busyGoaway = new Promise((resolve) => busy.once("goaway", resolve));
    let busyWentAway = false;
    void busyGoaway.then(() => (busyWentAway = true));
    const idle = http2.connect(server.url);
    idle.on("error", () => {});
    await new Promise((resolve, reject) => {
      idle.once("goaway", resolve);
      setTimeout(() => reject(new Error("no GOAWAY")), WAIT_MS);
    });
    expect(busyWentAway).toBe(false);
    expect(busy.remoteSettings.maxConcurrentStreams).toBe(7);
    open.end(LIST_BODY.subarray(3));
    await new Promise((resolve) => open.once("close", resolve));
    await busyGoaway;
    idle.destroy();
    busy.destroy();
  });
});

describe("connection hygiene (caps)", () => {
  it("closes an HTTP/2 connection whose client keeps resetting streams (rapid reset), and keeps serving others", async () => {
    // Idle GOAWAYs must not interfere here, however slow the machine.
    const server = await startServer({ store: new MemoryStore(), port: 0, connectionLimits: { maxResetsPer10s: 50 } });
    const session = await h2Connect(server.url);
    // Streams that end normally, or that the server resets with NO_ERROR, are not counted.
    for (let i = 0; i < 60; i++) expect((await h2Request(session, LIST, LIST_BODY)).trailers["grpc-status"]).toBe("0");
    const oversized = await h2Request(session, LIST, envelope(Buffer.alloc(20 * 1024 * 1024)));
    expect(oversized.trailers["grpc-status"]).toBe("8");
    expect(session.closed).toBe(false);
    const goaway = new Promise<number>((resolve) => session.once("goaway", (code: number) => resolve(code)));
    const closed = new Promise((resolve) => session.once("close", resolve));
    let sent = 0;
    for (; sent < 5000 && !session.closed && !session.destroyed; sent++) {
      const stream = session.request({ ":method": "POST", ...LIST });
      stream.on("error", () => {});
      stream.close(http2.constants.NGHTTP2_CANCEL);
      if (sent % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await goaway).toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    await closed;
    expect(sent).toBeLessThan(5000);
    await expectServing(server.url);
    await server.close(1000);
  });

  it("closes connections beyond --max-connections as they arrive", async () => {
    const server = await startServer({ store: new MemoryStore(), port: 0, connectionLimits: { maxConnections: 3, handshakeTimeoutMs: 60_000 } });
    const held = await Promise.all([connect(server.port), connect(server.port), connect(server.port)]);
    try {
      const extra = closedByServer(await connect(server.port));
      await extra;
      expect(held.every((s) => !s.destroyed)).toBe(true);
    } finally {
      for (const s of held) s.destroy();
      await server.close(1000);
    }
  });
});

describe("connection hygiene (TLS)", () => {
  let dir: string;
  let server: SessiondServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sessiond-hygiene-"));
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1",
      "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
    ], { stdio: "pipe" });
    const tlsOptions = { cert: readFileSync(join(dir, "cert.pem")), key: readFileSync(join(dir, "key.pem")) };
    server = await startServer({ store: new MemoryStore(), port: 0, tls: tlsOptions, connectionLimits: LIMITS });
  });
  afterAll(async () => {
    await server.close(1000);
    rmSync(dir, { recursive: true, force: true });
  });

  it("closes connections that never finish the handshake, slowloris HTTP/1.1 and idle keep-alive", async () => {
    const silent = closedByServer(await connect(server.port), "a silent connection");
    const secure = (alpn: string) =>
      new Promise<tls.TLSSocket>((resolve) => {
        const socket = tls.connect({ port: server.port, host: "127.0.0.1", rejectUnauthorized: false, ALPNProtocols: [alpn] }, () => resolve(socket));
      });
    const slow = await secure("http/1.1");
    slow.write("GET /x HTTP/1.1\r\nHost: x\r\n");
    const trickle = setInterval(() => slow.write("X-A: b\r\n"), 50);
    const keepAlive = await secure("http/1.1");
    keepAlive.write("GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
    const idleH2 = await secure("h2");
    const closed = [closedByServer(slow, "slowloris"), closedByServer(keepAlive, "keep-alive"), closedByServer(idleH2, "idle h2")];
    try {
      await silent;
      expect(await closed[0]).toContain("408");
      expect(await closed[1]).toMatch(/^HTTP\/1\.1 404/);
      await closed[2];
    } finally {
      clearInterval(trickle);
    }
  });
});
