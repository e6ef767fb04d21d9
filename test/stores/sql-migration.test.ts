import { afterAll, describe, expect, it } from "vitest";
import { splitDelta } from "../../src/core/state.js";
import type { SessionKey } from "../../src/core/types.js";
import { openStore } from "../../src/stores/open.js";
import type { SqlDialect } from "../../src/stores/sql/dialect.js";
import type { SqlDriver } from "../../src/stores/sql/driver.js";
import { migrateSchema } from "../../src/stores/sql/schema.js";
import type { Store } from "../../src/stores/store.js";
import { eventData } from "../support/events.js";
import { testStores } from "../support/stores.js";

/** The SQL store's driver and dialect, which these tests use to lay out an older schema. */
type SqlInternals = { db: SqlDriver; d: SqlDialect };

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

/**
 * A database holding the schema of version 1 (before initial states and
 * fork lineage) with one session in it, written by that version's statements.
 */
async function versionOneDatabase(name: string): Promise<{ url: string; key: SessionKey }> {
  const isolated = await testStores[name]!();
  cleanups.push(isolated.cleanup);
  const store = await openStore(isolated.url);
  const { db, d } = store as unknown as SqlInternals;
  const t = d.tables;
  for (const table of [t.events, t.sessions, t.appStates, t.userStates, t.migrations]) await db.run(`DROP TABLE ${table}`);
  await migrateSchema(db, { ...d, schema: { ...d.schema, migrations: d.schema.migrations.filter((m) => m.version === 1) } });
  const key = { appName: "legacy", userId: "u", sessionId: "s1" };
  const time = (us: number) => d.time(us);
  await db.run(
    `INSERT INTO ${t.sessions} (app_name, user_id, id, agent_id, status, state, metadata, created_at, updated_at, last_sequence)
     VALUES (?, ?, ?, '', 'active', ?, '{}', ?, ?, 2)`,
    [key.appName, key.userId, key.sessionId, JSON.stringify({ a: 2, b: 1, kept: true }), time(1_000_000), time(2_000_000)],
  );
  const [row] = (await db.run(`SELECT pk FROM ${t.sessions} WHERE id = ?`, [key.sessionId])).rows;
  for (const [sequence, delta] of [[1, { a: 1 }], [2, { a: 2, b: 1 }]] as const) {
    await db.run(
      `INSERT INTO ${t.events} (session_pk, sequence, id, ${d.quote("timestamp")}, actions, error_message) VALUES (?, ?, ?, ?, ?, '')`,
      [row!.pk, sequence, `e${sequence}`, time(1_000_000 + sequence), JSON.stringify({ stateDelta: delta })],
    );
  }
  await store.close();
  return { url: isolated.url, key };
}

for (const name of ["sqlite", "postgres", "mysql"]) {
  describe(`${name} schema migration to initial states and fork lineage`, () => {
    let store: Store;
    afterAll(() => store?.close());

    it("keeps version 1 sessions, which have no initial state and no lineage, and records both from then on", async () => {
      const { url, key } = await versionOneDatabase(name);
      store = await openStore(url);
      const old = await store.getSession(key, {});
      expect(old.view.session).toMatchObject({ state: { a: 2, b: 1, kept: true }, lastSequence: 2 });
      expect(old.view.session.forkedFrom).toBeUndefined();
      expect(old.events.map((e) => e.id)).toEqual(["e1", "e2"]);
      expect(await store.readInitialState(key)).toBeNull();
      // Their events have no encoded tail (migration 3): binary reads get them whole, to encode from their columns.
      const binary = await store.readEvents(key, { filter: {}, afterSequence: 0, limit: 10, encoded: true });
      expect(binary.map((e) => [e.id, e.encodedTail, e.actions?.stateDelta])).toEqual([["e1", undefined, { a: 1 }], ["e2", undefined, { a: 2, b: 1 }]]);

      const fresh = { ...key, sessionId: "s2" };
      await store.createSession({ appName: fresh.appName, userId: fresh.userId, id: fresh.sessionId, agentId: "", metadata: {}, delta: splitDelta({ x: 1 }).scoped, nowUs: 3_000_000 });
      expect(await store.readInitialState(fresh)).toEqual({ x: 1 });
      const forkedFrom = { sessionId: key.sessionId, userId: key.userId, sequence: 2 };
      const fork = await store.forkSession({
        source: key,
        target: { ...key, sessionId: "s1-fork" },
        ranges: [{ first: 2, last: 2 }],
        throughSequence: 2,
        state: { a: 2, b: 1, kept: true },
        initialState: null,
        agentId: "",
        metadata: {},
        forkedFrom,
        nowUs: 4_000_000,
      });
      expect(fork.session.forkedFrom).toEqual(forkedFrom);
      const copied = await store.readEvents({ ...key, sessionId: "s1-fork" }, { filter: {}, afterSequence: 0, limit: 10 });
      expect(copied.map((e) => [e.sequence, e.id, e.actions?.stateDelta])).toEqual([[1, "e2", { a: 2, b: 1 }]]);
      const listed = await store.listSessions({ appName: key.appName, forkedFromSessionId: key.sessionId, order: "asc", offset: 0, limit: 10 });
      expect(listed.map((v) => v.session.id)).toEqual(["s1-fork"]);
      // Appends to the old session still work on the new layout.
      const outcome = await store.appendEvents(key, { events: [{ event: eventData("e3", { timestampUs: 5_000_000 }), delta: splitDelta({ a: 3 }).scoped }], nowUs: 5_000_000 });
      expect(outcome.lastSequence).toBe(3);
    });
  });
}
