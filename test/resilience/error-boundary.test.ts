import { Code, ConnectError } from "@connectrpc/connect";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { SessiondError } from "../../src/core/errors.js";
import { currentCallDeadline, withCallDeadline } from "../../src/stores/call-deadline.js";
import { withErrorBoundary } from "../../src/stores/error-boundary.js";
import { openStore } from "../../src/stores/open.js";
import { classifyMysqlError } from "../../src/stores/private/mysql-errors.js";
import { classifyPostgresError } from "../../src/stores/private/postgres-errors.js";
import { classifyRedisError } from "../../src/stores/private/redis-errors.js";
import { classifySqliteError } from "../../src/stores/private/sqlite-errors.js";
import type { Store } from "../../src/stores/store.js";
import { eventData } from "../support/events.js";
import { startTestServer } from "../support/server.js";
import { type IsolatedStore, isolationName, serviceUrls, testStores } from "../support/stores.js";

const driverError = (fields: Record<string, unknown>, message = "driver failure") => Object.assign(new Error(message), fields);
const NO_DELTA = { app: null, user: null, session: null };
const key = { appName: "a", userId: "u", sessionId: "s" };
const cleanups: IsolatedStore[] = [];
afterAll(async () => {
  for (const c of cleanups) await c.cleanup();
});

describe("driver error classifiers", () => {
  it("PostgreSQL: outages are UNAVAILABLE, conflicts ABORTED, the rest unclassified", () => {
    for (const code of ["ECONNREFUSED", "ECONNRESET", "CONNECTION_CLOSED", "CONNECT_TIMEOUT", "08006", "57P01", "57P03", "53300", "25006", "55P03", "57014"]) {
      const error = driverError({ code });
      const classified = classifyPostgresError(error);
      expect(classified?.kind, code).toBe("unavailable");
      expect(classified?.cause).toBe(error);
      expect(classified?.message).toContain("retry");
    }
    expect(classifyPostgresError(driverError({ code: "40P01" }))?.kind).toBe("aborted");
    expect(classifyPostgresError(driverError({ code: "40001" }))?.kind).toBe("aborted");
    expect(classifyPostgresError(driverError({ code: "22P05" }))?.kind).toBe("invalid_argument");
    expect(classifyPostgresError(driverError({ code: "42P01" }))).toBeUndefined();
    expect(classifyPostgresError(new TypeError("bug"))).toBeUndefined();
  });

  it("MySQL: lost connections, closed pools, shutdown, read-only and timeouts are UNAVAILABLE; deadlocks ABORTED", () => {
    const outages = [
      driverError({ code: "ECONNREFUSED" }),
      driverError({ code: "PROTOCOL_CONNECTION_LOST" }, "Connection lost: The server closed the connection."),
      driverError({ code: "ER_SERVER_SHUTDOWN", errno: 1053 }),
      driverError({ code: "ER_CON_COUNT_ERROR", errno: 1040 }),
      driverError({ code: "ER_OPTION_PREVENTS_STATEMENT", errno: 1290 }),
      driverError({ code: "ER_LOCK_WAIT_TIMEOUT", errno: 1205 }),
      driverError({ code: "ER_STATEMENT_TIMEOUT", errno: 1969 }),
      driverError({}, "Can't add new command when connection is in closed state"),
      driverError({}, "Pool is closed."),
    ];
    for (const error of outages) expect(classifyMysqlError(error)?.kind, error.message).toBe("unavailable");
    expect(classifyMysqlError(driverError({ code: "ER_LOCK_DEADLOCK", errno: 1213 }))?.kind).toBe("aborted");
    expect(classifyMysqlError(driverError({ code: "ER_PARSE_ERROR", errno: 1064 }))).toBeUndefined();
  });

  it("SQLite: busy, read-only, I/O and full-disk results are UNAVAILABLE", () => {
    for (const errcode of [5, 6, 8, 10, 13, 14, 5 | (1 << 8), 10 | (12 << 8)]) {
      expect(classifySqliteError(driverError({ code: "ERR_SQLITE_ERROR", errcode }))?.kind, String(errcode)).toBe("unavailable");
    }
    expect(classifySqliteError(driverError({ code: "ERR_SQLITE_ERROR", errcode: 19 }))).toBeUndefined();
  });

  it("Redis: lost connections and replies of a node that cannot serve are UNAVAILABLE", () => {
    const reply = (message: string) => Object.assign(new Error(message), { name: "ReplyError" });
    for (const error of [driverError({}, "Connection is closed."), driverError({ code: "ECONNREFUSED" }), reply("LOADING Redis is loading"), reply("READONLY You can't write")]) {
      expect(classifyRedisError(error)?.kind, error.message).toBe("unavailable");
    }
    expect(classifyRedisError(reply("ERR wrong number of arguments"))).toBeUndefined();
  });
});

