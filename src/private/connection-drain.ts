import type http from "node:http";
import type http2 from "node:http2";
import type net from "node:net";

/**
 * Graceful close for a listener's connections. HTTP/2 sessions get GOAWAY
 * and end once their streams finish; HTTP/1.1 sockets are closed as soon as
 * no request is in flight on them (keep-alive would hold them open forever).
 * Whatever is left when the grace period ends is destroyed.
 */
export class ConnectionDrain {
  private readonly sockets = new Set<net.Socket>();
  private readonly http2Sockets = new WeakSet<net.Socket>();
  private readonly inFlight = new Map<net.Socket, number>();
  private readonly sessions = new Set<http2.Http2Session>();
  private draining = false;

  /** Tracks a new connection; `isHttp2` once its protocol is known. */
  connection(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once("close", () => {
      this.sockets.delete(socket);
      this.inFlight.delete(socket);
    });
  }

  /** Marks a tracked connection as HTTP/2: its session handles its own drain. */
  markHttp2(socket: net.Socket): void {
    this.http2Sockets.add(socket);
  }

  /** Tracks an HTTP/2 session. */
  session(session: http2.Http2Session): void {
    this.sessions.add(session);
    session.once("close", () => this.sessions.delete(session));
  }

  /** Tracks an HTTP/1.1 request until its response closes. */
  http1Request(req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void {
    const socket = req.socket as net.Socket;
    this.inFlight.set(socket, (this.inFlight.get(socket) ?? 0) + 1);
    if (this.draining) (res as http.ServerResponse).shouldKeepAlive = false;
    res.once("close", () => {
      const left = (this.inFlight.get(socket) ?? 1) - 1;
      this.inFlight.set(socket, left);
      if (this.draining && left === 0) socket.end();
    });
  }

  /** Drains every tracked connection, destroying what is still open after `graceMs`. */
  async close(graceMs: number): Promise<void> {
    this.draining = true;
    for (const session of this.sessions) session.close();
    for (const socket of this.sockets) {
      if (!this.http2Sockets.has(socket) && !this.inFlight.get(socket)) socket.end();
    }
    const deadline = Date.now() + graceMs;
    while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const session of this.sessions) session.destroy();
    for (const socket of this.sockets) socket.destroy();
  }
}

/** A bound listener that drains on close. */
export interface Listener {
  readonly address: net.AddressInfo;
  /**
   * Stops accepting connections, lets in-flight requests finish for up to
   * `graceMs`, then destroys what is left.
   */
  close(graceMs: number): Promise<void>;
}

/** Binds `server` to host:port; closing it drains the connections `drain` tracks. */
export async function listenDraining(server: net.Server, drain: ConnectionDrain, host: string, port: number): Promise<Listener> {
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
      await drain.close(graceMs);
      await closed;
    },
  };
}
