import { afterAll, beforeAll, describe } from "vitest";
import { openStore } from "../../src/stores/open.js";
import type { Store } from "../../src/stores/store.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { testStores } from "../support/stores.js";
import type { HostileContext } from "./context.js";
import { importFileTests } from "./import-file.js";
import { jsonValueTests } from "./json-values.js";
import { prototypeKeyTests } from "./prototype-keys.js";
import { textTests } from "./text.js";
import { timestampTests } from "./timestamps.js";

/**
 * Hostile input through a real server on a real port: every value sessiond
 * accepts can be read back from every store over every protocol, and every
 * value it rejects is rejected with INVALID_ARGUMENT before anything is written.
 */
export function hostileInput(name: keyof typeof testStores): void {
  describe(`hostile input on the ${name} store`, () => {
    let cleanup: (() => Promise<void>) | undefined;
    let running: TestServer | undefined;
    let store: Store | undefined;
    const ctx: HostileContext = {
      get client() {
        if (!running) throw new Error("server not started");
        return running.client;
      },
      get store() {
        if (!store) throw new Error("store not opened");
        return store;
      },
      get url() {
        if (!running) throw new Error("server not started");
        return running.server.url;
      },
    };
    beforeAll(async () => {
      const isolated = await testStores[name]!();
      cleanup = isolated.cleanup;
      store = await openStore(isolated.url);
      running = await startTestServer(store, {}, "grpc");
    });
    afterAll(async () => {
      await running?.close();
      await cleanup?.();
    });
    timestampTests(ctx);
    jsonValueTests(ctx);
    textTests(ctx);
    prototypeKeyTests(ctx);
    importFileTests(ctx);
  });
}
