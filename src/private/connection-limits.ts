import http2 from "node:http2";
import type net from "node:net";

/** Timeouts and caps that keep idle, slow or abusive connections from holding the server. */
export interface ConnectionLimits {
  /** A new connection must send its first bytes (and finish a TLS handshake) within this. Default 10 s. */
  handshakeTimeoutMs: number;
  /** An HTTP/1.1 request's headers must arrive in full within this (slowloris). Default 20 s. */
  headersTimeoutMs: number;
  /** An HTTP/1.1 connection idle between requests is closed after this. Default 5 s. */
  keepAliveTimeoutMs: number;
  /** An HTTP/2 connection without open streams gets GOAWAY after this. Default 5 min. */
  idleTimeoutMs: number;
  /** Streams one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). Default 256. */
  maxConcurrentStreams: number;
  /** Open connections at once; further ones are closed as they arrive. Default 10,000. */
  maxConnections: number;
  /**
   * Streams a client may reset within 10 s on one HTTP/2 connection before
   * the connection is closed with GOAWAY ENHANCE_YOUR_CALM (rapid reset). Default 200.
   */
  maxResetsPer10s: number;
}

/** The defaults documented for `sessiond serve`. */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 20_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 300_000,
  maxConcurrentStreams: 256,
  maxConnections: 10_000,
  maxResetsPer10s: 200,
};

const RESET_WINDOW_MS = 10_000;

/** The HTTP/2 server settings that follow from `limits`. */
export function http2Settings(limits: ConnectionLimits): http2.Settings {
  return { maxConcurrentStreams: limits.maxConcurrentStreams };
}

/** The HTTP/1.1 server options that follow from `limits`. */
export function http1Timeouts(limits: ConnectionLimits) {
  return {
    headersTimeout: limits.headersTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node checks headers timeouts on this interval (30 s by default), so it
    // has to be short next to the timeout for the timeout to mean anything.
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

/**
 * Closes a connection that sends nothing within the handshake timeout.
 * Returns a function to call once the connection has made itself known.
 */
export function awaitFirstBytes(socket: net.Socket, limits: ConnectionLimits): () => void {
  const timer = setTimeout(() => socket.destroy(), limits.handshakeTimeoutMs);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
  return () => clearTimeout(timer);
}

/**
 * Applies the HTTP/2 limits to one session: GOAWAY once it has had no open
 * stream for the idle timeout, and GOAWAY ENHANCE_YOUR_CALM (then close)
 * when its client resets more streams than allowed, which is how an HTTP/2
 * rapid-reset flood looks. Counting costs one closure per stream.
 */
export function guardSession(session: http2.ServerHttp2Session, limits: ConnectionLimits): void {
  let open = 0;
  let idle: NodeJS.Timeout | undefined;
  const armIdle = () => {
    idle = setTimeout(() => {
      if (open === 0 && !session.closed) session.close();
    }, limits.idleTimeoutMs);
    idle.unref();
  };
  let windowStart = 0;
  let resets = 0;
  armIdle();
  session.on("stream", (stream: http2.ServerHttp2Stream) => {
    open++;
    clearTimeout(idle);
    stream.once("close", () => {
      if (--open === 0 && !session.closed) armIdle();
      if (stream.rstCode === http2.constants.NGHTTP2_NO_ERROR || stream.rstCode === undefined) return;
      const now = Date.now();
      if (now - windowStart > RESET_WINDOW_MS) {
        windowStart = now;
        resets = 0;
      }
      if (++resets > limits.maxResetsPer10s && !session.destroyed) {
        session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
        session.destroy();
      }
    });
  });
  session.once("close", () => clearTimeout(idle));
}
