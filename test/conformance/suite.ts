import { afterAll, beforeAll, describe } from "vitest";
import { openStore } from "../../src/stores/open.js";
import type { Store } from "../../src/stores/store.js";
import { defaultTestProtocol, startTestServer, type TestProtocol, type TestServer } from "../support/server.js";
import { testStores } from "../support/stores.js";
import type { SuiteContext } from "./context.js";
import { appTests } from "./apps.js";
import { concurrencyTests } from "./concurrency.js";
import { errorTests } from "./errors.js";
import { eventTests } from "./events.js";
import { listingTests } from "./listing.js";
import { readTests } from "./reads.js";
import { restoreTests } from "./restore.js";
import { sessionTests } from "./sessions.js";
import { stateTests } from "./state.js";

/**
 * The contract every store meets, checked through a real server on a real
 * port. A store joins with one line in its own test file, naming its entry
 * in `test/support/stores.ts`.
 */
export function conformance(name: keyof typeof testStores, protocol: TestProtocol = defaultTestProtocol()): void {
  describe(`${name} store over ${protocol}`, () => {
    let cleanup: (() => Promise<void>) | undefined;
    let running: TestServer | undefined;
    let store: Store | undefined;
    const ctx: SuiteContext = {
      protocol,
      get client() {
        if (!running) throw new Error("server not started");
        return running.client;
      },
      get store() {
        if (!store) throw new Error("store not opened");
        return store;
      },
    };
    beforeAll(async () => {
      const isolated = await testStores[name]!();
      cleanup = isolated.cleanup;
      store = await openStore(isolated.url);
      running = await startTestServer(store, {}, protocol);
    });
    afterAll(async () => {
      await running?.close();
      await cleanup?.();
    });
    sessionTests(ctx);
    eventTests(ctx);
    stateTests(ctx);
    readTests(ctx);
    listingTests(ctx);
    appTests(ctx);
    errorTests(ctx);
    concurrencyTests(ctx);
    restoreTests(ctx);
  });
}
