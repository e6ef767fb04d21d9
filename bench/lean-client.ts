import http2 from "node:http2";
import { type DescMessage, type MessageInitShape, create, toBinary } from "@bufbuild/protobuf";

/**
 * A gRPC client with as little of its own cost as a client can have, so the
 * latency it measures is the server's and the transport's: one HTTP/2
 * connection on `node:http2`, requests framed before the timer starts, and
 * responses handed back as the message bytes (streamed events are counted by
 * their wire tags, never decoded).
 */
export interface LeanClient {
  /** A unary call: sends a framed request, resolves with the response message's bytes. */
  unary(path: string, frame: Uint8Array): Promise<Uint8Array>;
  /** A server-streaming call: calls `onMessage` with each response message's bytes. */
  serverStream(path: string, frame: Uint8Array, onMessage: (message: Uint8Array) => void): Promise<void>;
  close(): void;
}

/** The gRPC path of a method, e.g. `/sessiond.v1.SessionService/AppendEvent`. */
export function grpcPath(service: { typeName: string }, method: string): string {
  return `/${service.typeName}/${method}`;
}

/** `message` encoded and framed as one uncompressed gRPC message. */
export function frameMessage<D extends DescMessage>(schema: D, message: MessageInitShape<D>): Uint8Array {
  return frameBytes(toBinary(schema, create(schema, message)));
}

/** Bytes framed as one uncompressed gRPC message. */
export function frameBytes(bytes: Uint8Array): Uint8Array {
  const frame = Buffer.allocUnsafe(5 + bytes.length);
  frame[0] = 0;
  frame.writeUInt32BE(bytes.length, 1);
  frame.set(bytes, 5);
  return frame;
}

const REQUEST_HEADERS = {
  [http2.constants.HTTP2_HEADER_METHOD]: "POST",
  [http2.constants.HTTP2_HEADER_CONTENT_TYPE]: "application/grpc+proto",
  te: "trailers",
};

/** Opens a connection to `url` (http://host:port); it is made on the first call. */
export function leanClient(url: string): LeanClient {
  let session: http2.ClientHttp2Session | undefined;
  const connection = () => {
    if (session === undefined || session.closed || session.destroyed) {
      session = http2.connect(url);
      session.on("error", () => {});
    }
    return session;
  };
  const call = (path: string, frame: Uint8Array, onMessage: (message: Uint8Array) => void) =>
    new Promise<void>((resolve, reject) => {
      const stream = connection().request({ ...REQUEST_HEADERS, [http2.constants.HTTP2_HEADER_PATH]: path });
      let status: string | undefined;
      let message: string | undefined;
      const readStatus = (headers: http2.IncomingHttpHeaders) => {
        if (headers["grpc-status"] !== undefined) {
          status = String(headers["grpc-status"]);
          message = headers["grpc-message"] === undefined ? undefined : decodeURIComponent(String(headers["grpc-message"]));
        }
      };
      stream.on("response", readStatus);
      stream.on("trailers", readStatus);
      // A message's chunks are kept until it is complete and joined once: joining at every chunk would copy
      // a large message over and over, and the client would take CPU the server needs on a small machine.
      const chunks: Buffer[] = [];
      let buffered = 0;
      let needed = 5;
      stream.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        buffered += chunk.length;
        if (buffered < needed) return;
        let buf = chunks.length === 1 ? chunk : Buffer.concat(chunks, buffered);
        needed = 5;
        while (buf.length >= 5) {
          const length = buf.readUInt32BE(1);
          if (buf.length < 5 + length) {
            needed = 5 + length;
            break;
          }
          onMessage(buf.subarray(5, 5 + length));
          buf = buf.subarray(5 + length);
        }
        chunks.length = 0;
        if (buf.length > 0) chunks.push(buf);
        buffered = buf.length;
      });
      stream.on("error", reject);
      stream.on("close", () => {
        if (status === "0") resolve();
        else reject(new Error(`${path}: grpc-status ${status ?? "missing"}${message ? `: ${message}` : ""} (rst ${stream.rstCode})`));
      });
      stream.end(frame);
    });
  return {
    async unary(path, frame) {
      let response: Uint8Array | undefined;
      await call(path, frame, (m) => (response = m));
      if (response === undefined) throw new Error(`${path}: no response message`);
      return response;
    },
    serverStream: call,
    close() {
      session?.close();
    },
  };
}

/**
 * How many times field `field` (length-delimited) occurs at the top level of
 * a protobuf message, read from its tags alone; other fields are skipped.
 */
export function countField(message: Uint8Array, field: number): number {
  let count = 0;
  forEachField(message, (number, start, end) => {
    if (number === field && start >= 0) count++;
  });
  return count;
}

/** The bytes of the first length-delimited field `field` at the top level, if any. */
export function subMessage(message: Uint8Array, field: number): Uint8Array | undefined {
  let found: Uint8Array | undefined;
  forEachField(message, (number, start, end) => {
    if (found === undefined && number === field && start >= 0) found = message.subarray(start, end);
  });
  return found;
}

/** Walks the top-level fields; length-delimited ones report their payload's range, others (-1, -1). */
function forEachField(bytes: Uint8Array, visit: (field: number, start: number, end: number) => void): void {
  let pos = 0;
  const varint = () => {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (pos >= bytes.length) throw new Error("truncated varint");
      const b = bytes[pos++]!;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
      shift += 7;
    }
  };
  while (pos < bytes.length) {
    const tag = varint();
    const wireType = tag & 7;
    const field = Math.floor(tag / 8);
    if (wireType === 0) {
      varint();
      visit(field, -1, -1);
    } else if (wireType === 1) {
      pos += 8;
      visit(field, -1, -1);
    } else if (wireType === 5) {
      pos += 4;
      visit(field, -1, -1);
    } else if (wireType === 2) {
      const length = varint();
      visit(field, pos, pos + length);
      pos += length;
    } else {
      throw new Error(`unsupported wire type ${wireType}`);
    }
  }
  if (pos !== bytes.length) throw new Error("truncated message");
}
