import { Code, ConnectError, createContextKey, type ContextValues, type Interceptor } from "@connectrpc/connect";
import { type Context, context, propagation, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { observeStream, outcomeCode } from "./rpc-outcome.js";

/** The instrumentation scope of every span sessiond makes. */
export const TRACER_NAME = "sessiond";

const tracer = trace.getTracer(TRACER_NAME);

/** The server span of the current RPC, for the request log. */
const spanKey = createContextKey<Span | undefined>(undefined, { description: "sessiond.span" });

// Server-side failures per the OpenTelemetry RPC conventions; client mistakes leave the status unset.
const SERVER_ERRORS = new Set([Code.Unknown, Code.DeadlineExceeded, Code.Unimplemented, Code.Internal, Code.Unavailable, Code.DataLoss]);

const headerGetter = {
  get: (carrier: Headers, key: string) => carrier.get(key) ?? undefined,
  keys: (carrier: Headers) => [...carrier.keys()],
};

/**
 * A server span per RPC, child of the caller's W3C `traceparent` (and
 * `tracestate`), active while the handler and the response stream run so
 * store calls nest beneath it. Through `@opentelemetry/api` only: without a
 * registered SDK the spans are no-ops.
 */
export function tracingInterceptor(): Interceptor {
  return (next) => async (req) => {
    const parent = propagation.extract(ROOT_CONTEXT, req.header, headerGetter);
    const span = tracer.startSpan(
      `${req.service.typeName}/${req.method.name}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          "rpc.system": rpcSystemOf(req.header.get("content-type")),
          "rpc.service": req.service.typeName,
          "rpc.method": req.method.name,
        },
      },
      parent,
    );
    req.contextValues.set(spanKey, span);
    req.contextValues.set(callerTraceKey, TRACEPARENT.exec(req.header.get("traceparent")?.trim() ?? "")?.[1]);
    const active = trace.setSpan(parent, span);
    const end = (error?: unknown) => {
      const code = error === undefined ? 0 : ConnectError.from(error).code;
      span.setAttribute("rpc.grpc.status_code", code);
      if (code !== 0) {
        span.setAttribute("rpc.connect_rpc.error_code", outcomeCode(error));
        if (SERVER_ERRORS.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: ConnectError.from(error).rawMessage });
      }
      span.end();
    };
    let res;
    try {
      res = await context.with(active, () => next(req));
    } catch (error) {
      end(error);
      throw error;
    }
    if (!res.stream) {
      end();
      return res;
    }
    return { ...res, message: withContext(active, observeStream(res.message, end)) };
  };
}

/** The caller's trace id from a valid W3C `traceparent`, for logs when no SDK traces the call. */
const callerTraceKey = createContextKey<string | undefined>(undefined, { description: "sessiond.caller-trace-id" });

// version-traceid-parentid-flags; version ff and all-zero ids are invalid (W3C Trace Context).
const TRACEPARENT = /^(?!ff)[0-9a-f]{2}-(?!0{32})([0-9a-f]{32})-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}(-|$)/;

/**
 * The trace id of the RPC for log lines: its span's when it is being traced,
 * otherwise the caller's from `traceparent`, so that logs join the caller's
 * trace even when sessiond exports no spans.
 */
export function traceIdOf(values: ContextValues): string | undefined {
  const spanContext = values.get(spanKey)?.spanContext();
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext.traceId : values.get(callerTraceKey);
}

/** Runs every step of `messages` in `ctx`: a streaming handler's store calls happen while the stream is read. */
function withContext<T>(ctx: Context, messages: AsyncIterable<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const it = messages[Symbol.asyncIterator]();
      return {
        next: () => context.with(ctx, () => it.next()),
        return: (value?: unknown) => context.with(ctx, () => it.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined })),
        throw: (error?: unknown) => context.with(ctx, () => it.throw?.(error) ?? Promise.reject(error)),
      };
    },
  };
}

function rpcSystemOf(contentType: string | null): string {
  return contentType?.startsWith("application/grpc") ? "grpc" : "connect_rpc";
}
