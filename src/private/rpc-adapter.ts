import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ConnectRouterOptions,
  type ContextValues,
  createConnectRouter,
  createContextValues,
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

/** What {@link rpcAdapter} needs beside the router options. */
export interface RpcAdapterOptions extends ConnectRouterOptions {
  routes(router: ConnectRouter): void;
  contextValues?: (req: Parameters<DualHandler>[0]) => ContextValues;
  /** Told about a response that could not be written for a reason other than the client going away. */
  onWriteError(error: unknown, procedure: string): void;
  /** Told about each RPC rejected before any interceptor saw it. */
  onRejected(call: RejectedCall): void;
}

/** Node's timers hold at most 2^31-1 ms (24.8 days); longer deadlines are clamped to it. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const GRPC_TIMEOUT_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/**
 * The Connect router as a Node request handler, like connect-node's adapter,
 * except that: failed writes go to the server's logger instead of the
 * console; a client that cancels or disconnects ends its call as CANCELED;
 * deadlines beyond what a timer can hold are clamped; requests rejected as
 * malformed are answered INVALID_ARGUMENT and reported to `onRejected`.
 */
export function rpcAdapter(options: RpcAdapterOptions): DualHandler {
  const tracker = new CallTracker(options.onRejected);
  const router = createConnectRouter({
    acceptCompression: [compressionGzip, compressionBrotli],
    ...options,
    requestGate: tracker.gate,
    interceptors: [tracker.first, ...(options.interceptors ?? []), tracker.last],
  });
  options.routes(router);
  const handlers = new Map(router.handlers.map((h) => [h.requestPath, h]));
  return (req, res) => {
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
  const match = grpc === null ? null : /^(\d{1,8})([HMSmun])$/.exec(grpc);
  if (match && Number(match[1]) * GRPC_TIMEOUT_UNIT_MS[match[2]!]! > MAX_TIMER_MS) {
    request.header.set("grpc-timeout", `${Math.floor(MAX_TIMER_MS / 60_000)}M`);
  }
  const connect = request.header.get("connect-timeout-ms");
  if (connect !== null && /^\d{1,10}$/.test(connect) && Number(connect) > MAX_TIMER_MS) {
    request.header.set("connect-timeout-ms", String(MAX_TIMER_MS));
  }
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
