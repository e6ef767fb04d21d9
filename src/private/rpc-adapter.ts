import { Code, ConnectError, type ConnectRouter, type ConnectRouterOptions, type ContextValues, createConnectRouter } from "@connectrpc/connect";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { DualHandler } from "./dual-protocol.js";

/** What {@link rpcAdapter} needs beside the router options. */
export interface RpcAdapterOptions extends ConnectRouterOptions {
  routes(router: ConnectRouter): void;
  contextValues?: (req: Parameters<DualHandler>[0]) => ContextValues;
  /** Told about a response that could not be written for a reason other than the client going away. */
  onWriteError(error: unknown, procedure: string): void;
}

// Errors that only mean the client cancelled or disconnected mid-response.
const CLIENT_GONE = new Set(["ECANCELED", "ECONNRESET", "EPIPE", "ERR_STREAM_PREMATURE_CLOSE", "ERR_HTTP2_STREAM_ERROR"]);

/**
 * The Connect router as a Node request handler, like connect-node's adapter,
 * except that failed writes go to the server's logger instead of the console,
 * and a client that cancels a stream mid-write is not reported as a failure.
 */
export function rpcAdapter(options: RpcAdapterOptions): DualHandler {
  const router = createConnectRouter({ acceptCompression: [compressionGzip, compressionBrotli], ...options });
  options.routes(router);
  const handlers = new Map(router.handlers.map((h) => [h.requestPath, h]));
  return (req, res) => {
    const handler = handlers.get((req.url ?? "").split("?", 1)[0]!);
    if (!handler) {
      res.statusCode = 404;
      res.end();
      return;
    }
    const request = universalRequestFromNodeRequest(req, res, undefined, options.contextValues?.(req));
    handler(request)
      .then((response) => universalResponseToNodeResponse(response, res))
      .catch((reason: unknown) => {
        if (ConnectError.from(reason).code === Code.Aborted || clientGone(reason)) return;
        options.onWriteError(reason, `${handler.service.typeName}/${handler.method.name}`);
      });
  };
}

function clientGone(reason: unknown): boolean {
  for (let e: unknown = reason; e instanceof Error; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined && CLIENT_GONE.has(code)) return true;
  }
  return false;
}
