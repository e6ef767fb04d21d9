import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ConnectRouterOptions,
  type ContextValues,
  createConnectRouter,
  createContextValues,
  createMethodImplSpec,
  createServiceImplSpec,
  type MethodImplSpec,
} from "@connectrpc/connect";
import type http from "node:http";
import http2 from "node:http2";
import type { UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import { CallTracker, clientCancelled, isClientGone, type RejectedCall } from "./call-outcome.js";
import type { DualHandler } from "./dual-protocol.js";
import { type CallHead, type CallHeadResponse, grpcFastPath, type StreamTaker } from "./grpc-fast-path.js";
import { clampConnectTimeout, clampGrpcTimeout } from "./timeout-clamp.js";

/** What {@link rpcAdapter} needs beside the router options. */
export interface RpcAdapterOptions extends ConnectRouterOptions {
  routes(router: ConnectRouter): void;
  contextValues?: (req: Parameters<DualHandler>[0]) => ContextValues;
  /** For calls on the gRPC fast path, which have no Node request or response objects. */
  streamContextValues?: (req: CallHead, res: CallHeadResponse) => ContextValues;
  /** Told about a response that could not be written for a reason other than the client going away. */
  onWriteError(error: unknown, procedure: string): void;
  /** Told about each RPC rejected before any interceptor saw it. */
  onRejected(call: RejectedCall): void;
}

/** The RPC services as a Node request handler, and the gRPC fast path to the same implementations. */
export interface RpcAdapter {
  /** Every protocol, over HTTP/1.1 and HTTP/2 (Node's compatibility objects). */
  handle: DualHandler;
  /** gRPC unary and server-streaming calls straight from HTTP/2 streams; declines the rest, which go on to {@link handle}. */
  takeStream: StreamTaker;
}

/**
 * The Connect router as a Node request handler, like connect-node's adapter,
 * except that: failed writes go to the server's logger instead of the
 * console; a client that cancels or disconnects ends its call as CANCELED;
 * deadlines beyond what a timer can hold are clamped; requests rejected as
 * malformed are answered INVALID_ARGUMENT and reported to `onRejected`.
 * Beside it, the same unary and server-streaming implementations,
 * interceptors and request gate serve gRPC calls on the fast path
 * (grpc-fast-path.ts).
 */
export function rpcAdapter(options: RpcAdapterOptions): RpcAdapter {
  const tracker = new CallTracker(options.onRejected);
  const handlerOptions = {
    acceptCompression: [compressionGzip, compressionBrotli],
    ...options,
    requestGate: tracker.gate,
    interceptors: [tracker.first, ...(options.interceptors ?? []), tracker.last],
  };
  const router = createConnectRouter(handlerOptions);
  const methods: MethodImplSpec[] = [];
  options.routes(recordingFastMethods(router, options.grpc === false ? [] : methods));
  const takeStream = grpcFastPath({ handlerOptions, methods, contextValues: options.streamContextValues, onWriteError: options.onWriteError });
  const handlers = new Map(router.handlers.map((h) => [h.requestPath, h]));
  const handle: DualHandler = (req, res) => {
    const handler = handlers.get((req.url ?? "").split("?", 1)[0]!);
    if (!handler) {
      res.statusCode = 404;
      res.end();
      return;
    }
    const started = performance.now();
    const contextValues = options.contextValues?.(req) ?? createContextValues();
    const request = universalRequestFromNodeRequest(req, res, undefined, contextValues);
    request.signal = clientSignal(req, res);
    clampTimeouts(request);
    const procedure = `${handler.service.typeName}/${handler.method.name}`;
    handler(request)
      .then((response) => {
        if (!tracker.wasGated(contextValues)) reportUnsupported(response, request, handler, started, options.onRejected);
        stopUnreadBody(req, res);
        return universalResponseToNodeResponse(withClientGoneAsCancel(response), res);
      })
      .catch((reason: unknown) => {
        if (ConnectError.from(reason).code === Code.Aborted || isClientGone(reason)) return;
        options.onWriteError(reason, procedure);
      });
  };
  return { handle, takeStream };
}

/**
 * The router, noting the unary and server-streaming methods registered
 * through it with the router's own options (the methods the fast path
 * serves); methods registered with options of their own stay on the router
 * alone.
 */
function recordingFastMethods(router: ConnectRouter, methods: MethodImplSpec[]): ConnectRouter {
  const fast = (kind: string) => kind === "unary" || kind === "server_streaming";
  const recording: ConnectRouter = {
    get handlers() {
      return router.handlers;
    },
    service(service, implementation, handlerOptions) {
      router.service(service, implementation, handlerOptions);
      if (handlerOptions === undefined) {
        for (const spec of Object.values(createServiceImplSpec(service, implementation).methods)) if (fast(spec.kind)) methods.push(spec);
      }
      return recording;
    },
    rpc(method, impl, handlerOptions) {
      router.rpc(method, impl, handlerOptions);
      if (handlerOptions === undefined && fast(method.methodKind)) methods.push(createMethodImplSpec(method, impl));
      return recording;
    },
  };
  return recording;
}

/**
 * The call's request signal: aborted as CANCELED when the client resets the
 * stream or drops the connection before the response is complete, on either
 * HTTP version (connect-node reports some of those as INTERNAL or not at all).
 */
function clientSignal(req: Parameters<DualHandler>[0], res: Parameters<DualHandler>[1]): AbortSignal {
  const controller = new AbortController();
  const onClose = () => controller.abort(res.writableEnded ? undefined : clientCancelled());
  res.once("close", onClose);
  req.once("error", (error: unknown) => controller.abort(clientCancelled(error)));
  return controller.signal;
}

/**
 * A response that is complete while its request is still arriving (one
 * rejected as too large, say) ends the upload too: HTTP/2 resets the stream
 * with NO_ERROR once the response is out, so the client stops sending and the
 * connection stays usable; HTTP/1.1 closes the connection after the response
 * rather than reading the rest of the body to keep it alive.
 */
function stopUnreadBody(req: Parameters<DualHandler>[0], res: Parameters<DualHandler>[1]): void {
  if ("stream" in req) {
    // The compatibility layer sends the trailers (the end of the response) on
    // 'wantTrailers'; the reset goes out right after them.
    const stream = req.stream;
    stream.once("wantTrailers", () =>
      setImmediate(() => {
        if (!req.readableEnded && !stream.closed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
      }),
    );
  } else if (!req.complete && !res.headersSent) {
    (res as http.ServerResponse).shouldKeepAlive = false;
  }
}

function clampTimeouts(request: UniversalServerRequest): void {
  const grpc = request.header.get("grpc-timeout");
  if (grpc !== clampGrpcTimeout(grpc)) request.header.set("grpc-timeout", clampGrpcTimeout(grpc)!);
  const connect = request.header.get("connect-timeout-ms");
  if (connect !== clampConnectTimeout(connect)) request.header.set("connect-timeout-ms", clampConnectTimeout(connect)!);
}

/**
 * A response whose write failed because the client went away is told so as
 * CANCELED, not as the raw socket error (which would end the call UNKNOWN).
 */
function withClientGoneAsCancel(response: UniversalServerResponse): UniversalServerResponse {
  const body = response.body;
  if (body === undefined || !(Symbol.asyncIterator in body)) return response;
  return {
    ...response,
    body: {
      [Symbol.asyncIterator]() {
        const it = body[Symbol.asyncIterator]();
        return {
          next: () => it.next(),
          return: (value?: unknown) => it.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined }),
          throw: (error?: unknown) =>
            it.throw?.(isClientGone(error) ? clientCancelled(error) : error) ?? Promise.reject(error),
        };
      },
    },
  };
}

const UNSUPPORTED = new Map([
  [405, "HTTP method not allowed for this procedure"],
  [415, "unsupported content type or encoding"],
  [505, "HTTP version not supported for this procedure"],
]);

/** Reports the protocol-level refusals that connect-es answers before a call starts. */
function reportUnsupported(
  response: UniversalServerResponse,
  request: UniversalServerRequest,
  handler: { service: { typeName: string }; method: { name: string } },
  started: number,
  onRejected: (call: RejectedCall) => void,
): void {
  const message = UNSUPPORTED.get(response.status);
  if (message === undefined) return;
  const contentType = request.header.get("content-type") ?? "";
  onRejected({
    service: handler.service.typeName,
    method: handler.method.name,
    protocol: contentType.startsWith("application/grpc-web") ? "grpc-web" : contentType.startsWith("application/grpc") ? "grpc" : "connect",
    error: new ConnectError(`${message} (HTTP ${response.status})`, Code.InvalidArgument),
    durationMs: performance.now() - started,
    contextValues: request.contextValues ?? createContextValues(),
  });
}
