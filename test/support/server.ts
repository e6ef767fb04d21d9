import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import { type ServerOptions, type SessiondServer, startServer } from "../../src/server.js";
import type { Store } from "../../src/stores/store.js";

/** A server on a free loopback port with a client pointed at it (gRPC over HTTP/2 unless told). */
export interface TestServer {
  server: SessiondServer;
  client: Client<typeof SessionService>;
  close(): Promise<void>;
}

/**
 * The wire protocols a test client can speak. Binary responses and JSON
 * responses are encoded by different server code, so suites run over both.
 */
export type TestProtocol = "grpc" | "grpc-web" | "connect-proto" | "connect-json";

const transports = {
  grpc: (baseUrl: string) => createGrpcTransport({ baseUrl }),
  "grpc-web": (baseUrl: string) => createGrpcWebTransport({ baseUrl, httpVersion: "2" }),
  "connect-proto": (baseUrl: string) => createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true }),
  "connect-json": (baseUrl: string) => createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: false }),
};

/** The protocol of test clients: $SESSIOND_TEST_PROTOCOL, or gRPC. */
export function defaultTestProtocol(): TestProtocol {
  const name = process.env.SESSIOND_TEST_PROTOCOL ?? "grpc";
  if (!(name in transports)) throw new Error(`SESSIOND_TEST_PROTOCOL must be one of ${Object.keys(transports).join(", ")}, not ${name}`);
  return name as TestProtocol;
}

/**
 * Whether test servers serve gRPC unary calls on the fast path:
 * $SESSIOND_GRPC_FAST_PATH=false runs a suite over connect-node alone (the
 * CLI reads the same variable, so child servers follow it too).
 */
export function testGrpcFastPath(): boolean {
  return !/^(false|0|no)$/i.test(process.env.SESSIOND_GRPC_FAST_PATH ?? "");
}

/** Starts a real server over `store` on 127.0.0.1 and a client for it. */
export async function startTestServer(
  store: Store,
  options: Partial<ServerOptions> = {},
  protocol: TestProtocol = defaultTestProtocol(),
): Promise<TestServer> {
  const server = await startServer({ store, host: "127.0.0.1", port: 0, grpcFastPath: testGrpcFastPath(), ...options });
  const client = createClient(SessionService, transports[protocol](server.url));
  return { server, client, close: () => server.close(2000) };
}

/** A name unique to this run, for app names and ids that must not collide between tests. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
