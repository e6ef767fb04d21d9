import { type Client, createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { SessionService } from "../gen/sessiond/v1/session_service_pb.js";
import { openStore } from "../src/stores/open.js";
import { isolationName, testStores } from "../test/support/stores.js";
import type { BenchAdk } from "./adk.js";
import type { EchoKind } from "./echo-servers.js";
import type { BenchOptions } from "./options.js";
import type { BenchPostgres } from "./postgres.js";
import type { ResultRow } from "./report.js";
import type { ServerProcess } from "./server-process.js";

/** The sessiond store a run measures. */
export interface BenchStore {
  /** Name shown in the results, e.g. "sqlite". */
  name: string;
  url: string;
  /** Whether two server processes see the same data (false for memory:). */
  shared: boolean;
  cleanup(): Promise<void>;
}

/**
 * Resolves `--store` values: a name of test/support/stores.ts gets an
 * isolated place (temporary file, schema, key prefix) removed at the end;
 * "sqlite:" alone is the same as "sqlite"; any other URL is used as given.
 */
export async function resolveStore(spec: string): Promise<BenchStore> {
  const name = spec === "sqlite:" ? "sqlite" : spec;
  let store: BenchStore;
  if (!name.includes(":")) {
    const make = testStores[name];
    if (!make) {
      throw new Error(`store ${JSON.stringify(name)} is not available in this build; known: ${Object.keys(testStores).join(", ")} (or pass a URL)`);
    }
    const isolated = await make();
    store = { name, url: isolated.url, shared: !isolated.url.startsWith("memory:"), cleanup: isolated.cleanup };
  } else {
    const scheme = name.slice(0, name.indexOf(":"));
    store = { name: scheme, url: name, shared: scheme !== "memory", cleanup: async () => {} };
  }
  // Fails fast on a bad URL or an unreachable backend, and creates the schema once.
  try {
    await (await openStore(store.url)).close();
  } catch (error) {
    await store.cleanup();
    throw new Error(`store ${spec}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return store;
}

/** What a workload gets. */
export interface WorkloadContext {
  readonly options: BenchOptions;
  readonly store: BenchStore;
  /** The raw-driver and ADK baselines on PostgreSQL, opened on first use. */
  baselines(): Promise<{ pg: BenchPostgres; adk: BenchAdk }>;
  /** Starts a server process over `storeUrl` (default: the store under test). */
  server(label: string, storeUrl?: string): Promise<ServerProcess>;
  /** Starts an echo server process of the given kind (default connect-node). */
  echoServer(label: string, kind?: EchoKind): Promise<ServerProcess>;
  log(message: string): void;
}

/** A workload: measures, and returns its result rows. */
export type Workload = (ctx: WorkloadContext) => Promise<ResultRow[]>;

/** A gRPC (HTTP/2) transport with a connection of its own. */
export function grpcTransport(url: string): Transport {
  return createGrpcTransport({ baseUrl: url });
}

/** A SessionService client over {@link grpcTransport}. */
export function sessionClient(url: string): Client<typeof SessionService> {
  return createClient(SessionService, grpcTransport(url));
}

/** A name unique to this run, for apps, sessions and schemas. */
export function benchName(prefix: string): string {
  return isolationName(prefix);
}

/** Warmup calls for a loop of `iterations`. */
export function warmupFor(iterations: number): number {
  return Math.max(3, Math.ceil(iterations / 20));
}
