import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { ConnectionDrain, type Listener, listenDraining } from "./connection-drain.js";
import { type StreamTaker, takeStreamsFirst } from "./grpc-fast-path.js";
import { awaitFirstBytes, type ConnectionLimits, guardSession, http1Timeouts, http2Settings } from "./connection-limits.js";

/** A request listener usable for both HTTP/1.1 and HTTP/2 requests. */
export type DualHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0");

/**
 * Node's cleartext HTTP/2 server cannot fall back to HTTP/1.1 (that needs
 * ALPN, i.e. TLS), yet gRPC clients speak h2c while browsers and curl speak
 * HTTP/1.1. So each connection's first bytes are read: the HTTP/2 preface
 * goes to an HTTP/2 server, anything else to an HTTP/1.1 server. HTTP/2
 * streams are offered to `takeStream` before `handler` sees them.
 */
export async function listenDualProtocol(
  handler: DualHandler,
  host: string,
  port: number,
  limits: ConnectionLimits,
  takeStream?: StreamTaker,
): Promise<Listener> {
  const h1 = http.createServer(http1Timeouts(limits), handler);
  // Node checks headers, request and keep-alive timeouts only for servers
  // that listen; this one is handed its sockets, so it is told it listens.
  h1.emit("listening");
  const h2 = http2.createServer({ settings: http2Settings(limits) }, handler);
  if (takeStream) takeStreamsFirst(h2, takeStream);
  const drain = new ConnectionDrain();
  h2.on("session", (session) => {
    drain.session(session);
    guardSession(session, limits);
  });
  h1.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => drain.http1Request(req, res));
  const server = net.createServer((socket) => {
    drain.connection(socket);
    const known = awaitFirstBytes(socket, limits);
    sniff(socket, (isHttp2) => {
      known();
      if (isHttp2) drain.markHttp2(socket);
      (isHttp2 ? h2 : h1).emit("connection", socket);
    });
  });
  server.maxConnections = limits.maxConnections;
  const listener = await listenDraining(server, drain, host, port);
  return {
    address: listener.address,
    async close(graceMs) {
      await listener.close(graceMs);
      h1.close();
    },
  };
}

function sniff(socket: net.Socket, route: (isHttp2: boolean) => void) {
  let seen = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    seen = Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, HTTP2_PREFACE.length);
    const isPrefix = seen.subarray(0, n).equals(HTTP2_PREFACE.subarray(0, n));
    if (isPrefix && n < HTTP2_PREFACE.length) return; // need more bytes to decide
    socket.off("data", onData);
    socket.pause();
    socket.unshift(seen);
    route(isPrefix);
    // The HTTP/2 session drains the buffered bytes itself on the next tick;
    // resuming would hand them to a 'data' event nobody listens to.
    if (!isPrefix) socket.resume();
  };
  socket.on("data", onData);
}
