import http2 from "node:http2";
import type tls from "node:tls";
import { ConnectionDrain, type Listener, listenDraining } from "./connection-drain.js";
import { type ConnectionLimits, guardSession, http1Timeouts, http2Settings } from "./connection-limits.js";
import type { DualHandler } from "./dual-protocol.js";
import { type StreamTaker, takeStreamsFirst } from "./grpc-fast-path.js";

/** Certificate and key of an HTTPS listener, as PEM text or paths' contents. */
export interface TlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
}

/**
 * HTTPS on one port: ALPN picks HTTP/2 (gRPC, Connect) or HTTP/1.1 (browsers,
 * curl, gRPC-Web), so no sniffing is needed as in the cleartext listener.
 * HTTP/2 streams are offered to `takeStream` before `handler` sees them.
 */
export async function listenTls(
  handler: DualHandler,
  host: string,
  port: number,
  tls: TlsOptions,
  limits: ConnectionLimits,
  takeStream?: StreamTaker,
): Promise<Listener> {
  const server = http2.createSecureServer(
    {
      cert: tls.cert,
      key: tls.key,
      allowHTTP1: true,
      ALPNProtocols: ["h2", "http/1.1"],
      handshakeTimeout: limits.handshakeTimeoutMs,
      settings: http2Settings(limits),
    },
    handler,
  );
  if (takeStream) takeStreamsFirst(server, takeStream);
  // The HTTP/1.1 fallback reads its timeouts from these properties, not from the options.
  Object.assign(server, http1Timeouts(limits));
  server.maxConnections = limits.maxConnections;
  const drain = new ConnectionDrain();
  server.on("session", (session) => {
    drain.session(session);
    guardSession(session, limits);
  });
  server.on("secureConnection", (socket: tls.TLSSocket) => {
    drain.connection(socket);
    if (socket.alpnProtocol === "h2") drain.markHttp2(socket);
  });
  server.on("request", (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    if (req.httpVersionMajor === 1) drain.http1Request(req, res);
  });
  return listenDraining(server, drain, host, port);
}
