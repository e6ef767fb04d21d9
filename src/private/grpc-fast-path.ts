import http2 from "node:http2";
import type { Message } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextValues,
  type MethodImplSpec,
} from "@connectrpc/connect";
import {
  compressionNegotiate,
  createAsyncIterable,
  createMethodSerializationLookup,
  invokeUnaryImplementation,
  transformInvokeImplementation,
  type UniversalHandlerOptions,
  validateUniversalHandlerOptions,
} from "@connectrpc/connect/protocol";
import { parseTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { attachedEncoding, kTakesEncodedResponse } from "../api/encoded-response.js";
import { jsonTextRequestDecoder } from "../api/json-request.js";
import { clampGrpcTimeout } from "./timeout-clamp.js";
import { clientCancelled, isClientGone } from "./call-outcome.js";
import { decodeRequest, type Framed, frame, type MessageCodec, readRequest, writeFramed } from "./grpc-messages.js";
import { callContext } from "./call-context.js";

/**
 * The head of an RPC as `ServerOptions.contextValues` sees it: the request's
 * headers, path and method, and a way to set response headers.
 */
export interface CallHead {
  readonly headers: http2.IncomingHttpHeaders;
  readonly url?: string;
  readonly method?: string;
}

/** Where `contextValues` may set response headers before anything is written. */
export interface CallHeadResponse {
  setHeader(name: string, value: string | number | readonly string[]): unknown;
}

/** Takes an HTTP/2 stream and answers it, or returns false to leave it to the router. */
export type StreamTaker = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => boolean;

/** What {@link grpcFastPath} needs: the router's own options and the methods it may serve. */
export interface GrpcFastPathOptions {
  /** The options the Connect router was made with, interceptors and request gate included. */
  handlerOptions: Partial<UniversalHandlerOptions>;
  /** Unary and server-streaming methods to serve; every other path goes to the router. */
  methods: readonly MethodImplSpec[];
  contextValues?: (req: CallHead, res: CallHeadResponse) => ContextValues;
  onWriteError(error: unknown, procedure: string): void;
}

/**
 * Lets `take` see each HTTP/2 stream of `server` first; streams it declines
 * go to Node's compatibility layer (and the server's request handler) as
 * before. That layer listens for 'stream' itself, so its listener is moved
 * behind the taker's.
 */
export function takeStreamsFirst(server: http2.Http2Server | http2.Http2SecureServer, take: StreamTaker): void {
  const compat = server.listeners("stream") as ((...args: unknown[]) => void)[];
  server.removeAllListeners("stream");
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, ...rest: unknown[]) => {
    if (take(stream, headers)) return;
    for (const listener of compat) listener.call(server, stream, headers, ...rest);
  });
}

/**
 * The reason a call's context is aborted with once it is complete: one
 * shared AbortError, where a reasonless abort would build a new DOMException
 * (and its stack) per call.
 */
const COMPLETE = new DOMException("the call is complete", "AbortError");

const CONTENT_TYPES = new Set(["application/grpc", "application/grpc+proto"]);
const { NGHTTP2_NO_ERROR } = http2.constants;

/**
 * gRPC (binary, HTTP/2) unary and server-streaming calls straight from the
 * `node:http2` stream to the method's implementation: no async-iterable
 * pipeline and no compatibility request and response objects, and response
 * messages that carry their encoding (encoded-response.ts) are written from
 * it. Everything else that makes a call what it is stays Connect's: the
 * handler context (deadline, shutdown and cancel signals), the request
 * gate, the interceptors, the serialization limits, compression negotiation
 * and the trailer encoding of errors, so a call ends the same on either
 * path. Requests this path does not take (other protocols, content types,
 * encodings it does not know, browsers' CORS requests, client and bidi
 * streaming) go on to the router.
 */
