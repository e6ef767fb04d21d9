import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import type { TokenSource } from "../bearer-token.js";
import { createSessiondClient, type SessiondClient } from "../sessiond-client.js";

/** A client plus the means to drop the connection it opened, for the framework adapters. */
export interface Connection {
  client: SessiondClient;
  /** Closes the HTTP/2 connection this opened (none when given a transport); a later call opens a new one. */
  close(): void;
}

/**
 * A client for `target`: a base URL (gRPC over HTTP/2, on a connection that
 * `close` ends, so short-lived adapters do not leave sockets open) or any
 * Connect transport, which stays the caller's to manage.
 */
export function openConnection(target: string | Transport, token?: TokenSource): Connection {
  if (typeof target !== "string") return { client: createSessiondClient({ transport: target, token }), close: () => {} };
  const sessionManager = new Http2SessionManager(target);
  const transport = createGrpcTransport({ baseUrl: target, sessionManager });
  return { client: createSessiondClient({ transport, token }), close: () => sessionManager.abort() };
}

/** Whether a thrown value is the server's NOT_FOUND. */
export function isNotFound(error: unknown): boolean {
  return error instanceof ConnectError && error.code === Code.NotFound;
}

/** Whether a thrown value is the server's ALREADY_EXISTS. */
export function isAlreadyExists(error: unknown): boolean {
  return error instanceof ConnectError && error.code === Code.AlreadyExists;
}
