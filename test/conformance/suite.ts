import { afterAll, beforeAll, describe } from "vitest";
import type { Store } from "../../src/stores/store.js";
import { startTestServer, type TestServer } from "../support/server.js";
import type { SuiteContext } from "./context.js";
import { concurrencyTests } from "./concurrency.js";
import { errorTests } from "./errors.js";
import { eventTests } from "./events.js";
import { listingTests } from "./listing.js";
import { readTests } from "./reads.js";
import { sessionTests } from "./sessions.js";
import { stateTests } from "./state.js";

/** How to get a fresh store for one run of the suite, and how to clean up after it. */
export interface StoreFixture {
  open(): Promise<Store>;
  cleanup?(): Promise<void>;
}

/**
 * The contract every store meets, checked through a real server on a real
 * port. A store joins with one call in its own test file.
 */
export function conformance(name: string, fixture: StoreFixture): void {
  describe(`${name} store`, () => {
    let running: TestServer | undefined;
    const ctx: SuiteContext = {
      get client() {
        if (!running) throw new Error("server not started");
        return running.client;
      },
    };
    beforeAll(async () => {
      running = await startTestServer(await fixture.open());
    });
    afterAll(async () => {
      await running?.close();
      await fixture.cleanup?.();
    });
    sessionTests(ctx);
    eventTests(ctx);
    stateTests(ctx);
    readTests(ctx);
    listingTests(ctx);
    errorTests(ctx);
    concurrencyTests(ctx);
  });
}
