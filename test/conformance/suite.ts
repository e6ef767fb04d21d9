import { describe } from "vitest";
import type { ServerOptions } from "../../src/server.js";
import { defaultTestProtocol, type TestProtocol, testGrpcFastPath } from "../support/server.js";
import { useStoreServer } from "../support/store-server.js";
import type { testStores } from "../support/stores.js";
import type { SuiteContext } from "./context.js";
import { appTests } from "./apps.js";
import { concurrencyTests } from "./concurrency.js";
import { errorTests } from "./errors.js";
import { eventTests } from "./events.js";
import { forkTests } from "./fork.js";
import { listingTests } from "./listing.js";
import { readTests } from "./reads.js";
import { restoreTests } from "./restore.js";
import { rewindTests } from "./rewind.js";
import { sessionTests } from "./sessions.js";
import { stateTests } from "./state.js";
import { updateTimeTests } from "./update-time.js";

/**
 * The contract every store meets, checked through a real server on a real
 * port. A store joins with one line in its own test file, naming its entry
 * in `test/support/stores.ts`. gRPC unary calls take the server's fast path
 * unless `options` (or $SESSIOND_GRPC_FAST_PATH) turns it off.
 */
export function conformance(name: keyof typeof testStores, protocol: TestProtocol = defaultTestProtocol(), options: Partial<ServerOptions> = {}): void {
  const path = protocol === "grpc" ? ((options.grpcFastPath ?? testGrpcFastPath()) ? " (fast path)" : " (connect-node)") : "";
  describe(`${name} store over ${protocol}${path}`, () => {
    const server = useStoreServer(name, protocol, options);
    const ctx: SuiteContext = {
      protocol,
      get client() {
        return server.client;
      },
      get store() {
        return server.store;
      },
    };
    sessionTests(ctx);
    eventTests(ctx);
    stateTests(ctx);
    readTests(ctx);
    listingTests(ctx);
    updateTimeTests(ctx);
    appTests(ctx);
    errorTests(ctx);
    concurrencyTests(ctx);
    restoreTests(ctx);
    rewindTests(ctx);
    forkTests(ctx);
  });
}
