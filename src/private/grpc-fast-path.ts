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
  compressedFlag,
  compressionNegotiate,
  createAsyncIterable,
  createMethodSerializationLookup,
  envelopeDecompress,
  invokeUnaryImplementation,
  pipe,
  transformDecompressEnvelope,
  transformParseEnvelope,
  transformSplitEnvelope,
  type UniversalHandlerOptions,
  validateUniversalHandlerOptions,
} from "@connectrpc/connect/protocol";
import { parseTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { attachedFrame, FRAME_ROOM, kTakesEncodedResponse } from "../api/encoded-response.js";
import { clampGrpcTimeout } from "./timeout-clamp.js";
import { clientCancelled, isClientGone } from "./call-outcome.js";
import { unaryContext } from "./unary-context.js";

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

/** What {@link grpcFastPath} needs: the router's own options and the unary methods it may serve. */
export interface GrpcFastPathOptions {
  /** The options the Connect router was made with, interceptors and request gate included. */
  handlerOptions: Partial<UniversalHandlerOptions>;
  /** Unary methods to serve; every other path goes to the router. */
  unary: readonly MethodImplSpec[];
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
 * gRPC (binary, HTTP/2) unary calls straight from the `node:http2` stream to
 * the method's implementation: one buffer for the request, one for the
 * response, no async-iterable pipeline and no compatibility request and
 * response objects. Everything else that makes a call what it is stays
 * Connect's: the handler context (deadline, shutdown and cancel signals),
 * the request gate, the interceptors, the serialization limits, compression
 * negotiation and the trailer encoding of errors, so a call ends the same on
 * either path. Requests this path does not take (other protocols, content
 * types, encodings it does not know, browsers' CORS requests, streaming
 * methods) go on to the router.
 */
export function grpcFastPath(options: GrpcFastPathOptions): StreamTaker {
  const opt = validateUniversalHandlerOptions(options.handlerOptions);
  const methods = new Map(options.unary.map((spec) => [`/${spec.method.parent.typeName}/${spec.method.name}`, prepare(spec, opt)]));
  const known = new Set(opt.acceptCompression.map((c) => c.name));
  return (stream, headers) => {
    if (headers[":method"] !== "POST" || headers.origin !== undefined) return false;
    const contentType = headers["content-type"];
    if (contentType === undefined || !CONTENT_TYPES.has(contentType)) return false;
    const encoding = headers["grpc-encoding"];
    if (encoding !== undefined && (typeof encoding !== "string" || (encoding !== "identity" && !known.has(encoding)))) return false;
    const method = methods.get(headers[":path"] ?? "");
    if (method === undefined) return false;
    serveUnary(stream, headers, method, opt, options).catch((error: unknown) => {
      if (!isClientGone(error)) options.onWriteError(error, method.procedure);
    });
    return true;
  };
}

type Options = ReturnType<typeof validateUniversalHandlerOptions>;

interface PreparedMethod {
  readonly spec: MethodImplSpec & { kind: "unary" };
  readonly procedure: string;
  readonly serialization: ReturnType<typeof createMethodSerializationLookup>;
}

function prepare(spec: MethodImplSpec, opt: Options): PreparedMethod {
  if (spec.kind !== "unary") throw new Error(`${spec.method.name} is not unary`);
  return {
    spec,
    procedure: `${spec.method.parent.typeName}/${spec.method.name}`,
    serialization: createMethodSerializationLookup(spec.method, opt.binaryOptions, opt.jsonOptions, opt),
  };
}

async function serveUnary(
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
  const context = unaryContext({
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

  let body: Uint8Array | undefined;
  let failure: unknown;
  try {
    if (opt.requestGate !== undefined) await opt.requestGate(context);
    try {
      // As on the router, a bad timeout fails the call before the body is read.
      if (timeout.error) throw timeout.error;
      body = await readRequest(stream, opt.readMaxBytes);
      const input = (await decodeRequest(body, method, compression.request, opt.readMaxBytes, stream)) as Message;
      const output = await invokeUnaryImplementation(method.spec, context, input, opt.interceptors);
      // A response that carries its encoding is sent from it, framed in the room before it.
      const frame = attachedFrame(output);
      if (frame) checkWriteMaxBytes(frame.byteLength - FRAME_ROOM, opt.writeMaxBytes);
      body = frame ? frame.subarray(FRAME_ROOM) : method.serialization.getO(true).serialize(output);
      if (compression.response && body.byteLength >= opt.compressMinBytes) {
        body = envelope(compressedFlag, await compression.response.compress(body));
      } else {
        body = frame ? envelopeInPlace(frame) : envelope(0, body);
      }
    } catch (error) {
      body = undefined;
      throw error;
    }
  } catch (error) {
    failure = error;
  }
  // As in Connect, the context ends with the call's error, and the error goes out in the trailers.
  context.abort(failure ?? COMPLETE);
  if (failure !== undefined) {
    setTrailerStatus(context.responseTrailer, failure instanceof ConnectError ? failure : new ConnectError("internal error", Code.Internal, undefined, undefined, failure));
  }
  if (stream.closed || stream.destroyed) return;
  answered = true;
  // Node adds the `date` header (formatted once a second).
  stream.respond({ ...responseHeaders, ...nodeHeaders(context.responseHeader), ":status": 200 }, { waitForTrailers: true });
  stream.once("wantTrailers", () => {
    stream.sendTrailers(nodeHeaders(context.responseTrailer));
    // An answer sent before the request was read in full (one too large, say) ends the upload.
    if (!stream.readableEnded) setImmediate(() => !stream.closed && stream.close(NGHTTP2_NO_ERROR));
  });
  stream.end(body);
}

/** The request body, or as much of it as shows the envelope is too large; rejects when the client goes away. */
function readRequest(stream: http2.ServerHttp2Stream, readMaxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const done = () => {
      stream.off("data", onData);
      stream.off("end", done);
      stream.off("close", onClose);
      stream.off("aborted", onClose);
      // A reset stream ends its readable side too; what arrived is not the whole request.
      if (stream.aborted) reject(clientCancelled());
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length));
    };
    const onClose = () => reject(clientCancelled());
    let checked = false;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (checked || length < 5) return;
      checked = true;
      // A declared size over the limit is an error already; the rest need not be read.
      if ((chunks.length === 1 ? chunk : Buffer.concat(chunks, length)).readUInt32BE(1) > readMaxBytes) {
        stream.pause();
        done();
      }
    };
    stream.on("data", onData);
    stream.once("end", done);
    stream.once("close", onClose);
    stream.once("aborted", onClose);
  });
}

