import type { Client } from "@connectrpc/connect";
import { afterAll, beforeAll } from "vitest";
import type { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import type { ServerOptions } from "../../src/server.js";
import { openStore } from "../../src/stores/open.js";
import type { Store } from "../../src/stores/store.js";
import { startTestServer, type TestProtocol, type TestServer } from "./server.js";
import { testStores } from "./stores.js";

/** The running server of {@link useStoreServer}: a client, the store itself and the base URL. */
export interface StoreServer {
  readonly client: Client<typeof SessionService>;
  readonly store: Store;
  readonly url: string;
}

/**
 * Within a describe block: before its tests, opens an isolated store of
 * the named kind and starts a real server over it; afterwards stops the
 * server (which closes the store) and removes the isolated data.
 */
export function useStoreServer(name: keyof typeof testStores, protocol: TestProtocol, options: Partial<ServerOptions> = {}): StoreServer {
  let cleanup: (() => Promise<void>) | undefined;
  let running: TestServer | undefined;
  let store: Store | undefined;
  beforeAll(async () => {
    const isolated = await testStores[name]!();
    cleanup = isolated.cleanup;
    store = await openStore(isolated.url);
    running = await startTestServer(store, options, protocol);
  });
  afterAll(async () => {
    await running?.close();
    await cleanup?.();
  });
  const started = () => {
    if (!running || !store) throw new Error("server not started");
    return { running, store };
  };
  return {
    get client() {
      return started().running.client;
    },
    get store() {
      return started().store;
    },
    get url() {
      return started().running.server.url;
    },
  };
}
