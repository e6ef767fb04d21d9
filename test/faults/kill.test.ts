import { afterAll, describe, expect, it } from "vitest";
import { spawnServe, type ServeProcess } from "../support/cli-process.js";
import { audit, type Audit, Ledger, retryUnacknowledged, runWriters } from "./support/batches.js";
import { startPrivateRedis } from "../support/private-instances.js";
import { clientsOf, recordFigures } from "./support/load.js";
import { seededRandom, suiteSeed } from "./support/random.js";
import { storeUrls } from "./support/store-urls.js";

const ROUNDS = 5;
const WRITERS = 8;
// Batches acknowledged in a round before the kill; the writers are always mid-call, so the kill lands inside some.
const BATCHES_BEFORE_KILL = 40;

const seed = suiteSeed();
console.log(`kill -9 suite seed ${seed} (replay with SESSIOND_FAULTS_SEED=${seed})`);

const shared = storeUrls("kill");
afterAll(() => shared.cleanup());

/** A store URL that outlives sessiond: the file, schema or database is removed after the file's tests. */
const stores = {
  sqlite: shared.urls.sqlite,
  postgres: shared.urls.postgres,
  mariadb: shared.urls.mariadb,
  // A private instance: durability of acknowledged writes needs an append-only file fsynced on every write.
  redis: async () => {
    const instance = await startPrivateRedis();
    shared.track(instance.destroy);
    return instance.url;
  },
};

const clean = (a: Audit) => ({ lost: a.lost, partial: a.partial, duplicates: a.duplicates, gapped: a.gapped, staleState: a.staleState });
const NONE = { lost: 0, partial: 0, duplicates: 0, gapped: 0, staleState: 0 };

describe.each(Object.keys(stores) as (keyof typeof stores)[])("kill -9 of sessiond on %s", (name) => {
  it(`under ${WRITERS} writers, ${ROUNDS} rounds: every acknowledged event is kept, batches are whole, sequences gapless, retries idempotent`, async () => {
    const random = seededRandom((seed ^ [...name].reduce((h, c) => Math.imul(h, 31) + c.charCodeAt(0), 7)) >>> 0);
    const url = await stores[name]();
    const ledger = new Ledger(`kill-${name}`, "u");
    const sessions = Array.from({ length: WRITERS }, (_, w) => `s${w}`);
    const restartMs: number[] = [];
    let retried = 0;
    let storedUnacknowledged = 0;
    let server: ServeProcess = await spawnServe(["--store", url, "--no-ui"]);
    shared.track(async () => void (await server.stop("SIGKILL")));
    try {
      let { api } = clientsOf(server.url);
      for (const sessionId of sessions) await api.createSession({ appName: ledger.appName, userId: ledger.userId, sessionId });
      for (let round = 0; round < ROUNDS; round++) {
        let killed = false;
        const before = ledger.batches.filter((b) => b.acknowledged).length;
        const writers = runWriters(api, ledger, sessions, `r${round}`, random, () => killed);
        await expect
          .poll(() => ledger.batches.filter((b) => b.acknowledged).length, { timeout: 60_000, interval: 10 })
          .toBeGreaterThanOrEqual(before + BATCHES_BEFORE_KILL);
        const exited = new Promise((resolve) => server.child.once("exit", resolve));
        server.child.kill("SIGKILL");
        killed = true;
        const killedAt = Date.now();
        await exited;
        await writers;
        server = await spawnServe(["--store", url, "--no-ui"]);
        restartMs.push(Date.now() - killedAt);
        api = clientsOf(server.url).api;
        // Before any retry: what the killed process acknowledged is all there, and nothing is half there.
        const found = await audit(api, ledger, sessions);
        expect(clean(found), `round ${round} before retries`).toEqual(NONE);
        storedUnacknowledged += found.storedUnacknowledged;
        // Retrying what was not acknowledged, with the same ids, stores each event once.
        retried += await retryUnacknowledged(api, ledger);
        expect(clean(await audit(api, ledger, sessions)), `round ${round} after retries`).toEqual(NONE);
      }
      const final = await audit(api, ledger, sessions);
      recordFigures(`kill-${name}`, {
        store: name,
        seed,
        rounds: ROUNDS,
        writers: WRITERS,
        acknowledged: ledger.acknowledgedEvents(true),
        lost: final.lost,
        partialBatches: final.partial,
        duplicates: final.duplicates,
        gappedSessions: final.gapped,
        retriedBatches: retried,
        retriedAlreadyStored: storedUnacknowledged,
        storedEvents: final.events,
        restartMs,
      });
      expect(final.events).toBe(ledger.acknowledgedEvents());
      expect(ledger.batches.filter((b) => b.acknowledged && !b.retried).length).toBeGreaterThanOrEqual(ROUNDS * BATCHES_BEFORE_KILL);
    } finally {
      await server.stop("SIGKILL");
    }
  });
});
