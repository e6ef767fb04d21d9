import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessiondError } from "../../src/core/errors.js";
import type { SessionKey } from "../../src/core/types.js";
import { openStore } from "../../src/stores/open.js";
import type { SqlDialect } from "../../src/stores/sql/dialect.js";
import type { SqlDriver } from "../../src/stores/sql/driver.js";
import { migrateSchema } from "../../src/stores/sql/schema.js";
import type { SqlStore } from "../../src/stores/sql/sql-store.js";
import { testStores } from "../support/stores.js";
import { appendEvents, create, event, freshKey, pending } from "./spec/context.js";

/**
 * The SQL store deletes a session's events itself rather than through a
 * cascading foreign key (PostgreSQL's events table has none since
 * migration 4). These tests read the tables directly: no event row may
 * outlive its session, however deletes and appends interleave.
 */

type SqlInternals = { db: SqlDriver; d: SqlDialect };
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function openIsolated(name: string): Promise<SqlStore & SqlInternals> {
  const isolated = await testStores[name]!();
  cleanups.push(isolated.cleanup);
  const store = (await openStore(isolated.url)) as SqlStore & SqlInternals;
  cleanups.push(() => store.close());
  return store;
}

/** Event rows whose session row is gone. */
async function orphanEvents(store: SqlInternals): Promise<number> {
  const { events, sessions } = store.d.tables;
  const { rows } = await store.db.run(`SELECT COUNT(*) AS n FROM ${events} e WHERE NOT EXISTS (SELECT 1 FROM ${sessions} s WHERE s.pk = e.session_pk)`);
  return Number(rows[0]!.n);
}

async function eventRows(store: SqlInternals): Promise<number> {
  return Number((await store.db.run(`SELECT COUNT(*) AS n FROM ${store.d.tables.events}`)).rows[0]!.n);
}

/** Runs `work` over `items` with at most `width` at a time. */
async function inParallel<T>(items: T[], width: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

/** Appends 3-event batches to `key` until the session is gone; resolves with the batches acknowledged. */
async function appendUntilDeleted(store: SqlStore, key: SessionKey, writer: number): Promise<number> {
  for (let batch = 0; ; batch++) {
    const events = [0, 1, 2].map((i) => pending(event(`w${writer}-${batch}-${i}`, batch * 3 + i)));
    try {
      await store.appendEvents(key, { events, nowUs: 2_000_000 + batch });
    } catch (error) {
      if (error instanceof SessiondError && error.kind === "not_found") return batch;
      throw error;
    }
  }
}

for (const name of ["sqlite", "postgres", "mysql"]) {
  describe(`${name} store deletes`, () => {
    let store: SqlStore & SqlInternals;
    beforeAll(async () => {
      store = await openIsolated(name);
    });

    it("deleting a session deletes its event rows and no other's", async () => {
      const doomed = freshKey();
      const kept = { ...doomed, sessionId: `${doomed.sessionId}-kept` };
      for (const key of [doomed, kept]) {
        await create(store, key);
        await appendEvents(store, key, 4);
      }
      const before = await eventRows(store);
      await store.deleteSession(doomed);
      expect(await eventRows(store)).toBe(before - 4);
      expect(await orphanEvents(store)).toBe(0);
      expect((await store.readEvents(kept, { filter: {}, afterSequence: 0, limit: 10 })).map((e) => e.id)).toEqual(["e1", "e2", "e3", "e4"]);
      // A session created again under the key starts empty.
      await create(store, doomed);
      expect(await store.readEvents(doomed, { filter: {}, afterSequence: 0, limit: 10 })).toEqual([]);
    });

    it("a purge of more sessions than one statement deletes removes every one of them and their events", async () => {
      const app = freshKey().appName;
      const keys = Array.from({ length: 520 }, (_, i) => ({ appName: app, userId: `u${i % 7}`, sessionId: `s${i}` }));
      await inParallel(keys, 8, async (key) => {
        await create(store, key);
        await appendEvents(store, key, 2);
      });
      const other = freshKey();
      await create(store, other);
      await appendEvents(store, other, 3);
      const before = await eventRows(store);
      expect(await store.deleteSessions({ appName: app, purgeState: false })).toBe(keys.length);
      expect(await eventRows(store)).toBe(before - 2 * keys.length);
      expect(await orphanEvents(store)).toBe(0);
      expect(await store.listSessions({ appName: app, order: "asc", offset: 0, limit: 10 })).toEqual([]);
      expect((await store.readEvents(other, { filter: {}, afterSequence: 0, limit: 10 })).length).toBe(3);
    });

    it("leaves no event rows behind when appends race the deletes", async () => {
      let acknowledged = 0;
      for (let round = 0; round < 12; round++) {
        const key = freshKey();
        await create(store, key);
        const writers = [0, 1, 2, 3].map((w) => appendUntilDeleted(store, key, w));
        // The deletes come once appends are flowing, so some wait on an append's lock and some appends on theirs.
        await appendEvents(store, key, 1, "first");
        if (round % 2 === 0) await store.deleteSession(key);
        else expect(await store.deleteSessions({ appName: key.appName, purgeState: false })).toBe(1);
        acknowledged += (await Promise.all(writers)).reduce((a, b) => a + b, 0);
        expect(await orphanEvents(store)).toBe(0);
      }
      expect(acknowledged).toBeGreaterThan(0);
    });
  });
}

describe("postgres migration 4", () => {
  it("drops the events' foreign key from a version 3 database and keeps its rows", async () => {
    const store = await openIsolated("postgres");
    const { db, d } = store;
    const foreignKeys = async () =>
      Number((await db.run(`SELECT COUNT(*) AS n FROM pg_constraint WHERE conrelid = '${d.tables.events}'::regclass AND contype = 'f'`)).rows[0]!.n);
    expect(await foreignKeys()).toBe(0);

    const t = d.tables;
    for (const table of [t.events, t.sessions, t.appStates, t.userStates, t.migrations]) await db.run(`DROP TABLE ${table}`);
    await migrateSchema(db, { ...d, schema: { ...d.schema, migrations: d.schema.migrations.filter((m) => m.version <= 3) } });
    expect(await foreignKeys()).toBe(1);
    const key = freshKey();
    await create(store, key);
    await appendEvents(store, key, 3);

    await store.migrate();
    expect(await foreignKeys()).toBe(0);
    expect(Number((await db.run(`SELECT MAX(version) AS v FROM ${t.migrations}`)).rows[0]!.v)).toBe(4);
    expect((await store.readEvents(key, { filter: {}, afterSequence: 0, limit: 10 })).map((e) => e.id)).toEqual(["e1", "e2", "e3"]);
    await store.deleteSession(key);
    expect(await orphanEvents(store)).toBe(0);
  });
});