describe("error boundary", () => {
  it("covers every function of the store, including methods it does not know about and returned functions", async () => {
    const refused = () => Promise.reject(driverError({ code: "ECONNREFUSED" }));
    const inner = Object.assign(await openStore("memory:"), {
      somethingNew: refused,
      subscribe: async () => refused,
    });
    const store = withErrorBoundary(inner as Store, classifyPostgresError) as Store & { somethingNew(): Promise<void> };
    await expect(store.somethingNew()).rejects.toMatchObject({ kind: "unavailable" });
    const unsubscribe = await store.subscribe!(key, () => {});
    await expect(unsubscribe()).rejects.toMatchObject({ kind: "unavailable" });
    // Unclassified errors pass unchanged: the API reports them INTERNAL.
    const bug = new TypeError("bug");
    const buggy = withErrorBoundary(Object.assign(await openStore("memory:"), { getSession: () => Promise.reject(bug) }), classifyPostgresError);
    await expect(buggy.getSession(key, {})).rejects.toBe(bug);
  });

  it("reports an outage after the call's deadline passed as DEADLINE_EXCEEDED", async () => {
    const store = withErrorBoundary(
      Object.assign(await openStore("memory:"), { getSession: () => Promise.reject(driverError({ code: "57014" })) }),
      classifyPostgresError,
    );
    const expired = { signal: AbortSignal.abort(), deadlineMs: Date.now() - 1 };
    await expect(withCallDeadline(expired, () => store.getSession(key, {}))).rejects.toMatchObject({ kind: "deadline_exceeded" });
    await expect(store.getSession(key, {})).rejects.toMatchObject({ kind: "unavailable" });
  });

  it("openStore classifies failures to connect", async () => {
    await expect(openStore("postgres://postgres@127.0.0.1:1/test")).rejects.toMatchObject({ kind: "unavailable" });
    await expect(openStore("mysql://root@127.0.0.1:1/test")).rejects.toMatchObject({ kind: "unavailable" });
  });

  it("PostgreSQL: terminated connections answer UNAVAILABLE and the pool recovers", async () => {
    const isolated = await testStores.postgres!();
    cleanups.push(isolated);
    const name = isolationName("boundary");
    const store = await openStore(`${isolated.url}&application_name=${name}`);
    const admin = postgres(serviceUrls.postgres, { max: 1, onnotice: () => {} });
    try {
      await store.createSession({ appName: "a", userId: "u", id: "s", agentId: "", metadata: {}, delta: NO_DELTA, nowUs: 1 });
      const kinds = await underFire(store, () => admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ${name}`);
      for (const kind of kinds) expect(["ok", "unavailable", "aborted"]).toContain(kind);
      await recovered(() => store.getSession(key, {}));
    } finally {
      await admin.end();
      await store.close();
    }
  });

  it("MySQL: killed connections answer UNAVAILABLE and the pool recovers", async () => {
    const isolated = await testStores.mysql!();
    cleanups.push(isolated);
    const database = new URL(isolated.url).pathname.slice(1);
    const store = await openStore(isolated.url);
    const { createConnection } = await import("mysql2/promise");
    const server = new URL(serviceUrls.mysql);
    const admin = await createConnection({ host: server.hostname, port: Number(server.port || 3306), user: "root" });
    try {
      await store.createSession({ appName: "a", userId: "u", id: "s", agentId: "", metadata: {}, delta: NO_DELTA, nowUs: 1 });
      const kinds = await underFire(store, async () => {
        const [rows] = (await admin.query("SELECT id FROM information_schema.processlist WHERE db = ?", [database])) as unknown as [{ id: number }[]];
        for (const row of rows) await admin.query(`KILL CONNECTION ${Number(row.id)}`).catch(() => {});
      });
      for (const kind of kinds) expect(["ok", "unavailable", "aborted"]).toContain(kind);
      let recovered = 0;
      for (let i = 0; i < 10 && recovered < 3; i++) {
        try {
          await store.getSession(key, {});
          recovered++;
        } catch (error) {
          expect((error as SessiondError).kind).toBe("unavailable");
        }
      }
      expect(recovered).toBe(3);
    } finally {
      await admin.end();
      await store.close();
    }
  });

  it("a database resetting its connections is UNAVAILABLE over the API, never the client's CANCELED", async () => {
    // The store's socket fails with ECONNRESET, the code a client's reset has too.
    const isolated = await testStores.postgres!();
    cleanups.push(isolated);
    const url = new URL(isolated.url);
    const target = { port: Number(url.port || 5432), host: url.hostname };
    const upstreams = new Set<Socket>();
    const proxy = createServer((socket) => {
      const upstream = connect(target.port, target.host);
      upstreams.add(socket);
      socket.on("close", () => upstreams.delete(socket));
      for (const [s, other] of [[socket, upstream], [upstream, socket]] as const) {
        s.on("error", () => other.destroy());
        s.on("close", () => other.destroy());
      }
      socket.pipe(upstream).pipe(socket);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    url.host = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const store = await openStore(url.toString());
    const { client, close } = await startTestServer(store, {}, "grpc");
    const codes: Record<string, number> = {};
    try {
      for (let w = 0; w < 4; w++) await client.createSession({ appName: "a", userId: "u", sessionId: `s${w}` });
      let stop = false;
      const writers = Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; !stop; i++) {
          const code = await client.appendEvent({ appName: "a", userId: "u", sessionId: `s${w}`, event: { id: `w${w}-${i}`, author: "user" } }, { timeoutMs: 5000 }).then(
            () => "OK",
            (error: unknown) => Code[ConnectError.from(error).code]!,
          );
          codes[code] = (codes[code] ?? 0) + 1;
        }
      });
      for (let round = 0; round < 3; round++) {
        const okBefore = codes.OK ?? 0;
        await expect.poll(() => codes.OK ?? 0, { timeout: 30_000 }).toBeGreaterThan(okBefore + 5);
        for (const socket of upstreams) socket.resetAndDestroy();
      }
      stop = true;
      await Promise.all(writers);
      expect(codes.Unavailable ?? 0, JSON.stringify(codes)).toBeGreaterThan(0);
      expect(Object.keys(codes).filter((code) => !["OK", "Unavailable", "Aborted"].includes(code)), JSON.stringify(codes)).toEqual([]);
    } finally {
      await close();
      await store.close();
      proxy.close();
    }
  });

  it("the API keeps the driver error as the cause of UNAVAILABLE", async () => {
    const { toConnectError } = await import("../../src/api/errors.js");
    const cause = driverError({ code: "ECONNREFUSED" });
    const error = toConnectError(classifyPostgresError(cause), "GetSession", () => {});
    expect(error).toBeInstanceOf(ConnectError);
    expect(error.code).toBe(Code.Unavailable);
    expect(error.cause).toBe(cause);
    expect(currentCallDeadline()).toBeUndefined();
  });
});

/** Runs appends and reads on four workers while `strike` cuts connections three times; returns each call's outcome. */
/**
 * Resolves once `call` succeeds five times in a row. A connection whose
 * backend was terminated can still be handed out once and fail with
 * UNAVAILABLE (its socket closed while the statement waited to be written:
 * nothing reached the server), as the error says to retry; any other
 * failure, or no recovery within 20 calls, fails the test.
 */
async function recovered(call: () => Promise<unknown>): Promise<void> {
  let inRow = 0;
  for (let i = 0; i < 20 && inRow < 5; i++) {
    try {
      await call();
      inRow++;
    } catch (error) {
      expect(error).toMatchObject({ kind: "unavailable" });
      inRow = 0;
    }
  }
  expect(inRow).toBe(5);
}

async function underFire(store: Store, strike: () => Promise<unknown>): Promise<string[]> {
  const kinds: string[] = [];
  let stop = false;
  const worker = async (w: number) => {
    for (let i = 0; !stop; i++) {
      try {
        if (i % 2 === 0) await store.appendEvents(key, { events: [{ event: eventData(`w${w}-${i}`, { timestampUs: 1 }), delta: NO_DELTA }], nowUs: 1 });
        else await store.getSession(key, { numRecentEvents: 1 });
        kinds.push("ok");
      } catch (error) {
        kinds.push(error instanceof SessiondError ? error.kind : `raw ${String(error)}`);
      }
    }
  };
  const workers = [0, 1, 2, 3].map(worker);
  for (let round = 0; round < 3; round++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    await strike();
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  stop = true;
  await Promise.all(workers);
  return kinds;
}
