import type http from "node:http";
import type http2 from "node:http2";
import type { ConnectRouter, ContextValues, Interceptor } from "@connectrpc/connect";
import { Code, ConnectError, cors as connectCors } from "@connectrpc/connect";
import { SessionService } from "../gen/sessiond/v1/session_service_pb.js";
import { errorInterceptor } from "./api/errors.js";
import { FollowHub, type FollowStats } from "./api/follow-hub.js";
import { sessionService } from "./api/service.js";
import { limits } from "./core/limits.js";
import type { Listener } from "./private/connection-drain.js";
import { listenDualProtocol } from "./private/dual-protocol.js";
import type { CallHead, CallHeadResponse, StreamTaker } from "./private/grpc-fast-path.js";
import type { RejectedCall } from "./private/call-outcome.js";
import { rpcAdapter } from "./private/rpc-adapter.js";
import { listenTls, type TlsOptions } from "./private/tls-listener.js";
import { type ConnectionLimits, DEFAULT_CONNECTION_LIMITS } from "./private/connection-limits.js";
import type { Store } from "./stores/store.js";

export type { RejectedCall } from "./private/call-outcome.js";
export type { CallHead, CallHeadResponse } from "./private/grpc-fast-path.js";
export { type ConnectionLimits, DEFAULT_CONNECTION_LIMITS } from "./private/connection-limits.js";

/** A request or response of either HTTP version. */
export type HttpRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type HttpResponse = http.ServerResponse | http2.Http2ServerResponse;

/** A plain HTTP endpoint served beside the API, such as /metrics. */
export interface HttpRoute {
  /** Exact path, or a prefix when it ends with "/". */
  path: string;
  handle(req: HttpRequest, res: HttpResponse): void | Promise<void>;
}

/** Minimal logger the server reports through. */
export interface ServerLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** How to run a server. */
export interface ServerOptions {
  store: Store;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 50051; 0 picks a free port. */
  port?: number;
  /** Origins allowed to call from browsers; "*" allows any. */
  corsOrigins?: string[];
  logger?: ServerLogger;
  /** Additional interceptors, run before the error mapping. */
  interceptors?: Interceptor[];
  /**
   * Told about each RPC rejected before the interceptors saw it (a message
   * that does not decode or is too large, an unsupported content type), so
   * that it is logged and counted like the calls the interceptors see.
   */
  onRejectedCall?: (call: RejectedCall) => void;
  /** Registers more Connect services next to SessionService. */
  services?: (router: ConnectRouter) => void;
  /** Plain HTTP endpoints. */
  httpRoutes?: HttpRoute[];
  /**
   * Called first for every RPC with the request's head; the values reach
   * interceptors and handlers. It may set response headers (e.g. a request
   * id) before anything is written.
   */
  contextValues?: (req: CallHead, res: CallHeadResponse) => ContextValues;
  /** Serve HTTPS (HTTP/2 and HTTP/1.1 by ALPN) with this certificate instead of cleartext. */
  tls?: TlsOptions;
  /** Connection timeouts and caps; each one left out takes its default from {@link DEFAULT_CONNECTION_LIMITS}. */
  connectionLimits?: Partial<ConnectionLimits>;
  /** Gzip/brotli responses of 1 KiB and more for clients that accept it (default off). */
  compressResponses?: boolean;
  /**
   * Serve gRPC unary and server-streaming calls over HTTP/2 straight from
   * the stream (default true); off, every call goes through connect-node's
   * request handling.
   * Both serve the same implementations, interceptors and limits.
   */
  grpcFastPath?: boolean;
  /**
   * How long a follow stream waits for a wake-up before re-reading the store:
   * default 250 ms, or 2000 ms for stores with `subscribe` (a safety net).
   */
  pollIntervalMs?: number;
}

/** A running server. */
export interface SessiondServer {
  readonly port: number;
  readonly host: string;
  /** Base URL, e.g. http://127.0.0.1:50051 (https:// with TLS). */
  readonly url: string;
  /**
   * Drains: stops accepting connections, ends follow streams, lets in-flight
   * calls finish for up to `graceMs`, then cancels the rest and closes the store.
   */
  close(graceMs?: number): Promise<void>;
  /** Aborted when the server starts draining; long-lived streams end on it. */
  readonly draining: AbortSignal;
  /** Follow streams open in this server and the store subscriptions they share. */
  followStats(): FollowStats;
}

const silentLogger: ServerLogger = { info() {}, error() {} };