export function grpcFastPath(options: GrpcFastPathOptions): StreamTaker {
  const opt = validateUniversalHandlerOptions(options.handlerOptions);
  const methods = new Map(options.methods.map((spec) => [`/${spec.method.parent.typeName}/${spec.method.name}`, prepare(spec, opt)]));
  const known = new Set(opt.acceptCompression.map((c) => c.name));
  return (stream, headers) => {
    if (headers[":method"] !== "POST" || headers.origin !== undefined) return false;
    const contentType = headers["content-type"];
    if (contentType === undefined || !CONTENT_TYPES.has(contentType)) return false;
    const encoding = headers["grpc-encoding"];
    if (encoding !== undefined && (typeof encoding !== "string" || (encoding !== "identity" && !known.has(encoding)))) return false;
    const method = methods.get(headers[":path"] ?? "");
    if (method === undefined) return false;
    serve(stream, headers, method, opt, options).catch((error: unknown) => {
      if (!isClientGone(error)) options.onWriteError(error, method.procedure);
    });
    return true;
  };
}

type Options = ReturnType<typeof validateUniversalHandlerOptions>;

interface PreparedMethod {
  readonly spec: MethodImplSpec & { kind: "unary" | "server_streaming" };
  readonly procedure: string;
  /** The method's kind as Connect's protocol errors name it. */
  readonly kindName: "unary" | "server-streaming";
  readonly input: MessageCodec;
  readonly output: MessageCodec;
  readonly limits: { writeMaxBytes: number; compressMinBytes: number };
}

function prepare(spec: MethodImplSpec, opt: Options): PreparedMethod {
  if (spec.kind !== "unary" && spec.kind !== "server_streaming") throw new Error(`${spec.method.name} is neither unary nor server-streaming`);
  const serialization = createMethodSerializationLookup(spec.method, opt.binaryOptions, opt.jsonOptions, opt);
  return {
    spec,
    procedure: `${spec.method.parent.typeName}/${spec.method.name}`,
    kindName: spec.kind === "unary" ? "unary" : "server-streaming",
    input: takingJsonText(spec.method, serialization.getI(true)),
    output: serialization.getO(true),
    limits: { writeMaxBytes: opt.writeMaxBytes, compressMinBytes: opt.compressMinBytes },
  };
}

/** The method's request codec, decoding requests with JSON as text where sessiond can (see api/json-request.ts). */
function takingJsonText(method: MethodImplSpec["method"], codec: MessageCodec): MessageCodec {
  const decode = jsonTextRequestDecoder(method);
  return decode === undefined ? codec : { serialize: codec.serialize, parse: (data) => decode(data) ?? codec.parse(data) };
}

