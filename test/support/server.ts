import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import { type ServerOptions, type SessiondServer, startServer } from "../../src/server.js";
import type { Store } from "../../src/stores/store.js";

/** A server on a free loopback port with a gRPC (HTTP/2) client pointed at it. */
export interface TestServer {
  server: SessiondServer;
  client: Client<typeof SessionService>;
  close(): Promise<void>;
}

/** Starts a real server over `store` on 127.0.0.1 and a client for it. */
export async function startTestServer(store: Store, options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const server = await startServer({ store, host: "127.0.0.1", port: 0, ...options });
  const client = createClient(SessionService, createGrpcTransport({ baseUrl: server.url }));
  return { server, client, close: () => server.close(2000) };
}

/** A name unique to this run, for app names and ids that must not collide between tests. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
