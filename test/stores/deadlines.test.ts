import { DatabaseSync } from "node:sqlite";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SessionKey } from "../../src/core/types.js";
import { type CallDeadline, withCallDeadline } from "../../src/stores/call-deadline.js";
import { openStore } from "../../src/stores/open.js";
import type { Store } from "../../src/stores/store.js";
import { type IsolatedStore, serviceUrls, testStores } from "../support/stores.js";
import { appendEvents, create, event, freshKey, pending, rejection } from "./spec/context.js";

/**
 * The RPC's deadline bounds each SQL transaction: a lock held elsewhere is
 * waited for only as long as the call has left, and a write whose deadline
 * passes before COMMIT is rolled back. Checked on the stores themselves.
 */

/** A lock on one session row (or the whole SQLite file) held by a connection outside the store. */
interface LockHolder {
  lock(key: SessionKey): Promise<void>;
  release(): Promise<void>;
}

const holders: Record<"sqlite" | "postgres" | "mysql", (url: string) => Promise<LockHolder>> = {
  sqlite: async (url) => {
    const db = new DatabaseSync(url.slice("sqlite:".length));
    return {
      lock: async () => void db.exec("BEGIN IMMEDIATE"),
      release: async () => {
        db.exec("ROLLBACK");
        db.close();
      },
    };
  },
  postgres: async (url) => {
    const schema = new URLSearchParams(url.split("?")[1]).get("schema")!;
    const sql = postgres(serviceUrls.postgres, { max: 1, onnotice: () => {} });
    const reserved = await sql.reserve();
    return {
      lock: async (key) => {
        await reserved`BEGIN`;
        await reserved`SELECT 1 FROM ${reserved(schema)}.sessions WHERE app_name = ${key.appName} AND user_id = ${key.userId} AND id = ${key.sessionId} FOR UPDATE`;
      },
      release: async () => {
        await reserved`ROLLBACK`;
        reserved.release();
        await sql.end();
      },
    };
  },
  mysql: async (url) => {
    const { createConnection } = await import("mysql2/promise");
    const target = new URL(url);
    const connection = await createConnection({
      host: target.hostname,
      port: Number(target.port || 3306),
      user: decodeURIComponent(target.username) || "root",
      password: decodeURIComponent(target.password),
      database: target.pathname.slice(1),
    });
    return {
      lock: async (key) => {
        await connection.query("START TRANSACTION");
        await connection.query("SELECT 1 FROM sessions WHERE app_name = ? AND user_id = ? AND id = ? FOR UPDATE", [key.appName, key.userId, key.sessionId]);
      },
      release: async () => {
        await connection.query("ROLLBACK");
        await connection.end();
      },
    };
  },
};

/** A deadline `ms` from now. */
const deadlineIn = (ms: number): CallDeadline => ({ signal: new AbortController().signal, deadlineMs: Date.now() + ms });

/**
 * A deadline far away when the store first looks and past ever after: the
 * call starts in time and runs out before it commits, without any waiting.
 */
function deadlinePassingAfterStart(): CallDeadline {
  let reads = 0;
  return {
    signal: new AbortController().signal,
    get deadlineMs() {
      return reads++ === 0 ? Date.now() + 60_000 : Date.now() - 1_000;
    },
  };
}

for (const name of ["sqlite", "postgres", "mysql"] as const) {
  describe(`${name} store under call deadlines`, () => {
    let isolated: IsolatedStore;
    let store: Store;
    beforeAll(async () => {
      isolated = await testStores[name]!();
      store = await openStore(isolated.url);
    });
    afterAll(async () => {
      await store?.close();
      await isolated?.cleanup();
    });

    it("waits for a lock held by another connection only as long as the deadline allows, and writes nothing", async () => {
      const key = freshKey();
      await create(store, key);
      const holder = await holders[name](isolated.url);
      await holder.lock(key);
      const started = Date.now();
      try {
        const call = withCallDeadline(deadlineIn(300), () =>
          store.appendEvents(key, { events: [pending(event("late", 1))], nowUs: 2_000_000 }),
        );
        await rejection(call, "deadline_exceeded");
        // Without the deadline this wait would last the server's lock timeout (5 s on SQLite, 50 s on
        // MariaDB, unbounded on PostgreSQL); the bound is wide for a busy machine.
        expect(Date.now() - started).toBeLessThan(3_000);
      } finally {
        await holder.release();
      }
      const { view, events } = await store.getSession(key, {});
      expect(events).toEqual([]);
      expect(view.session.lastSequence).toBe(0);
      // The connection the deadline cut short serves the next call with its usual timeouts.
      const next = await appendEvents(store, key, 2);
      expect(next.map((e) => e.sequence)).toEqual([1, 2]);
    });

    it("rolls back, not commits, a write whose deadline passed before COMMIT", async () => {
      const key = freshKey();
      await create(store, key, { topic: "before" });
      await appendEvents(store, key, 1);
      const writes: [string, () => Promise<unknown>][] = [
        ["append", () => store.appendEvents(key, { events: [pending(event("x", 2), { topic: "after", "user:u": 1 })], nowUs: 3_000_000 })],
        ["update", () => store.updateSession(key, { status: "failed", nowUs: 3_000_000 })],
        ["delete", () => store.deleteSession(key)],
      ];
      for (const [what, write] of writes) {
        await rejection(withCallDeadline(deadlinePassingAfterStart(), write), "deadline_exceeded").catch((error: unknown) => {
          throw new Error(`${what}: ${(error as Error).message}`);
        });
      }
      const { view, events } = await store.getSession(key, {});
      expect(events.map((e) => e.id)).toEqual(["e1"]);
      expect(view.session).toMatchObject({ status: "active", lastSequence: 1, state: { topic: "before" } });
      expect(view.userState).toEqual({});
    });

    it("fails at once when the deadline has already passed, and works as usual with time left", async () => {
      const key = freshKey();
      await create(store, key);
      await rejection(withCallDeadline(deadlineIn(-10), () => store.getSession(key, {})), "deadline_exceeded");
      const outcome = await withCallDeadline(deadlineIn(30_000), () =>
        store.appendEvents(key, { events: [pending(event("ok", 1))], nowUs: 2_000_000 }),
      );
      expect(outcome.lastSequence).toBe(1);
      expect((await withCallDeadline(deadlineIn(30_000), () => store.readEvents(key, { filter: {}, afterSequence: 0, limit: 10 }))).length).toBe(1);
    });
  });
}
