import { Code, ConnectError, type ContextValues, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { SessiondError } from "../core/errors.js";

/** An RPC that ended before any interceptor saw it: malformed, oversized or of an unsupported kind. */
export interface RejectedCall {
  readonly service: string;
  readonly method: string;
  /** "grpc", "grpc-web" or "connect". */
  readonly protocol: string;
  /** The error the client was sent. */
  readonly error: ConnectError;
  readonly durationMs: number;
  readonly contextValues: ContextValues;
}

// The one request error the gRPC spec answers with INTERNAL: a compressed
// message on a stream that named no grpc-encoding.
const SPEC_INTERNAL = /^received compressed envelope, but do not know how to decompress/;

/**
 * What a request error means for the client: connect-es reports bytes that do
 * not decode (and a few other input faults) as INTERNAL; they are the
 * client's fault, so they become INVALID_ARGUMENT as in connect-go.
 */
export function asInputError(error: unknown): ConnectError {
  if (isClientGone(error)) return clientCancelled(error);
  const e = ConnectError.from(error, Code.InvalidArgument);
  if ((e.code !== Code.Internal && e.code !== Code.Unknown) || SPEC_INTERNAL.test(e.rawMessage)) return e;
  return new ConnectError(e.rawMessage, Code.InvalidArgument, e.metadata, undefined, e.cause ?? error);
}

/** Node error codes that only mean the peer cancelled or disconnected. */
const CLIENT_GONE = new Set(["ECANCELED", "ECONNRESET", "EPIPE", "ERR_STREAM_PREMATURE_CLOSE", "ERR_HTTP2_STREAM_ERROR", "ERR_HTTP2_INVALID_STREAM", "ERR_STREAM_DESTROYED"]);

/**
 * True when `reason` (or an error it wraps) only says the client went away.
 * The search stops at a store error: what it wraps is the store's own
 * connection (a database resetting its socket is ECONNRESET too), and the
 * store already said what that means.
 */
export function isClientGone(reason: unknown): boolean {
  for (let e: unknown = reason, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof SessiondError) return false;
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === "string" && CLIENT_GONE.has(code)) return true;
  }
  return false;
}

/** The error an RPC ends with when its client cancelled or disconnected. */
export function clientCancelled(cause?: unknown): ConnectError {
  return new ConnectError("the client cancelled the call", Code.Canceled, undefined, undefined, cause);
}

/**
 * Follows every RPC from the moment its protocol is known. Calls the
 * interceptors see are theirs to log; the rest (rejected while the request
 * was read and decoded) are reported here, once each, with the code fixed
 * up before the response is written: connect-es aborts the call's context
 * with the error just before it serializes it, so an abort listener may
 * still correct it.
 */
export class CallTracker {
  private readonly seen = new WeakSet<AbortSignal>();
  private readonly gated = new WeakSet<ContextValues>();

  constructor(private readonly onRejected: (call: RejectedCall) => void) {}

  /** For the router's `requestGate`: runs before the request body is read. */
  readonly gate = (context: HandlerContext): void => {
    const started = performance.now();
    this.gated.add(context.values);
    const signal = context.signal;
    signal.addEventListener(
      "abort",
      () => {
        if (this.seen.has(signal)) return;
        const reason: unknown = signal.reason;
        const error = reason instanceof ConnectError ? reason : ConnectError.from(reason, Code.Internal);
        if (reason instanceof ConnectError) correctInPlace(reason);
        this.onRejected({
          service: context.service.typeName,
          method: context.method.name,
          protocol: context.protocolName,
          error,
          durationMs: performance.now() - started,
          contextValues: context.values,
        });
      },
      { once: true },
    );
    if (context.requestMethod === "GET") checkGetMessage(context.url);
  };

  /** True once the call with these context values passed protocol negotiation. */
  wasGated(values: ContextValues): boolean {
    return this.gated.has(values);
  }

  /**
   * First of the interceptors: marks the call as seen by them. Streaming
   * requests are decoded while the handler reads them; their decode errors
   * are input errors.
   */
  readonly first: Interceptor = (next) => async (req) => {
    this.seen.add(req.signal);
    return next(req.stream ? { ...req, message: mapErrors(req.message, asInputError) } : req);
  };

  /**
   * Last of the interceptors, next to the handler: an RPC whose client went
   * away or whose deadline passed ends with that reason rather than with
   * whatever the handler's interrupted work threw.
   */
  readonly last: Interceptor = (next) => async (req) => {
    const settle = (error: unknown): unknown => {
      const reason: unknown = req.signal.aborted ? req.signal.reason : undefined;
      if (reason instanceof ConnectError && (reason.code === Code.Canceled || reason.code === Code.DeadlineExceeded)) return reason;
      return isClientGone(error) ? clientCancelled(error) : error;
    };
    try {
      const res = await next(req);
      return res.stream ? { ...res, message: mapErrors(res.message, settle) } : res;
    } catch (error) {
      throw settle(error);
    }
  };
}

/** Turns an INTERNAL that connect-es raised for bad input into INVALID_ARGUMENT, keeping the object. */
function correctInPlace(error: ConnectError): void {
  const corrected = asInputError(error);
  if (corrected.code === error.code) return;
  const writable = error as { code: Code; message: string };
  writable.code = corrected.code;
  writable.message = corrected.message;
}

/**
 * A Connect GET carries its message in the query; bad base64 there makes
 * connect-es throw a plain Error, answered as INTERNAL. Checked first here.
 */
function checkGetMessage(url: string): void {
  const query = new URL(url).searchParams;
  if (query.get("base64") !== "1") return;
  const message = query.get("message") ?? "";
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(message) || message.length % 4 === 1) {
    throw new ConnectError("the message query parameter is not valid base64", Code.InvalidArgument);
  }
  try {
    base64Decode(message);
  } catch {
    throw new ConnectError("the message query parameter is not valid base64", Code.InvalidArgument);
  }
}

async function* mapErrors<T>(messages: AsyncIterable<T>, map: (error: unknown) => unknown): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (error) {
    throw map(error);
  }
}
