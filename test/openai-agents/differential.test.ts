import { MemorySession } from "@openai/agents-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessiondSession } from "../../src/openai-agents/index.js";
import { type ServeProcess, spawnServe } from "../support/cli-process.js";
import { type IsolatedStore, testStores } from "../support/stores.js";
import { seededRandom } from "../faults/support/random.js";
import { randomItem } from "./items.js";

/**
 * SessiondSession against the SDK's MemorySession: the same seeded random
 * sequence of operations on both, and the same result from every operation
 * and the same full history after every step.
 */

const STORES = ["memory", "sqlite", "postgres"];
const SEEDS = Array.from({ length: 10 }, (_, i) => i + 1);
const STEPS = 60;

for (const storeName of STORES) {
  describe(`SessiondSession and MemorySession on the ${storeName} store`, () => {
    let store: IsolatedStore;
    let server: ServeProcess;
    const counts: Record<string, number> = {};

    beforeAll(async () => {
      store = await testStores[storeName]!();
      server = await spawnServe(["--store", store.url, "--no-ui"]);
    });
    afterAll(async () => {
      await server?.stop();
      await store?.cleanup();
    });

    it.each(SEEDS)(`agree at every one of ${STEPS} steps, seed %i`, async (seed) => {
      const random = seededRandom(seed);
      const sessionId = `differential-${storeName}-${seed}`;
      const reference = new MemorySession({ sessionId });
      const remote = new SessiondSession(server.url, { sessionId, appName: "differential" });
      let n = 0;
      try {
        for (let step = 0; step < STEPS; step++) {
          const roll = random.int(100);
          let op: string;
          let run: (s: MemorySession | SessiondSession) => Promise<unknown>;
          if (roll < 35) {
            const items = Array.from({ length: 1 + random.int(4) }, () => randomItem(random, n++));
            op = "addItems";
            run = (s) => s.addItems(structuredClone(items));
          } else if (roll < 40) {
            op = "addItems([])";
            run = (s) => s.addItems([]);
          } else if (roll < 60) {
            const limit = random.int(7) - 1;
            op = `getItems(${limit})`;
            run = (s) => s.getItems(limit);
          } else if (roll < 85) {
            op = "popItem";
            run = (s) => s.popItem();
          } else if (roll < 90) {
            op = "clearSession";
            run = (s) => s.clearSession();
          } else if (roll < 95) {
            op = "getSessionId";
            run = (s) => s.getSessionId();
          } else {
            op = "getItems()";
            run = (s) => s.getItems();
          }
          const kind = op.replace(/\(.*\)/, "");
          counts[kind] = (counts[kind] ?? 0) + 1;
          const expected = await run(reference);
          const actual = await run(remote);
          expect(actual, `seed ${seed}, step ${step}: ${op}`).toEqual(expected);
          expect(await remote.getItems(), `seed ${seed}, history after step ${step}: ${op}`).toEqual(await reference.getItems());
        }
      } finally {
        await remote.close();
      }
    });

    it("ran every kind of operation over the seeds", () => {
      for (const kind of ["addItems", "getItems", "popItem", "clearSession", "getSessionId"]) expect(counts[kind], kind).toBeGreaterThan(0);
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(SEEDS.length * STEPS);
    });
  });
}
