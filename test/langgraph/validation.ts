import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import { SessiondSaver } from "../../src/langgraph/index.js";
import { type ServeProcess, spawnServe } from "../support/cli-process.js";
import { uniqueName } from "../support/server.js";
import { type IsolatedStore, testStores } from "../support/stores.js";

/**
 * Runs LangGraph's own checkpointer conformance suite
 * (@langchain/langgraph-checkpoint-validation) against SessiondSaver on a
 * `sessiond serve` process over `storeName`. The suite is written against
 * Jest-style globals, so they are provided before it is loaded; each
 * checkpointer it asks for gets an app of its own, deleted afterwards.
 */
export async function validateOn(storeName: string): Promise<void> {
  Object.assign(globalThis, { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach });
  const { validate } = await import("@langchain/langgraph-checkpoint-validation");
  let store: IsolatedStore;
  let server: ServeProcess;
  describe(`LangGraph checkpointer validation on the ${storeName} store`, () => {
    validate<SessiondSaver>({
      checkpointerName: `SessiondSaver over ${storeName}`,
      beforeAllTimeout: 60_000,
      async beforeAll() {
        store = await testStores[storeName]!();
        server = await spawnServe(["--store", store.url, "--no-ui"]);
      },
      async afterAll() {
        await server?.stop();
        await store?.cleanup();
      },
      createCheckpointer: () => new SessiondSaver(server.url, { appName: uniqueName("langgraph-validation") }),
      async destroyCheckpointer(saver) {
        const rpc = createClient(SessionService, createGrpcTransport({ baseUrl: server.url }));
        await rpc.deleteAppSessions({ appName: saver.appName, purgeState: true });
        await saver.close();
      },
    });
  });
}
