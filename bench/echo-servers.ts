import http2 from "node:http2";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { type Event, EventSchema } from "../gen/sessiond/v1/session_pb.js";
import { echoMethod } from "./echo-service.js";

/**
 * The echo floors the server is compared with, each the same
 * `bench.v1.EchoService/Echo` call in a process of its own: "connect" is
 * sessiond's own server (connect-node) with only the echo service; "grpc-js"
 * is `@grpc/grpc-js`'s server decoding and encoding the event with
 * protobuf-es as a real service would; "http2" is bare `node:http2`
 * answering a gRPC request with its own bytes, the floor of any server on
 * this runtime.
 */
export type EchoKind = "connect" | "grpc-js" | "http2";

/** The echo kinds, in the order the tables list them. */
export const ECHO_KINDS: readonly EchoKind[] = ["http2", "grpc-js", "connect"];

/** How the tables name each echo server. */
export const ECHO_NAMES: Record<EchoKind, string> = {
  http2: "bare node:http2 echo",
  "grpc-js": "@grpc/grpc-js server echo",
  connect: "connect-node echo",
};

const ECHO_PATH = `/${echoMethod.parent.typeName}/${echoMethod.name}`;

/** A listening echo server of a kind other than "connect". */
export interface EchoServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the bare `node:http2` echo on a loopback port. */
export async function startHttp2Echo(port: number): Promise<EchoServer> {
  const server = http2.createServer();
  server.on("stream", (stream, headers) => {
    if (headers[":path"] !== ECHO_PATH) {
      stream.respond({ ":status": 200, "content-type": "application/grpc+proto", "grpc-status": "12" }, { endStream: true });
      return;
    }
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      stream.respond({ ":status": 200, "content-type": "application/grpc+proto" }, { waitForTrailers: true });
      stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    });
    stream.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Starts the `@grpc/grpc-js` echo on a loopback port. */
export async function startGrpcJsEcho(port: number): Promise<EchoServer> {
  const server = new grpc.Server();
  server.addService(
    {
      Echo: {
        path: ECHO_PATH,
        requestStream: false,
        responseStream: false,
        requestDeserialize: (bytes: Buffer) => fromBinary(EventSchema, bytes),
        requestSerialize: (event: Event) => Buffer.from(toBinary(EventSchema, event)),
        responseDeserialize: (bytes: Buffer) => fromBinary(EventSchema, bytes),
        responseSerialize: (event: Event) => Buffer.from(toBinary(EventSchema, event)),
      },
    },
    {
      Echo: (call: grpc.ServerUnaryCall<Event, Event>, callback: grpc.sendUnaryData<Event>) => callback(null, call.request),
    },
  );
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
  );
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}
