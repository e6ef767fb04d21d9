import type http2 from "node:http2";
import type { Message } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  compressedFlag,
  createAsyncIterable,
  envelopeDecompress,
  pipe,
  type Serialization,
  transformDecompressEnvelope,
  transformParseEnvelope,
  transformSplitEnvelope,
} from "@connectrpc/connect/protocol";
import { clientCancelled } from "./call-outcome.js";

/** Reads and writes gRPC length-prefixed messages on a `node:http2` stream, for the fast path. */

type Compression = Parameters<typeof envelopeDecompress>[1];

/** How the messages of one call are decoded and encoded: Connect's serialization for the method, limits included. */
export type MessageCodec = Serialization<Message>;

/** The request body, or as much of it as shows the envelope is too large; rejects when the client goes away. */
export function readRequest(stream: http2.ServerHttp2Stream, readMaxBytes: number): Promise<Uint8Array> {
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
 * The one request message of a unary or server-streaming call (`kind`, as
 * Connect's errors name it). A body that is not exactly one well-formed
 * envelope within the limits goes through Connect's own reader, so that it
 * fails with the same error as on the router.
 */
export async function decodeRequest(
  kind: "unary" | "server-streaming",
  body: Uint8Array,
  codec: MessageCodec,
  compression: Compression,
  readMaxBytes: number,
  stream: http2.ServerHttp2Stream,
): Promise<Message> {
  if (body.byteLength >= 5) {
    const flags = body[0]!;
    const length = ((body[1]! << 24) | (body[2]! << 16) | (body[3]! << 8) | body[4]!) >>> 0;
    if (length <= readMaxBytes && body.byteLength === 5 + length && (flags === 0 || (flags === compressedFlag && compression !== null))) {
      const data = flags === 0 ? body.subarray(5) : (await envelopeDecompress({ flags, data: body.subarray(5) }, compression, readMaxBytes)).data;
      return codec.parse(data);
    }
  }
  // Node ends a reset stream's readable side just before it reports the reset: a
  // cut-off body is the client's cancel, not a malformed request, if the reset follows.
  await new Promise((resolve) => setImmediate(resolve));
  if (stream.aborted) throw clientCancelled();
  const messages: Message[] = [];
  const it = pipe(
    createAsyncIterable([body]),
    transformSplitEnvelope(readMaxBytes),
    transformDecompressEnvelope(compression, readMaxBytes),
    transformParseEnvelope(codec),
  );
  for await (const message of it) messages.push(message);
  if (messages.length === 0) throw new ConnectError(`protocol error: missing input message for ${kind} method`, Code.Unimplemented);
  if (messages.length > 1) throw new ConnectError(`protocol error: received extra input message for ${kind} method`, Code.Unimplemented);
  return messages[0]!;
}

/** What a response message is written as: the 5-byte prefix and the (possibly compressed) message. */
export interface Framed {
  head: Buffer;
  data: Uint8Array;
}

/**
 * A response message framed for the wire: its attached encoding when it has
 * one (checked against the write limit, as the serializer checks its own
 * output), else its serialization; compressed when it is large enough.
 */
export async function frame(
  encoding: Uint8Array | undefined,
  message: Message,
  codec: MessageCodec,
  limits: { writeMaxBytes: number; compressMinBytes: number },
  compression: Compression,
): Promise<Framed> {
  if (encoding !== undefined && encoding.byteLength > limits.writeMaxBytes) {
    throw new ConnectError(`message size ${encoding.byteLength} is larger than configured writeMaxBytes ${limits.writeMaxBytes}`, Code.ResourceExhausted);
  }
  let data = encoding ?? codec.serialize(message);
  let flags = 0;
  if (compression && data.byteLength >= limits.compressMinBytes) {
    data = await compression.compress(data);
    flags = compressedFlag;
  }
  const head = Buffer.allocUnsafe(5);
  head[0] = flags;
  head.writeUInt32BE(data.byteLength, 1);
  return { head, data };
}

/**
 * Writes a framed message and resolves once the stream takes more (at once,
 * or on 'drain'). Rejects as CANCELED when the stream closes first, and with
 * the call's reason when `signal` aborts while the write waits (a deadline
 * passing while the client reads nothing, say).
 */
export function writeFramed(stream: http2.ServerHttp2Stream, { head, data }: Framed, signal: AbortSignal): Promise<void> {
  if (stream.destroyed || stream.closed) return Promise.reject(clientCancelled());
  stream.write(head);
  if (stream.write(data)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const settle = (error?: unknown) => {
      stream.off("drain", onDrain);
      stream.off("close", onClose);
      signal.removeEventListener("abort", onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onDrain = () => settle();
    const onClose = () => settle(clientCancelled());
    const onAbort = () => settle(signal.reason ?? clientCancelled());
    stream.once("drain", onDrain);
    stream.once("close", onClose);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}
