import { afterAll, beforeAll, describe } from "vitest";
import { openStore } from "../../../src/stores/open.js";
import type { Store } from "../../../src/stores/store.js";
import { testStores } from "../../support/stores.js";
import type { StoreSpecContext } from "./context.js";
import { eventSpecs } from "./events.js";
import { historySpecs } from "./history.js";
import { openSpecs } from "./open.js";
import { restoreSpecs } from "./restore.js";
import { sessionSpecs } from "./sessions.js";

/**
 * The Store contract checked on the store itself, without a server: what
 * the API suite in test/conformance cannot reach (restore and scan rules,
 * purge scopes, concurrent appends, error kinds, opening without creating).
 * Where a store implements a core rule its own way (SQL, Lua), the cases
 * compare it with the rule in src/core. A store joins with one line in its
 * own test file, naming its entry in `test/support/stores.ts`.
 */
export function storeSpec(name: keyof typeof testStores): void {
  describe(`${name} store (Store interface)`, () => {
    let cleanup: (() => Promise<void>) | undefined;
    let store: Store | undefined;
    let url = "";
    const ctx: StoreSpecContext = {
      name,
      get store() {
        if (!store) throw new Error("store not opened");
        return store;
      },
      get url() {
        return url;
      },
    };
    beforeAll(async () => {
      const isolated = await testStores[name]!();
      cleanup = isolated.cleanup;
      url = isolated.url;
      store = await openStore(url);
    });
    afterAll(async () => {
      await store?.close();
      await cleanup?.();
    });
    sessionSpecs(ctx);
    eventSpecs(ctx);
    restoreSpecs(ctx);
    openSpecs(ctx);
    historySpecs(ctx);
  });
}
