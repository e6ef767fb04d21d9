import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues, type HandlerContext } from "@connectrpc/connect";

/** What a fast-path call's context is made from. */
export interface CallContextInit {
  readonly method: DescMethod;
  readonly service: DescService;
  readonly protocolName: string;
  readonly requestMethod: string;
  readonly url: string;
  /** Milliseconds the caller allows, or undefined for no deadline. */
  readonly timeoutMs: number | undefined;
  readonly shutdownSignal: AbortSignal | undefined;
  readonly requestHeader: Headers;
  readonly responseHeader: Headers;
  readonly responseTrailer: Headers;
  readonly values: ContextValues;
}

/** A call's context and the means to end it. */
export interface CallContext extends HandlerContext {
  /** Ends the call: the signal aborts with `reason` unless it already has. */
  abort(reason: unknown): void;
}

/**
 * A handler context as connect-es's `createHandlerContext` makes it: the
 * signal aborts with DEADLINE_EXCEEDED ("the operation timed out") when the
 * deadline passes, with the shutdown signal's reason when the server stops
 * waiting for calls, and with the call's own reason when it ends. It does
 * so with one AbortController and one shutdown listener rather than a
 * controller per source linked by listeners, and takes Headers the caller
 * built once instead of copying them.
 */
export function callContext(init: CallContextInit): CallContext {
  const controller = new AbortController();
  const signal = controller.signal;
  const shutdown = init.shutdownSignal;
  let timer: NodeJS.Timeout | undefined;
  const end = (reason: unknown) => {
    if (signal.aborted) return;
    clearTimeout(timer);
    shutdown?.removeEventListener("abort", onShutdown);
    controller.abort(reason);
  };
  const onShutdown = () => end(shutdown!.reason ?? abortError());
  let timeoutMs: () => number | undefined;
  if (init.timeoutMs === undefined) {
    timeoutMs = noTimeout;
  } else {
    const deadline = Date.now() + init.timeoutMs;
    timeoutMs = () => deadline - Date.now();
  }
  // As in connect-es, a deadline already passed wins over a shutdown under way.
  if (init.timeoutMs !== undefined && init.timeoutMs <= 0) end(timedOut());
  else if (shutdown?.aborted) onShutdown();
  else {
    shutdown?.addEventListener("abort", onShutdown);
    if (init.timeoutMs !== undefined) timer = setTimeout(() => end(timedOut()), init.timeoutMs);
  }
  return {
    method: init.method,
    service: init.service,
    protocolName: init.protocolName,
    requestMethod: init.requestMethod,
    url: init.url,
    signal,
    timeoutMs,
    requestHeader: init.requestHeader,
    responseHeader: init.responseHeader,
    responseTrailer: init.responseTrailer,
    values: init.values,
    abort: end,
  };
}

const noTimeout = () => undefined;

function timedOut(): ConnectError {
  return new ConnectError("the operation timed out", Code.DeadlineExceeded);
}

/** What an abort without a reason reports, as connect-es spells it. */
function abortError(): Error {
  const e = new Error("This operation was aborted");
  e.name = "AbortError";
  return e;
}
