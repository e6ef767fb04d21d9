import { randomUUID } from "node:crypto";
import { type ContextValues, createContextKey, createContextValues, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { principalKey } from "../auth/auth-interceptor.js";
import type { CallHead, CallHeadResponse, RejectedCall } from "../server.js";
import { observeStream, outcomeCode } from "./rpc-outcome.js";
import { traceIdOf } from "./tracing.js";

/** The id of the current request: the caller's x-request-id, or a new one. */
export const requestIdKey = createContextKey<string>("", { description: "sessiond.request_id" });

const REQUEST_ID_HEADER = "x-request-id";
// A caller's id is kept only when it is short and plain, so logs stay one clean line.
const ACCEPTABLE_ID = /^[A-Za-z0-9._:/+=-]{1,128}$/;

/**
 * For `ServerOptions.contextValues`: picks the request id and echoes it in
 * the response headers, which are sent even when the call fails.
 */
export function requestIdContext(req: CallHead, res: CallHeadResponse): ContextValues {
  const given = req.headers[REQUEST_ID_HEADER];
  const id = typeof given === "string" && ACCEPTABLE_ID.test(given) ? given : randomUUID();
  res.setHeader(REQUEST_ID_HEADER, id);
  return createContextValues().set(requestIdKey, id);
}

const ERROR_CODES = new Set(["internal", "unknown", "data_loss"]);
const WARN_CODES = new Set(["unavailable", "deadline_exceeded", "resource_exhausted"]);

/**
 * One JSON line per finished RPC: method, code, duration, app and request
 * id, the API key's name. Messages are never logged: they carry event
 * content and state. Streams are logged when they end.
 */
export function requestLogInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    let appName: unknown;
    if (req.stream) {
      // Streaming requests (server streams too) reach interceptors as iterables.
      req = { ...req, message: tapFirst(req.message, (m) => (appName = (m as { appName?: unknown }).appName)) };
    } else {
      appName = (req.message as { appName?: unknown }).appName;
    }
    const log = (error: unknown, messages?: number) =>
      writeLine(logger, {
        service: req.service.typeName,
        method: req.method.name,
        code: outcomeCode(error),
        duration_ms: roundMs(performance.now() - started),
        app_name: typeof appName === "string" ? appName : undefined,
        request_id: req.contextValues.get(requestIdKey) || undefined,
        trace_id: traceIdOf(req.contextValues),
        key: req.contextValues.get(principalKey)?.name,
        protocol: protocolOf(req.header.get("content-type")),
        messages,
      });
    let res;
    try {
      res = await next(req);
    } catch (error) {
      log(error);
      throw error;
    }
    if (!res.stream) {
      log(undefined);
      return res;
    }
    return { ...res, message: observeStream(res.message, log) };
  };
}

/**
 * For `ServerOptions.onRejectedCall`: the same line for an RPC rejected
 * before the interceptors saw it, with the reason, since no handler ran.
 */
export function rejectedCallLog(logger: Logger): (call: RejectedCall) => void {
  return (call) =>
    writeLine(logger, {
      service: call.service,
      method: call.method,
      code: outcomeCode(call.error),
      duration_ms: roundMs(call.durationMs),
      request_id: call.contextValues.get(requestIdKey) || undefined,
      protocol: call.protocol,
      reason: call.error.rawMessage,
    });
}

function writeLine(logger: Logger, line: { code: string } & Record<string, unknown>): void {
  const level = ERROR_CODES.has(line.code) ? "error" : WARN_CODES.has(line.code) ? "warn" : "info";
  logger[level](line, "rpc");
}

function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

async function* tapFirst<T>(messages: AsyncIterable<T>, first: (message: T) => void): AsyncIterable<T> {
  let seen = false;
  for await (const message of messages) {
    if (!seen) first(message);
    seen = true;
    yield message;
  }
}

function protocolOf(contentType: string | null): string {
  if (contentType?.startsWith("application/grpc-web")) return "grpc-web";
  if (contentType?.startsWith("application/grpc")) return "grpc";
  return "connect";
}
