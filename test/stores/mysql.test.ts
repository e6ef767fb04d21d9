import { type Connection, createConnection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { migrateCommand } from "../../src/commands/migrate.js";
import { SessiondError } from "../../src/core/errors.js";
import { splitDelta } from "../../src/core/state.js";
import type { EventData, JsonObject, NewSession, PendingEvent, SessionKey } from "../../src/core/types.js";
import { MysqlStore } from "../../src/stores/mysql.js";
import { openStore } from "../../src/stores/open.js";
import { parseMysqlUrl } from "../../src/stores/private/mysql-options.js";
import { MysqlDriver } from "../../src/stores/private/mysql-driver.js";
import { utcDatetime } from "../../src/stores/sql/rows.js";
import { type IsolatedStore, testStores } from "../support/stores.js";
import { eventData } from "../support/events.js";

/** Store behaviour the conformance suite cannot see: schema, collation, time precision, options. */

const NOW = 1_750_000_000_123_457;

function newSession(key: SessionKey, state: JsonObject = {}, nowUs = NOW): NewSession {
  return { appName: key.appName, userId: key.userId, id: key.sessionId, agentId: "", metadata: {}, delta: splitDelta(state).scoped, nowUs };
}

function pending(id: string, extra: Partial<EventData> = {}, delta?: JsonObject): PendingEvent {
  const event = eventData(id, { timestampUs: NOW, content: { role: "user", parts: [{ text: id }] }, ...extra });
  return { event, delta: splitDelta(delta).scoped };
}

async function expectError(call: Promise<unknown>, kind: string, fragment: string): Promise<void> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${kind}`).toBeInstanceOf(SessiondError);
  expect((error as SessiondError).kind).toBe(kind);
  expect((error as SessiondError).message).toContain(fragment);
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("mysql store", () => {
  let isolated: IsolatedStore;
  let admin: Connection;
  let database: string;
  let connect: () => Promise<Connection>;
  const withParams = (params: string) => `${isolated.url}${isolated.url.includes("?") ? "&" : "?"}${params}`;
  const tables = async () =>
    (
      (await admin.query("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name", [
        database,
      ])) as unknown as [{ name: string }[]]
    )[0].map((r) => r.name);

  beforeAll(async () => {
    isolated = await testStores.mysql!();
    const url = new URL(isolated.url);
    database = url.pathname.slice(1);
    connect = () =>
      createConnection({ host: url.hostname, port: Number(url.port || 3306), user: url.username || "root", password: url.password, database });
    admin = await connect();
  });
  afterAll(async () => {
    await admin?.end();
    await isolated?.cleanup();
  });

  describe("schema", () => {
    it("fails clearly with auto_migrate=false on an empty database, and works once migrated", async () => {
      const url = withParams("auto_migrate=false&table_prefix=manual_");
      await expectError(openStore(url), "unavailable", 'run "sessiond migrate"');
      expect(await tables()).not.toContain("manual_sessions");
      const log = vi.spyOn(console, "log").mockImplementation(() => {});
      try {
        await migrateCommand(["--store", withParams("table_prefix=manual_")]);
      } finally {
        log.mockRestore();
      }
      const store = await openStore(url);
      try {
        await store.createSession(newSession({ appName: "a", userId: "u", sessionId: "s" }));
        expect((await store.getSession({ appName: "a", userId: "u", sessionId: "s" }, {})).view.session.id).toBe("s");
      } finally {
        await store.close();
      }
    });

    it("records migrations once and may run again, also concurrently", async () => {
      const url = withParams("table_prefix=mig_");
      const stores = await Promise.all([MysqlStore.open(url), MysqlStore.open(url), MysqlStore.open(url)]);
      await Promise.all(stores.map((s) => s.migrate()));
      await Promise.all(stores.map((s) => s.close()));
      const [rows] = (await admin.query("SELECT version, name FROM mig_schema_migrations")) as unknown as [JsonObject[]];
      expect(rows).toEqual([
        { version: 1, name: "initial schema" },
        { version: 2, name: "initial state and fork lineage" },
        { version: 3, name: "encoded event tails" },
      ]);
      expect((await tables()).filter((t) => t.startsWith("mig_")).sort()).toEqual([
        "mig_app_states",
        "mig_schema_migrations",
        "mig_session_events",
        "mig_sessions",
        "mig_user_states",
      ]);
    });

    it("fails to open with UNAVAILABLE naming the server or the missing database", async () => {
      await expectError(MysqlStore.open("mysql://root@127.0.0.1:1/sessiond"), "unavailable", "at 127.0.0.1:1");
      const missing = new URL(isolated.url);
      missing.pathname = `/${database}_missing`;
      await expectError(MysqlStore.open(missing.toString()), "unavailable", `${database}_missing`);
    });

    it("rejects a table prefix that is not an identifier before connecting", async () => {
      for (const prefix of ["x;DROP TABLE sessions;--", "a b", "1abc", "`x`", "x".repeat(33)]) {
        await expectError(MysqlStore.open(withParams(`table_prefix=${encodeURIComponent(prefix)}`)), "invalid_argument", "table prefix");
      }
      expect((await tables()).some((t) => t.includes("DROP") || t.includes(" "))).toBe(false);
    });
  });

  describe("data", () => {
    let store: MysqlStore;
    beforeAll(async () => {
      store = await MysqlStore.open(withParams("table_prefix=data_"));
    });
    afterAll(async () => store?.close());

    it("treats ids that differ in case, accents or trailing spaces as different sessions", async () => {
      const ids = ["A", "a", "a ", "á", "ä", "ss", "ß"];
      for (const id of ids) {
        await store.createSession(newSession({ appName: "case", userId: "u", sessionId: id }, { who: id }));
      }
      for (const id of ids) {
        const { view } = await store.getSession({ appName: "case", userId: "u", sessionId: id }, {});
        expect(view.session.id).toBe(id);
        expect(view.session.state).toEqual({ who: id });
      }
      const listed = await store.listSessions({ appName: "case", order: "asc", offset: 0, limit: 100 });
      expect(listed.map((v) => v.session.id).sort()).toEqual([...ids].sort());
      await expectError(store.createSession(newSession({ appName: "case", userId: "u", sessionId: "A" })), "already_exists", '"A"');
      await expectError(store.getSession({ appName: "Case", userId: "u", sessionId: "A" }, {}), "not_found", '"A"');
      // Event ids too: "E" and "e" are two events, not a retry.
      const key = { appName: "case", userId: "u", sessionId: "a" };
      const outcome = await store.appendEvents(key, { events: [pending("E"), pending("e"), pending("e ")], nowUs: NOW });
      expect(outcome.events.map((e) => e.sequence)).toEqual([1, 2, 3]);
      const again = await store.appendEvents(key, { events: [pending("e")], nowUs: NOW });
      expect(again.events[0]!.sequence).toBe(2);
    });

    it("round-trips emoji and CJK in ids, state, metadata and events", async () => {
      const key = { appName: "应用🚀", userId: "用户😀", sessionId: "会话-🎌-𠜎" };
      const state = { "键🔑": "值 🙂", "app:共享": "🌏", "user:名前": "テスト 👍" };
      await store.createSession({ ...newSession(key, state), metadata: { 标签: ["😀", "𝄞"] } });
      const content = { role: "model", parts: [{ text: "你好，世界 🌍 — 𝒳 ∑ 😀" }] };
      await store.appendEvents(key, {
        events: [pending("事件-🚀", { author: "作者🙂", branch: "分支.😀", content }, { "user:名前": "更新 ✅" })],
        nowUs: NOW,
      });
      const { view, events } = await store.getSession(key, {});
      expect(view.session).toMatchObject({ appName: key.appName, userId: key.userId, id: key.sessionId, metadata: { 标签: ["😀", "𝄞"] } });
      expect(view.session.state).toEqual({ "键🔑": "值 🙂" });
      expect(view.appState).toEqual({ 共享: "🌏" });
      expect(view.userState).toEqual({ 名前: "更新 ✅" });
      expect(events[0]).toMatchObject({ id: "事件-🚀", author: "作者🙂", branch: "分支.😀", content });
      const filtered = await store.readEvents(key, { filter: { author: "作者🙂" }, afterSequence: 0, limit: 10 });
      expect(filtered.map((e) => e.id)).toEqual(["事件-🚀"]);
      const scanned = await store.scanSessions({ appName: key.appName, userId: "", sessionId: "" }, 10);
      expect(scanned.filter((s) => s.appName === key.appName).map((s) => s.id)).toEqual([key.sessionId]);
    });

    it("keeps microseconds of event, create and update times, also before 1970", async () => {
      const key = { appName: "micro", userId: "u", sessionId: "s" };
      await store.createSession(newSession(key, {}, 1_700_000_000_000_001));
      // The last two are the ends of the accepted range (years 1 and 9999), beyond 2^53 but exact as doubles.
      const times = [1_700_000_000_123_457, 1_700_000_000_123_458, -1, -86_400_000_001, 0, 4_102_444_799_999_999, -62_135_596_800_000_000, 253_402_300_799_000_000];
      await store.appendEvents(key, { events: times.map((t, i) => pending(`t${i}`, { timestampUs: t })), nowUs: 1_700_000_001_999_999 });
      const { view, events } = await store.getSession(key, {});
      expect(events.map((e) => e.timestampUs)).toEqual(times);
      expect(view.session.createTimeUs).toBe(1_700_000_000_000_001);
      // An append sets the update time to its last event's timestamp.
      expect(view.session.updateTimeUs).toBe(times.at(-1));
      const [rows] = (await admin.query(
        "SELECT CAST(e.timestamp AS CHAR) AS t FROM data_session_events e JOIN data_sessions s ON s.pk = e.session_pk WHERE s.app_name = 'micro' ORDER BY e.sequence",
      )) as unknown as [{ t: string }[]];
      expect(rows.map((r) => r.t)).toEqual([
        "2023-11-14 22:13:20.123457",
        "2023-11-14 22:13:20.123458",
        "1969-12-31 23:59:59.999999",
        "1969-12-30 23:59:59.999999",
        "1970-01-01 00:00:00.000000",
        "2099-12-31 23:59:59.999999",
        "0001-01-01 00:00:00.000000",
        "9999-12-31 23:59:59.000000",
      ]);
      // Filters compare at microsecond precision: start inclusive, end exclusive.
      const window = await store.readEvents(key, {
        filter: { startTimeUs: 1_700_000_000_123_457, endTimeUs: 1_700_000_000_123_458 },
        afterSequence: 0,
        limit: 10,
      });
      expect(window.map((e) => e.id)).toEqual(["t0"]);
      const recent = await store.getSession(key, { afterTimeUs: 1_700_000_000_123_458 });
      expect(recent.events.map((e) => e.id)).toEqual(["t1", "t5", "t7"]);
      expect(utcDatetime(-1_000_000)).toBe("1969-12-31 23:59:59.000000");
    });

    it("applies concurrent shared-state deltas from many sessions without losing one", async () => {
      const appName = "shared";
      const keys = Array.from({ length: 12 }, (_, i) => ({ appName, userId: `u${i % 2}`, sessionId: `s${i}` }));
      await Promise.all(keys.map((k, i) => store.createSession(newSession(k, { [`app:c${i}`]: i, [`user:c${i}`]: i }))));
      await Promise.all(keys.map((k, i) => store.appendEvents(k, { events: [pending("x", {}, { [`app:e${i}`]: i, [`user:e${i}`]: i })], nowUs: NOW })));
      const { appState, userState } = await store.getSharedState(appName, "u0");
      expect(Object.keys(appState)).toHaveLength(24);
      expect(Object.keys(userState).sort()).toEqual(keys.flatMap((_, i) => (i % 2 === 0 ? [`c${i}`, `e${i}`] : [])).sort());
    });

    it("retries an append that loses a deadlock, transparently and without a gap", async () => {
      const key = { appName: "deadlock", userId: "u", sessionId: "s" };
      await store.createSession(newSession(key, { "app:x": 0 }));
      const other = await connect();
      try {
        await other.query("START TRANSACTION");
        // Many changed rows make this transaction the heavier one, so InnoDB picks the append as the victim.
        const filler = Array.from({ length: 300 }, (_, i) => ["deadlock-filler", `u${i}`, "{}", "2024-01-01 00:00:00"]);
        await other.query("INSERT INTO data_user_states (app_name, user_id, state, updated_at) VALUES ?", [filler]);
        await other.query("SELECT state FROM data_app_states WHERE app_name = 'deadlock' FOR UPDATE");
        const append = store.appendEvents(key, { events: [pending("x", {}, { "app:x": 1, n: 1 })], nowUs: NOW });
        append.catch(() => {}); // awaited below; a rejection must not count as unhandled meanwhile
        await until(async () => {
          const [rows] = (await admin.query("SELECT COUNT(*) AS n FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'")) as unknown as [
            { n: number }[],
          ];
          return Number(rows[0]!.n) > 0;
        });
        // The append holds the session row and waits for the app row; this closes the cycle.
        await other.query("SELECT pk FROM data_sessions WHERE app_name = 'deadlock' FOR UPDATE");
        await other.query("ROLLBACK");
        const outcome = await append;
        expect(outcome.events.map((e) => e.sequence)).toEqual([1]);
      } finally {
        await other.end();
      }
      const { view, events } = await store.getSession(key, {});
      expect(events.map((e) => e.sequence)).toEqual([1]);
      expect(view.session.state).toEqual({ n: 1 });
      expect(view.appState).toEqual({ x: 1 });
    });

    it("stores a batch larger than half of max_allowed_packet in one transaction", async () => {
      const key = { appName: "big", userId: "u", sessionId: "s" };
      await store.createSession(newSession(key));
      const [[packet]] = (await admin.query("SELECT @@max_allowed_packet AS bytes")) as unknown as [{ bytes: number }[]];
      const size = 700 * 1024;
      const count = Math.ceil(Number(packet!.bytes) / size) + 2;
      const events = Array.from({ length: count }, (_, i) => pending(`b${i}`, { content: { text: `${i}`.padEnd(size, "x") } }));
      const outcome = await store.appendEvents(key, { events, nowUs: NOW });
      expect(outcome.lastSequence).toBe(count);
      const stored = await store.readEvents(key, { filter: {}, afterSequence: 0, limit: 1000 });
      expect(stored.map((e) => (e.content!.text as string).length)).toEqual(Array(count).fill(size));
    });
  });

  describe("pool", () => {
    it("honours connection_limit, reports pool figures and answers ping", async () => {
      const store = await MysqlStore.open(withParams("table_prefix=pool_&connection_limit=2"));
      try {
        await Promise.all(Array.from({ length: 8 }, () => store.ping()));
        const stats = store.poolStats();
        expect(stats.total).toBeGreaterThan(0);
        expect(stats.total).toBeLessThanOrEqual(2);
        expect(stats.waiting).toBe(0);
        expect(stats.idle).toBe(stats.total);
      } finally {
        await store.close();
      }
    });

    it("sets utf8mb4, UTC and strict mode on every connection", async () => {
      const pool = new MysqlDriver(parseMysqlUrl(withParams("connection_limit=3")));
      try {
        const sessions = await Promise.all(
          Array.from({ length: 3 }, () =>
            pool.transaction("read", async (tx) => (await tx.run("SELECT @@time_zone AS tz, @@sql_mode AS mode, @@character_set_connection AS charset, SLEEP(0.05) AS s")).rows),
          ),
        );
        expect(pool.poolStats().total).toBe(3);
        for (const [row] of sessions) {
          expect(row).toMatchObject({ tz: "+00:00", charset: "utf8mb4" });
          expect(String(row!.mode)).toContain("STRICT_ALL_TABLES");
        }
      } finally {
        await pool.close();
      }
    });

    it("closes idle connections after idle_timeout", async () => {
      const store = await MysqlStore.open(withParams("table_prefix=pool_&idle_timeout=1"));
      try {
        await store.ping();
        expect(store.poolStats().total).toBe(1);
        await until(() => store.poolStats().total === 0);
      } finally {
        await store.close();
      }
    });

    it("retires connections older than max_lifetime even when they are kept busy", async () => {
      const store = await MysqlStore.open(withParams("table_prefix=pool_&connection_limit=1&idle_timeout=0&max_lifetime=1"));
      const ids = async () =>
        (
          (await admin.query("SELECT id AS conn FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()", [database])) as unknown as [
            { conn: number }[],
          ]
        )[0].map((r) => Number(r.conn));
      try {
        await store.ping();
        const [first] = await ids();
        expect(first).toBeDefined();
        await until(async () => {
          await store.ping();
          const now = await ids();
          return now.length === 1 && !now.includes(first!);
        });
      } finally {
        await store.close();
      }
    });
  });

  describe("URL", () => {
    it("reads connection details and defaults", () => {
      const s = parseMysqlUrl("mysql://app:p%40ss%3Aword@db.example:3307/sessions");
      expect(s).toMatchObject({
        host: "db.example",
        port: 3307,
        user: "app",
        password: "p@ss:word",
        database: "sessions",
        tablePrefix: "",
        connectionLimit: 10,
        idleTimeoutMs: 60_000,
        maxLifetimeMs: 0,
        tls: "off",
        autoMigrate: undefined,
      });
      expect(s.tables.sessions).toBe("sessions");
      expect(parseMysqlUrl("mariadb://[::1]/db")).toMatchObject({ host: "::1", port: 3306, user: "", password: "", database: "db" });
    });

    it("reads every option", () => {
      const s = parseMysqlUrl(
        "mysql://root@h/db?table_prefix=sd_&connection_limit=5&idle_timeout=30&max_lifetime=600&ssl=true&auto_migrate=false",
      );
      expect(s).toMatchObject({ tablePrefix: "sd_", connectionLimit: 5, idleTimeoutMs: 30_000, maxLifetimeMs: 600_000, tls: "verify", autoMigrate: false });
      expect(s.tables.events).toBe("sd_session_events");
      expect(parseMysqlUrl("mysql://h/db?max=3&ssl=required&auto_migrate=true")).toMatchObject({ connectionLimit: 3, tls: "required", autoMigrate: true });
      expect(parseMysqlUrl("mysql://h/db?ssl=false").tls).toBe("off");
    });

    it("rejects bad URLs and options, naming them", () => {
      const rejects = (url: string, fragment: string) => {
        let error: unknown;
        try {
          parseMysqlUrl(url);
        } catch (e) {
          error = e;
        }
        expect(error, url).toBeInstanceOf(SessiondError);
        expect((error as SessiondError).kind).toBe("invalid_argument");
        expect((error as SessiondError).message).toContain(fragment);
      };
      rejects("mysql://h", "database");
      rejects("mysql://h/db?charset=latin1", '"charset"');
      rejects("mysql://h/db?connection_limit=0", "connection_limit");
      rejects("mysql://h/db?max=lots", "max");
      rejects("mysql://h/db?idle_timeout=-1", "idle_timeout");
      rejects("mysql://h/db?max_lifetime=1.5", "max_lifetime");
      rejects("mysql://h/db?ssl=maybe", "ssl");
      rejects("mysql://h/db?auto_migrate=no", "auto_migrate");
      rejects("mysql://h/db?table_prefix=a-b", "table prefix");
      rejects("not a url", "valid URL");
    });
  });
});
