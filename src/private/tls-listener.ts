import http2 from "node:http2";
import type net from "node:net";
import type { DualHandler, DualProtocolServer } from "./dual-protocol.js";

/** Certificate and key of an HTTPS listener, as PEM text or paths' contents. */
export interface TlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
}

/**
 * HTTPS on one port: ALPN picks HTTP/2 (gRPC, Connect) or HTTP/1.1 (browsers,
 * curl, gRPC-Web), so no sniffing is needed as in the cleartext listener.
 */
export async function listenTls(handler: DualHandler, host: string, port: number, tls: TlsOptions): Promise<DualProtocolServer> {
  const server = http2.createSecureServer({ cert: tls.cert, key: tls.key, allowHTTP1: true, ALPNProtocols: ["h2", "http/1.1"] }, handler);
  const sessions = new Set<http2.Http2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  // HTTP/1.1 sockets with no request in flight can be closed at once on drain.
  const sockets = new Map<net.Socket, number>();
  server.on("secureConnection", (socket: net.Socket) => {
    sockets.set(socket, 0);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("request", (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    if (req.httpVersionMajor !== 1) return;
    const socket = req.socket;
    sockets.set(socket, (sockets.get(socket) ?? 0) + 1);
    res.once("close", () => sockets.has(socket) && sockets.set(socket, sockets.get(socket)! - 1));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    address: server.address() as net.AddressInfo,
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.close();
      const deadline = Date.now() + graceMs;
      const idleHttp1 = (socket: net.Socket, inFlight: number) =>
        inFlight === 0 && (socket as net.Socket & { alpnProtocol?: string | false }).alpnProtocol !== "h2";
      while (sockets.size > 0 && Date.now() < deadline) {
        for (const [socket, inFlight] of sockets) if (idleHttp1(socket, inFlight)) socket.destroy();
        await new Promise((r) => setTimeout(r, 25));
      }
      for (const session of sessions) session.destroy();
      for (const socket of sockets.keys()) socket.destroy();
      await closed;
    },
  };
}