/** Starts serving gRPC, gRPC-Web and Connect on one port over HTTP/2 cleartext and HTTP/1.1. */
export async function startServer(options: ServerOptions): Promise<SessiondServer> {
  const logger = options.logger ?? silentLogger;
  const draining = new AbortController();
  const shutdown = new AbortController();
  // The adapter hands only the request to contextValues; the response is paired here.
  const contexts = new WeakMap<HttpRequest, ContextValues>();
  const hub = new FollowHub(options.store, (error) => logger.error("releasing a store subscription failed", { error: String(error) }));
  const adapter = rpcAdapter({
    grpc: true,
    grpcWeb: true,
    connect: true,
    readMaxBytes: limits.maxMessageBytes,
    writeMaxBytes: limits.maxMessageBytes,
    // Compressed requests are always accepted; responses are compressed only
    // when asked for, since gzip costs more CPU than it saves on fast links.
    compressMinBytes: options.compressResponses ? 1024 : Number.MAX_SAFE_INTEGER,
    shutdownSignal: shutdown.signal,
    contextValues: options.contextValues && ((req) => contexts.get(req)!),
    streamContextValues: options.contextValues,
    interceptors: [
      ...(options.interceptors ?? []),
      errorInterceptor((error, procedure) => logger.error("internal error", { procedure, error: String(error) })),
    ],
    onWriteError: (error, procedure) => logger.error("writing a response failed", { procedure, error: String(error) }),
    onRejected: options.onRejectedCall ?? (() => {}),
    routes(router) {
      router.service(
        SessionService,
        sessionService({ store: options.store, draining: draining.signal, hub, pollIntervalMs: options.pollIntervalMs }),
      );
      options.services?.(router);
    },
  });
  const routes = options.httpRoutes ?? [];
  const allowOrigin = originPolicy(options.corsOrigins ?? []);
  const handler = (req: HttpRequest, res: HttpResponse) => {
    if (applyCors(req, res, allowOrigin)) return;
    const path = (req.url ?? "/").split("?")[0]!;
    const route = routes.find((r) => (r.path.endsWith("/") ? path.startsWith(r.path) : path === r.path));
    if (route) {
      Promise.resolve(route.handle(req, res)).catch((error) => {
        logger.error("http route failed", { path, error: String(error) });
        if (!res.headersSent) res.statusCode = 500;
        res.end();
      });
      return;
    }
    if (options.contextValues) contexts.set(req, options.contextValues(req, res));
    adapter.handle(req, res);
  };
  // Plain HTTP routes come first on either path.
  const takeStream: StreamTaker | undefined =
    options.grpcFastPath === false
      ? undefined
      : (stream, headers) => {
          const path = (headers[":path"] ?? "/").split("?")[0]!;
          if (routes.some((r) => (r.path.endsWith("/") ? path.startsWith(r.path) : path === r.path))) return false;
          return adapter.takeStream(stream, headers);
        };
  const host = options.host ?? "127.0.0.1";
  const listenPort = options.port ?? 50051;
  const connectionLimits = { ...DEFAULT_CONNECTION_LIMITS, ...definedOnly(options.connectionLimits ?? {}) };
  const listener: Listener = options.tls
    ? await listenTls(handler, host, listenPort, options.tls, connectionLimits, takeStream)
    : await listenDualProtocol(handler, host, listenPort, connectionLimits, takeStream);
  const port = listener.address.port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    port,
    host,
    url: `${options.tls ? "https" : "http"}://${urlHost}:${port}`,
    draining: draining.signal,
    followStats: () => hub.stats(),
    close(graceMs = 10_000) {
      closing ??= (async () => {
        draining.abort();
        // Calls still running when the grace period ends are told why they stop.
        const stop = () => shutdown.abort(new ConnectError("the server is shutting down", Code.Unavailable));
        const timer = setTimeout(stop, graceMs);
        await listener.close(graceMs);
        clearTimeout(timer);
        stop();
        await options.store.close();
      })();
      return closing;
    },
  };
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function originPolicy(origins: string[]): (origin: string) => boolean {
  if (origins.includes("*")) return () => true;
  const allowed = new Set(origins);
  return (origin) => allowed.has(origin);
}

/** Sets CORS headers for allowed origins; answers preflights. Returns true when the request is done. */
function applyCors(req: HttpRequest, res: HttpResponse, allowOrigin: (origin: string) => boolean): boolean {
  const origin = req.headers.origin;
  if (typeof origin !== "string" || !allowOrigin(origin)) return false;
  res.setHeader("Access-Control-Allow-Origin", origin);
  res.setHeader("Vary", "Origin");
  res.setHeader("Access-Control-Expose-Headers", [...connectCors.exposedHeaders, "X-Request-Id"].join(", "));
  if (req.method !== "OPTIONS") return false;
  res.setHeader("Access-Control-Allow-Methods", connectCors.allowedMethods.join(", "));
  res.setHeader("Access-Control-Allow-Headers", [...connectCors.allowedHeaders, "Authorization"].join(", "));
  res.setHeader("Access-Control-Max-Age", "7200");
  res.statusCode = 204;
  res.end();
  return true;
}