async function serve(
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  method: PreparedMethod,
  opt: Options,
  options: GrpcFastPathOptions,
): Promise<void> {
  const path = headers[":path"]!;
  const responseHeaders: Record<string, string | number | readonly string[]> = {};
  const head: CallHead = { headers, url: path, method: "POST" };
  const contextValues = options.contextValues?.(head, { setHeader: (name, value) => (responseHeaders[name.toLowerCase()] = value) }) ?? createContextValues();
  contextValues.set(kTakesEncodedResponse, true);
  const timeout = parseTimeout(clampGrpcTimeout(single(headers["grpc-timeout"])), opt.maxTimeoutMs);
  const responseHeader = new Headers();
  responseHeader.set("content-type", "application/grpc+proto");
  const responseTrailer = new Headers();
  responseTrailer.set("grpc-status", "0");
  const context = callContext({
    method: method.spec.method,
    service: method.spec.method.parent,
    requestMethod: "POST",
    protocolName: "grpc",
    timeoutMs: timeout.timeoutMs,
    shutdownSignal: opt.shutdownSignal,
    requestHeader: requestHeaders(headers),
    url: `${stream.session?.encrypted ? "https" : "http"}://${headers[":authority"] ?? ""}${path}`,
    responseHeader,
    responseTrailer,
    values: contextValues,
  });
  const requestHeader = context.requestHeader;
  const compression = compressionNegotiate(opt.acceptCompression, requestHeader.get("grpc-encoding"), requestHeader.get("grpc-accept-encoding"), "grpc-accept-encoding");
  if (compression.response) context.responseHeader.set("grpc-encoding", compression.response.name);
  // A client that resets the stream or drops the connection before the answer is out cancels the call.
  let answered = false;
  const cancel = () => {
    if (!answered) context.abort(clientCancelled());
  };
  stream.once("aborted", cancel);
  stream.once("close", cancel);
  stream.on("error", ignore);

  // Headers go out with the first message, or at the end: until then the implementation may still set them.
  const respond = () => {
    if (stream.headersSent) return;
    // Node adds the `date` header (formatted once a second).
    stream.respond({ ...responseHeaders, ...nodeHeaders(context.responseHeader), ":status": 200 }, { waitForTrailers: true });
  };
  const framed = (message: Message) => frame(attachedEncoding(message), message, method.output, method.limits, compression.response);
  let last: Framed | undefined;
  let failure: unknown;
  try {
    if (opt.requestGate !== undefined) await opt.requestGate(context);
    // As on the router, a bad timeout fails the call before the body is read.
    if (timeout.error) throw timeout.error;
    const body = await readRequest(stream, opt.readMaxBytes);
    const input = await decodeRequest(method.kindName, body, method.input, compression.request, opt.readMaxBytes, stream);
    if (method.spec.kind === "unary") {
      last = await framed(await invokeUnaryImplementation(method.spec, context, input, opt.interceptors));
    } else {
      const messages = transformInvokeImplementation(method.spec, context, opt.interceptors)(createAsyncIterable([input]));
      await sendStream(stream, messages[Symbol.asyncIterator](), framed, respond, context.signal);
    }
  } catch (error) {
    last = undefined;
    failure = error;
  }
  // As in Connect, the context ends with the call's error, and the error goes out in the trailers.
  context.abort(failure ?? COMPLETE);
  if (failure !== undefined) {
    setTrailerStatus(context.responseTrailer, failure instanceof ConnectError ? failure : new ConnectError("internal error", Code.Internal, undefined, undefined, failure));
  }
  if (stream.closed || stream.destroyed) return;
  answered = true;
  respond();
  stream.once("wantTrailers", () => {
    stream.sendTrailers(nodeHeaders(context.responseTrailer));
    // An answer sent before the request was read in full (one too large, say) ends the upload.
    if (!stream.readableEnded) setImmediate(() => !stream.closed && stream.close(NGHTTP2_NO_ERROR));
  });
  if (last === undefined) {
    stream.end();
  } else {
    stream.write(last.head);
    stream.end(last.data);
  }
}

/**
 * Writes a server stream's messages as the client takes them, asking for
 * each only once the last is written. A write that fails (the client went
 * away, or the call ended while the write waited) is thrown into the
 * implementation, as the router does, so that the call ends with that
 * error; a message that cannot be framed ends the implementation.
 */
async function sendStream(
  stream: http2.ServerHttp2Stream,
  messages: AsyncIterator<unknown>,
  framed: (message: Message) => Promise<Framed>,
  respond: () => void,
  signal: AbortSignal,
): Promise<void> {
  for (let r = await messages.next(); r.done !== true; r = await messages.next()) {
    let next: Framed;
    try {
      next = await framed(r.value as Message);
    } catch (error) {
      await messages.return?.();
      throw error;
    }
    respond();
    try {
      await writeFramed(stream, next, signal);
    } catch (error) {
      await messages.throw?.(error);
      throw error;
    }
  }
}

/**
 * Request headers as Connect's handlers see them (pseudo-headers left out),
 * with a `grpc-timeout` longer than a timer holds clamped as on the router.
 */
function requestHeaders(headers: http2.IncomingHttpHeaders): Headers {
  const result = new Headers();
  for (const key in headers) {
    if (key.charCodeAt(0) === 58 /* ":" */) continue;
    const value = headers[key];
    if (value === undefined) continue;
    if (typeof value === "string") result.append(key, key === "grpc-timeout" ? clampGrpcTimeout(value)! : value);
    else for (const v of value) result.append(key, v);
  }
  return result;
}

/** A header's value when it was sent once. */
function single(value: string | string[] | undefined): string | null {
  return typeof value === "string" ? value : (value?.join(", ") ?? null);
}

function nodeHeaders(headers: Headers): Record<string, string> {
  const result: Record<string, string> = {};
  headers.forEach((value, key) => {
    result[key] = value;
  });
  return result;
}

/** A stream's errors end the call through its 'aborted' and 'close' events; the error itself says nothing more. */
function ignore(): void {}
