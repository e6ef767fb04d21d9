import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { bearerToken, type TokenSource } from "./bearer-token.js";
import { createSessiondClient as createTransportClient, type SessiondClient, type TransportClientOptions } from "./sessiond-client.js";

/** The protocols sessiond serves on its one port. */
export type Protocol = "grpc" | "connect" | "grpc-web";

/**
 * TLS settings for an `https://` base URL, in PEM (strings or buffers).
 * Without them Node's bundled CA certificates verify the server.
 */
export interface ClientTlsOptions {
  /** CA certificates to trust instead of Node's bundled ones, e.g. a private CA. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Client certificate chain, for servers or proxies that require mutual TLS. */
  cert?: string | Buffer;
  /** The client certificate's private key. */
  key?: string | Buffer;
  /** Host name the server certificate must match when it differs from the URL's. */
  servername?: string;
}

/** Options of a Node client that builds its own transport. */
export interface NodeClientOptions {
  /** e.g. http://127.0.0.1:50051 */
  baseUrl: string;
  /** Default "grpc". */
  transport?: Protocol;
  /** Sent as `Authorization: Bearer <token>` on every call. */
  token?: TokenSource;
  /** HTTP/2 (cleartext or TLS) or HTTP/1.1; gRPC always uses HTTP/2. Default "2". */
  httpVersion?: "1.1" | "2";
  /** Binary Protobuf instead of JSON for the Connect protocol; default true. */
  useBinaryFormat?: boolean;
  /** Run on every call, before the token is added. */
  interceptors?: Interceptor[];
  /** Default timeout of unary calls, in milliseconds. */
  defaultTimeoutMs?: number;
  /** CA and client certificate for `https://` URLs. */
  tls?: ClientTlsOptions;
}

/**
 * A client for Node.js: give a base URL and a protocol, or a ready
 * transport. Browsers use `sessiond/client/web` instead, which never loads
 * Node modules.
 */
export function createSessiondClient(options: NodeClientOptions | TransportClientOptions): SessiondClient {
  if (!("baseUrl" in options)) return createTransportClient(options);
  return createTransportClient({ transport: nodeTransport(options) });
}

/** The connect-node transport described by `options`. */
export function nodeTransport(options: NodeClientOptions): Transport {
  const interceptors = [...(options.interceptors ?? []), ...(options.token === undefined ? [] : [bearerToken(options.token)])];
  const common = { baseUrl: options.baseUrl, interceptors, defaultTimeoutMs: options.defaultTimeoutMs, nodeOptions: options.tls && { ...options.tls } };
  const protocol = options.transport ?? "grpc";
  switch (protocol) {
    case "grpc":
      return createGrpcTransport(common);
    case "connect":
      return createConnectTransport({ ...common, httpVersion: options.httpVersion ?? "2", useBinaryFormat: options.useBinaryFormat ?? true });
    case "grpc-web":
      return createGrpcWebTransport({ ...common, httpVersion: options.httpVersion ?? "2" });
    default:
      throw new Error(`transport must be "grpc", "connect" or "grpc-web", not ${JSON.stringify(protocol)}`);
  }
}
