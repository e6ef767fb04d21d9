import { InMemorySessionService } from "@google/adk";
import { afterAll, beforeAll, describe, it } from "vitest";
import { RemoteSessionService } from "../../src/adk/index.js";
import { openStore } from "../../src/stores/open.js";
import { startTestServer, type TestServer, uniqueName } from "../support/server.js";
import { testStores } from "../support/stores.js";
import type { AdkCase, CaseContext } from "./cases.js";
import { eventCases } from "./cases-events.js";
import { listingCases } from "./cases-listing.js";
import { prototypeNameCases, prototypeStateCases } from "./cases-prototype.js";
import { sessionCases } from "./cases-sessions.js";
import { stateCases } from "./cases-state.js";
import { writerCases } from "./cases-writers.js";

/**
 * Every behaviour ADK's session-service tests check, through a real server
 * on three stores; the same cases against ADK JS's InMemorySessionService
 * show which of them ADK JS shares.
 */

const CASES: AdkCase[] = [...sessionCases, ...eventCases, ...listingCases, ...stateCases, ...prototypeNameCases, ...prototypeStateCases, ...writerCases];
const STORES = ["memory", "sqlite", "postgres"];

const isolate = (name: string) => `${name}_${uniqueName("c")}`;

describe("ADK JS InMemorySessionService (the oracle)", () => {
  it.each(CASES.filter((c) => !c.notOnAdkJs).map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    await c.run({ service: new InMemorySessionService(), unique: isolate });
  });
});

for (const storeName of STORES) {
  describe(`RemoteSessionService over the ${storeName} store`, () => {
    let running: TestServer;
    let cleanup: () => Promise<void>;
    let service: RemoteSessionService;
    const opened: RemoteSessionService[] = [];

    beforeAll(async () => {
      const isolated = await testStores[storeName]!();
      cleanup = isolated.cleanup;
      running = await startTestServer(await openStore(isolated.url));
      service = new RemoteSessionService(running.server.url);
    });
    afterAll(async () => {
      for (const s of [service, ...opened]) await s?.close();
      await running?.close();
      await cleanup?.();
    });

    it.each(CASES.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
      const ctx: CaseContext = {
        service,
        unique: isolate,
        remote: {
          client: running.client,
          newService: () => {
            const fresh = new RemoteSessionService(running.server.url);
            opened.push(fresh);
            return fresh;
          },
        },
      };
      await c.run(ctx);
    });
  });
}
