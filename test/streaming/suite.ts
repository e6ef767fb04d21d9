import { afterAll, beforeAll, describe } from "vitest";
import { openStore } from "../../src/stores/open.js";
import type { Store } from "../../src/stores/store.js";
import { instrument, type StoreCounters } from "../support/instrumented-store.js";
import { startTestServer, type TestProtocol, type TestServer } from "../support/server.js";
import { testStores } from "../support/stores.js";
import { NO_POLL_MS, type StreamContext } from "./context.js";
import { crossProcessTests } from "./cross-process.js";
import { followTests } from "./follow.js";
import { lifecycleTests } from "./lifecycle.js";
import { replayTests } from "./replay.js";

/** How a store takes part. */
export interface StreamingOptions {
  /** Whether other processes can open the same store URL (not `memory:`). */
  shared: boolean;
  /** The client's wire protocol (default: see defaultTestProtocol). */
  protocol?: TestProtocol;
}

/**
 * Streaming replay and live tail through real servers on real ports. A store
 * joins with one line in its own test file, naming its entry in
 * `test/support/stores.ts`.
 */
export function streamingSuite(name: keyof typeof testStores, options: StreamingOptions): void {
  describe(`${name} store streaming${options.protocol ? ` over ${options.protocol}` : ""}`, () => {
    let cleanup: (() => Promise<void>) | undefined;
    let running: TestServer | undefined;
    let inner: Store | undefined;
    let instrumented: { store: Store; counters: StoreCounters } | undefined;
    let storeUrl = "";
    const need = <T>(value: T | undefined): T => {
      if (value === undefined) throw new Error("suite not started");
      return value;
    };
    const ctx: StreamContext = {
      get client() {
        return need(running).client;
      },
      get server() {
        return need(running).server;
      },
      get store() {
        return need(instrumented).store;
      },
      get counters() {
        return need(instrumented).counters;
      },
      get inner() {
        return need(inner);
      },
      get storeUrl() {
        return storeUrl;
      },
    };
    beforeAll(async () => {
      const isolated = await testStores[name]!();
      cleanup = isolated.cleanup;
      storeUrl = isolated.url;
      inner = await openStore(isolated.url);
      instrumented = instrument(inner, { keepOpen: true });
      running = await startTestServer(instrumented.store, { pollIntervalMs: NO_POLL_MS }, options.protocol);
    });
    afterAll(async () => {
      await running?.close();
      await inner?.close();
      await cleanup?.();
    });
    replayTests(ctx);
    followTests(ctx);
    lifecycleTests(ctx, options);
    if (options.shared) crossProcessTests(ctx);
  });
}