/**
 * The one request message. A body that is not exactly one well-formed
 * envelope within the limits goes through Connect's own reader, so that it
 * fails with the same error as on the router.
 */
async function decodeRequest(
  body: Uint8Array,
  method: PreparedMethod,
  compression: Parameters<typeof envelopeDecompress>[1],
  readMaxBytes: number,
  stream: http2.ServerHttp2Stream,
): Promise<unknown> {
  const parser = method.serialization.getI(true);
  if (body.byteLength >= 5) {
    const flags = body[0]!;
    const length = ((body[1]! << 24) | (body[2]! << 16) | (body[3]! << 8) | body[4]!) >>> 0;
    if (length <= readMaxBytes && body.byteLength === 5 + length && (flags === 0 || (flags === compressedFlag && compression !== null))) {
      const data = flags === 0 ? body.subarray(5) : (await envelopeDecompress({ flags, data: body.subarray(5) }, compression, readMaxBytes)).data;
      return parser.parse(data);
    }
  }
  // Node ends a reset stream's readable side just before it reports the reset: a
  // cut-off body is the client's cancel, not a malformed request, if the reset follows.
  await new Promise((resolve) => setImmediate(resolve));
  if (stream.aborted) throw clientCancelled();
  const messages: unknown[] = [];
  const it = pipe(
    createAsyncIterable([body]),
    transformSplitEnvelope(readMaxBytes),
    transformDecompressEnvelope(compression, readMaxBytes),
    transformParseEnvelope(parser),
  );
  for await (const message of it) messages.push(message);
  if (messages.length === 0) throw new ConnectError("protocol error: missing input message for unary method", Code.Unimplemented);
  if (messages.length > 1) throw new ConnectError("protocol error: received extra input message for unary method", Code.Unimplemented);
  return messages[0];
}

function envelope(flags: number, data: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + data.byteLength);
  frame[0] = flags;
  frame.writeUInt32BE(data.byteLength, 1);
  frame.set(data, 5);
  return frame;
}

/** An uncompressed envelope written into an attached frame's room. */
function envelopeInPlace(frame: Uint8Array): Buffer {
  const envelope = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  envelope[0] = 0;
  envelope.writeUInt32BE(frame.byteLength - FRAME_ROOM, 1);
  return envelope;
}

/** The write limit Connect's serialization enforces, for responses that skip it. */
function checkWriteMaxBytes(size: number, writeMaxBytes: number): void {
  if (size > writeMaxBytes) {
    throw new ConnectError(`message size ${size} is larger than configured writeMaxBytes ${writeMaxBytes}`, Code.ResourceExhausted);
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
