import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import { spawnServe } from "./cli-process.js";

/** A server running in a separate OS process, with a client for it. */
export interface ChildServer {
  url: string;
  client: Client<typeof SessionService>;
  /** Drains it with SIGTERM and waits for the process to exit. */
  close(): Promise<void>;
}

/** Runs `sessiond serve` on `storeUrl` in its own process, for cross-process tests. */
export async function startChildServer(storeUrl: string, pollIntervalMs?: number): Promise<ChildServer> {
  const poll = pollIntervalMs === undefined ? [] : ["--poll-interval-ms", String(pollIntervalMs)];
  const server = await spawnServe(["--store", storeUrl, "--no-ui", ...poll]);
  return {
    url: server.url,
    client: createClient(SessionService, createGrpcTransport({ baseUrl: server.url })),
    close: async () => {
      await server.stop();
    },
  };
}
