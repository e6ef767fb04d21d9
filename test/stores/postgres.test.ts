import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateCommand } from "../../src/commands/migrate.js";
import { SessiondError } from "../../src/core/errors.js";
import { splitDelta } from "../../src/core/state.js";
import type { EventData, SessionKey } from "../../src/core/types.js";
import { openStore } from "../../src/stores/open.js";
import { PostgresStore } from "../../src/stores/postgres.js";
import { parsePostgresUrl } from "../../src/stores/private/postgres-options.js";
import { type IsolatedStore, isolationName, serviceUrls, testStores } from "../support/stores.js";
import { eventData } from "../support/events.js";

/** Store behaviour beyond the conformance suite: URL options, migrations, precision, notifications. */

const admin = postgres(serviceUrls.postgres, { max: 2, onnotice: () => {} });
const isolated: IsolatedStore[] = [];
const opened: PostgresStore[] = [];

async function freshSchema(): Promise<{ url: string; schema: string }> {
  const place = await testStores.postgres!();
  isolated.push(place);
  return { url: place.url, schema: new URLSearchParams(place.url.split("?")[1]).get("schema")! };
}

async function open(url: string, options?: { autoMigrate?: boolean }): Promise<PostgresStore> {
  const store = await PostgresStore.open(url, options);
  opened.push(store);
  return store;
}

async function expectError(call: Promise<unknown>, kind: SessiondError["kind"], fragment: string): Promise<void> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SessiondError);
  expect((error as SessiondError).kind).toBe(kind);
  expect((error as SessiondError).message).toContain(fragment);
}

const key: SessionKey = { appName: "app", userId: "user", sessionId: "s1" };

async function createSession(store: PostgresStore, k: SessionKey = key) {
  return store.createSession({
    appName: k.appName,
    userId: k.userId,
    id: k.sessionId,
    agentId: "",
    metadata: {},
    delta: splitDelta({ "app:a": 1 }).scoped,
    nowUs: 1_750_000_000_000_001,
  });
}

function event(id: string, timestampUs: number, text = id): EventData {
  return eventData(id, { invocationId: "inv", timestampUs, content: { parts: [{ text }] } });
}

async function append(store: PostgresStore, id: string, k: SessionKey = key, timestampUs = 1_750_000_000_000_000) {
  return store.appendEvents(k, { events: [{ event: event(id, timestampUs), delta: splitDelta(undefined).scoped }], nowUs: timestampUs });
}

/** Resolves when `check` holds, polling; fails after `ms`. */
async function eventually(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

afterAll(async () => {
  for (const store of opened) await store.close();
  for (const place of isolated) await place.cleanup();
  await admin.end();
});

describe("postgres URL options", () => {
  it("reads schema, prefix, pool and TLS options and strips them from the driver's URL", () => {
    const parsed = parsePostgresUrl(
      "postgresql://u:p@db:5433/app?schema=tenant_1&table_prefix=sd_&max=25&idle_timeout=30&max_lifetime=600&sslmode=verify-full&auto_migrate=false&application_name=x",
    );
    expect(parsed).toEqual({
      driverUrl: "postgresql://u:p@db:5433/app?application_name=x",
      schema: "tenant_1",
      tablePrefix: "sd_",
      max: 25,
      idleTimeout: 30,
      maxLifetime: 600,
      ssl: "verify-full",
      autoMigrate: false,
    });
  });

  it("defaults to the public schema, 10 connections and no TLS", () => {
    const parsed = parsePostgresUrl("postgres://db/app");
    expect(parsed).toMatchObject({ driverUrl: "postgres://db/app", schema: "public", tablePrefix: "", max: 10, ssl: false });
    expect(parsed.idleTimeout).toBeUndefined();
    expect(parsed.autoMigrate).toBeUndefined();
    expect(parsePostgresUrl("postgres://db/app?sslmode=require").ssl).toBe("require");
    expect(parsePostgresUrl("postgres://db/app?sslmode=disable").ssl).toBe(false);
  });

  it("rejects bad values naming the parameter", () => {
    const bad: [string, string][] = [
      ["schema=x;drop table y", "schema"],
      ["schema=1abc", "schema"],
      ["max=0", "max"],
      ["max=ten", "max"],
      ["idle_timeout=-1", "idle_timeout"],
      ["max_lifetime=1.5", "max_lifetime"],
      ["sslmode=prefer", "sslmode"],
      ["auto_migrate=maybe", "auto_migrate"],
    ];
    for (const [query, name] of bad) {
      expect(() => parsePostgresUrl(`postgres://db/app?${query}`), query).toThrow(name);
    }
  });

  it("rejects a table prefix with SQL in it before connecting", async () => {
    const { url } = await freshSchema();
    await expectError(PostgresStore.open(`${url}&table_prefix=x;drop%20table%20y;--`), "invalid_argument", "table prefix");
    await expectError(PostgresStore.open(`${url}&table_prefix=a%22b`), "invalid_argument", "table prefix");
  });
});

describe("postgres schema", () => {
  it("records the migrations once; running them again changes nothing", async () => {
    const { url, schema } = await freshSchema();
    const store = await open(url);
    const rows = () => admin`SELECT version, name, applied_at FROM ${admin(`${schema}.schema_migrations`)} ORDER BY version`;
    const first = await rows();
    expect(first.map((r) => [r.version, r.name])).toEqual([
      [1, "initial schema"],
      [2, "initial state and fork lineage"],
      [3, "encoded event tails"],
      [4, "events without a foreign key"],
    ]);
    await store.migrate();
    await (await open(url)).migrate();
    expect(await rows()).toEqual(first);
  });

  it("creates a missing schema when migrating", async () => {
    const { url, schema } = await freshSchema();
    const missing = `${schema}_new`;
    isolated.push({ url: "", cleanup: async () => void (await admin`DROP SCHEMA IF EXISTS ${admin(missing)} CASCADE`) });
    await open(url.replace(`schema=${schema}`, `schema=${missing}`));
    const [found] = await admin`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = ${missing}`;
    expect(found!.n).toBe(5);
  });

  it("with auto_migrate=false fails on an empty schema until `sessiond migrate` ran", async () => {
    const { url, schema } = await freshSchema();
    await expectError(PostgresStore.open(`${url}&auto_migrate=false`), "unavailable", "sessiond migrate");
    await expectError(PostgresStore.open(url, { autoMigrate: false }), "unavailable", `schema "${schema}" is at version 0`);
    const [tables] = await admin`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = ${schema}`;
    expect(tables!.n).toBe(0);
    await migrateCommand(["--store", url]);
    const store = await open(`${url}&auto_migrate=false`);
    await createSession(store);
    expect((await store.getSession(key, {})).view.appState).toEqual({ a: 1 });
  });

  it("serves with a role that may only read and write the tables", async () => {
    const { url, schema } = await freshSchema();
    await migrateCommand(["--store", url]);
    const role = isolationName("sessiond_app");
    await admin`CREATE ROLE ${admin(role)} LOGIN`;
    isolated.push({ url: "", cleanup: async () => void (await admin`DROP OWNED BY ${admin(role)}`, await admin`DROP ROLE ${admin(role)}`) });
    await admin`GRANT USAGE ON SCHEMA ${admin(schema)} TO ${admin(role)}`;
    await admin`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${admin(schema)} TO ${admin(role)}`;
    const asApp = new URL(url);
    asApp.username = role;
    asApp.password = "";
    asApp.searchParams.set("auto_migrate", "false");
    const store = await open(asApp.toString());
    await createSession(store);
    await store.appendEvents(key, { events: [{ event: event("e1", 5), delta: splitDelta({ "user:u": 2, s: 3 }).scoped }], nowUs: 5 });
    const { view, events } = await store.getSession(key, {});
    expect(events.map((e) => e.id)).toEqual(["e1"]);
    expect([view.appState, view.userState, view.session.state]).toEqual([{ a: 1 }, { u: 2 }, { s: 3 }]);
    const asRole = postgres(asApp.toString().split("?")[0]!, { max: 1, onnotice: () => {} });
    await expect(asRole`CREATE TABLE ${asRole(`${schema}.nope`)} (x int)`).rejects.toThrow(/permission denied/);
    await asRole.end();
  });

  it("puts a valid table prefix on every table", async () => {
    const { url, schema } = await freshSchema();
    const store = await open(`${url}&table_prefix=sd_`);
    const tables = await admin`SELECT table_name FROM information_schema.tables WHERE table_schema = ${schema} ORDER BY table_name`;
    expect(tables.map((r) => r.table_name)).toEqual(["sd_app_states", "sd_schema_migrations", "sd_session_events", "sd_sessions", "sd_user_states"]);
    await createSession(store);
    await append(store, "e1");
    expect((await store.readEvents(key, { filter: {}, afterSequence: 0, limit: 10 })).map((e) => e.id)).toEqual(["e1"]);
  });

  it("fails to open with UNAVAILABLE and the driver's reason when the server is unreachable", async () => {
    const unreachable = new URL(serviceUrls.postgres);
    unreachable.hostname = "127.0.0.1";
    unreachable.port = "1";
    await expectError(PostgresStore.open(unreachable.toString()), "unavailable", "ECONNREFUSED");
  });

  it("opens through openStore for postgres:// and postgresql:// URLs", async () => {
    const { url } = await freshSchema();
    for (const u of [url, url.replace(/^postgres:/, "postgresql:")]) {
      const store = await openStore(u);
      expect(store.kind).toBe("postgres");
      await store.ping!();
      await store.close();
    }
  });
});

describe("postgres store", () => {
  let url: string;
  let schema: string;
  let store: PostgresStore;
  beforeAll(async () => {
    ({ url, schema } = await freshSchema());
    store = await open(`${url}&max=4`);
  });

  it("keeps microseconds of event, create and update times", async () => {
    const k = { ...key, sessionId: "micro" };
    await createSession(store, k);
    // The last is the largest safe integer: a float8 detour through seconds would lose its microseconds.
    const times = [1_750_000_000_123_457, 1_000_001, -86_400_000_001, 4_102_444_800_000_001, Number.MAX_SAFE_INTEGER];
    for (const [i, t] of times.entries()) await append(store, `t${i}`, k, t);
    const events = await store.readEvents(k, { filter: {}, afterSequence: 0, limit: 10 });
    expect(events.map((e) => e.timestampUs)).toEqual(times);
    const [row] = await admin`SELECT "timestamp"::text AS t FROM ${admin(`${schema}.session_events`)} WHERE id = 't0'`;
    expect(row!.t).toBe("2025-06-15 15:06:40.123457+00");
    const { view } = await store.getSession(k, { numRecentEvents: 0 });
    expect(view.session.createTimeUs).toBe(1_750_000_000_000_001);
    expect(view.session.updateTimeUs).toBe(times.at(-1));
    // Filters compare at full precision too: [start, end) around one microsecond.
    const one = await store.readEvents(k, { filter: { startTimeUs: times[0], endTimeUs: times[0]! + 1 }, afterSequence: 0, limit: 10 });
    expect(one.map((e) => e.id)).toEqual(["t0"]);
  });

  it("rejects text PostgreSQL cannot store without writing anything", async () => {
    const k = { ...key, sessionId: "nul" };
    await createSession(store, k);
    const bad = { event: event("bad", 1, "a\u0000b"), delta: splitDelta({ x: 1 }).scoped };
    await expectError(store.appendEvents(k, { events: [bad], nowUs: 1 }), "invalid_argument", "\\u0000");
    const { view, events } = await store.getSession(k, {});
    expect(events).toEqual([]);
    expect(view.session.state).toEqual({});
    expect(view.session.lastSequence).toBe(0);
  });

  it("plans on its connections for the parameters and without JIT compilation", async () => {
    // The settings are the connections' own, so they are read through the store's driver.
    const { db } = store as unknown as { db: { run(sql: string): Promise<{ rows: Record<string, unknown>[] }> } };
    expect((await db.run("SHOW jit")).rows).toEqual([{ jit: "off" }]);
    expect((await db.run("SHOW plan_cache_mode")).rows).toEqual([{ plan_cache_mode: "force_custom_plan" }]);
  });

  it("appends to a known session through a plan made once that finds it by primary key, however small the table was when it was made", async () => {
    const { url: own, schema: ownSchema } = await freshSchema();
    // One connection, so the plan made by the second append is the one the later appends use.
    const single = await open(`${own}&max=1`);
    const { db } = single as unknown as { db: { run(sql: string): Promise<unknown> } };
    const sessions = admin(`${ownSchema}.sessions`);
    const k = { ...key, sessionId: "planned" };
    await createSession(single, k);
    // Statistics of a one-row table, kept while the table grows: with them, a plan made by session key would
    // look the session up through any index that starts with app_name.
    await admin`ALTER TABLE ${sessions} SET (autovacuum_enabled = false)`;
    await admin`ANALYZE ${sessions}`;
    await append(single, "p0", k);
    await append(single, "p1", k);
    await admin`INSERT INTO ${sessions} (app_name, user_id, id, created_at, updated_at)
      SELECT 'app', 'user', 'other-' || g, now(), now() FROM generate_series(1, 20000) AS g`;
    const scans = async () => {
      // Statistics reach shared memory when the connection that counted them goes idle after this.
      await db.run("SELECT pg_stat_force_next_flush()");
      const rows = await admin`SELECT indexrelname AS name, idx_scan::int AS scans FROM pg_stat_user_indexes WHERE schemaname = ${ownSchema} AND relname = 'sessions'`;
      const [table] = await admin`SELECT seq_scan::int AS scans FROM pg_stat_user_tables WHERE schemaname = ${ownSchema} AND relname = 'sessions'`;
      return { sequential: table!.scans as number, ...Object.fromEntries(rows.map((r) => [r.name as string, r.scans as number])) } as Record<string, number>;
    };
    const before = await scans();
    for (let i = 2; i <= 6; i++) await append(single, `p${i}`, k);
    const after = await scans();
    const used = Object.fromEntries(Object.keys(after).map((name) => [name, after[name]! - before[name]!]));
    // Each append finds the session and updates it through its primary key, and through no other index.
    expect(used.sessions_pkey).toBeGreaterThanOrEqual(10);
    expect({ ...used, sessions_pkey: 0 }).toEqual(Object.fromEntries(Object.keys(after).map((name) => [name, 0])));
    const events = await single.readEvents(k, { filter: {}, afterSequence: 0, limit: 10 });
    expect(events.map((e) => [e.id, e.sequence])).toEqual(["p0", "p1", "p2", "p3", "p4", "p5", "p6"].map((id, i) => [id, i + 1]));
  });

  it("appends to a session deleted and created again under the same key after appending to the first one", async () => {
    const k = { ...key, sessionId: "again" };
    await createSession(store, k);
    await append(store, "a1", k);
    await append(store, "a2", k);
    await store.deleteSession(k);
    await expectError(append(store, "a3", k), "not_found", "again");
    await createSession(store, k);
    await append(store, "b1", k);
    await append(store, "b2", k);
    const events = await store.readEvents(k, { filter: {}, afterSequence: 0, limit: 10 });
    expect(events.map((e) => [e.id, e.sequence])).toEqual([["b1", 1], ["b2", 2]]);
    const { view } = await store.getSession(k, { numRecentEvents: 0 });
    expect(view.session.lastSequence).toBe(2);
  });

  it("returns connections without an open transaction after failed appends", async () => {
    const name = isolationName("sessiond_tx");
    const single = await open(`${url}&max=1&application_name=${name}`);
    const k = { ...key, sessionId: "conflict" };
    await createSession(single, k);
    await append(single, "c1", k);
    const stale = { events: [{ event: event("c2", 2), delta: splitDelta(undefined).scoped }], expectedLastSequence: 0, nowUs: 2 };
    await expectError(single.appendEvents(k, stale), "aborted", "expected_last_sequence");
    await expectError(append(single, "x", { ...key, sessionId: "missing" }), "not_found", "missing");
    // The last read's COMMIT is not waited for: the connection must come back to idle, not stay in a transaction.
    const busy = async () => (await admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ${name} AND state <> 'idle'`)[0]!.n as number;
    for (const deadline = Date.now() + 10_000; (await busy()) > 0 && Date.now() < deadline; ) await new Promise((resolve) => setImmediate(resolve));
    expect(await busy()).toBe(0);
    // The session's row lock is free: another pool appends at once.
    expect((await append(store, "c3", k)).lastSequence).toBe(2);
  });

  it("runs pipelined transactions back to back on one connection without mixing them up", async () => {
    const name = isolationName("sessiond_pipe");
    const single = await open(`${url}&max=1&application_name=${name}`);
    const keys = Array.from({ length: 6 }, (_, i) => ({ appName: name, userId: `pipe-${i % 2}`, sessionId: `pipe-${i}` }));
    await Promise.all(keys.map((k, i) => single.createSession({ appName: k.appName, userId: k.userId, id: k.sessionId, agentId: "", metadata: {}, delta: splitDelta({ [`user:n${i}`]: i, "app:pipe": i }).scoped, nowUs: 1 })));
    // Reads (whose COMMIT is not waited for), writes (COMMIT behind their last statement) and failures, all queued on the one connection.
    const calls = keys.flatMap((k, i) => [
      single.getSession(k, {}),
      single.updateSession(k, { metadata: { round: i }, nowUs: 10 + i }),
      append(single, `p${i}`, k),
      single.getSession(k, { numRecentEvents: 1 }),
      single.createSession({ appName: k.appName, userId: k.userId, id: k.sessionId, agentId: "", metadata: {}, delta: splitDelta({ "app:pipe": -1 }).scoped, nowUs: 1 }),
    ]);
    const settled = await Promise.allSettled(calls);
    const failures = settled.flatMap((r) => (r.status === "rejected" ? [(r.reason as SessiondError).kind] : []));
    expect(failures).toEqual(keys.map(() => "already_exists"));
    for (const [i, k] of keys.entries()) {
      const { view, events } = await single.getSession(k, {});
      expect(view.session.metadata).toEqual({ round: i });
      expect(events.map((e) => e.id)).toEqual([`p${i}`]);
      expect(view.appState.pipe).not.toBe(-1);
    }
    // The last read's COMMIT is not waited for: the connection must come back to idle, not stay in a transaction.
    const busy = async () => (await admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ${name} AND state <> 'idle'`)[0]!.n as number;
    for (const deadline = Date.now() + 10_000; (await busy()) > 0 && Date.now() < deadline; ) await new Promise((resolve) => setImmediate(resolve));
    expect(await busy()).toBe(0);
  });

  it("fails a statement with an undefined parameter instead of leaving its connection hanging", async () => {
    const single = await open(`${url}&max=1`);
    const k = { appName: isolationName("undef"), userId: "u", id: "s", agentId: "", delta: splitDelta({ "app:x": 1 }).scoped, nowUs: 1 };
    // A sessiond bug, not a client's input: metadata is required.
    const broken = { ...k, metadata: undefined as never };
    await expect(single.createSession(broken)).rejects.toThrow(/undefined parameter/);
    expect((await single.createSession({ ...k, metadata: {} })).session.id).toBe("s");
  });

  it("appends that waited for the session's lock: a retry of the same batch gets the first's sequences, others follow gaplessly", async () => {
    const k = { ...key, sessionId: "queued" };
    await createSession(store, k);
    await append(store, "q0", k);
    const batch = (ids: string[], turn: number) => ({
      events: ids.map((id) => ({ event: event(id, 2), delta: splitDelta({ turn, "app:seen": turn, "user:last": id }).scoped })),
      nowUs: 2,
    });
    // Every append below is queued behind this lock, so each one's statement started before the others committed.
    const locker = await admin.reserve();
    let outcomes;
    try {
      await locker`BEGIN`;
      await locker`SELECT 1 FROM ${admin(`${schema}.sessions`)} WHERE id = 'queued' FOR UPDATE`;
      const first = store.appendEvents(k, batch(["a1", "a2"], 1));
      const retry = store.appendEvents(k, batch(["a1", "a2"], 1));
      const other = store.appendEvents(k, batch(["b1"], 2));
      const stale = store.appendEvents(k, { ...batch(["c1"], 3), expectedLastSequence: 1 });
      await eventually(async () => {
        const [row] = await admin`SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE wait_event_type = 'Lock' AND query LIKE ${`%${schema}%`}`;
        return row!.n >= 4;
      });
      await locker`COMMIT`;
      outcomes = await Promise.allSettled([first, retry, other, stale]);
    } finally {
      locker.release();
    }
    const [first, retry, , stale] = outcomes.map((o) => (o.status === "fulfilled" ? o.value : o.reason));
    // The retry gets the first's assignments; lastSequence is the session's when it answered.
    expect(retry.events).toEqual(first.events);
    expect(stale).toBeInstanceOf(SessiondError);
    expect((stale as SessiondError).kind).toBe("aborted");
    const { view, events } = await store.getSession(k, {});
    expect(events.map((e) => e.sequence)).toEqual([1, 2, 3, 4]);
    expect(events.map((e) => e.id).sort()).toEqual(["a1", "a2", "b1", "q0"]);
    expect(view.session.lastSequence).toBe(4);
    const order = events.map((e) => e.id).join(",");
    // State and shared state were applied once per stored batch, by whichever came last.
    const last = order.endsWith("b1") ? { turn: 2, seen: 2, user: "b1" } : { turn: 1, seen: 1, user: "a2" };
    expect(view.session.state).toEqual({ turn: last.turn });
    expect(view.appState).toEqual({ a: 1, seen: last.seen });
    expect(view.userState).toEqual({ last: last.user });
  });

  it("reports pool figures from the URL's pool size", async () => {
    expect(store.poolStats()).toEqual({ total: 4, idle: 4, waiting: 0 });
    const k = { ...key, sessionId: "pool" };
    await createSession(store, k);
    // Hold the session's row lock elsewhere, so an append keeps its connection while it waits.
    const locker = await admin.reserve();
    try {
      await locker`BEGIN`;
      await locker`SELECT 1 FROM ${admin(`${schema}.sessions`)} WHERE id = 'pool' FOR UPDATE`;
      const pending = append(store, "p1", k);
      await eventually(() => store.poolStats().idle === 3);
      expect(store.poolStats()).toEqual({ total: 4, idle: 3, waiting: 0 });
      await locker`COMMIT`;
      await pending;
    } finally {
      locker.release();
    }
    const queued = Promise.all(Array.from({ length: 6 }, () => store.ping()));
    expect(store.poolStats().waiting).toBeGreaterThan(0);
    await queued;
    expect(store.poolStats()).toEqual({ total: 4, idle: 4, waiting: 0 });
  });

  it("notifies another instance on the same schema of appends, until unsubscribed", async () => {
    const other = await open(url);
    expect(other.channel).toBe(store.channel);
    const k = { ...key, sessionId: "notified" };
    const elsewhere = { ...key, sessionId: "elsewhere" };
    await createSession(store, k);
    await createSession(store, elsewhere);
    let calls = 0;
    let control = 0;
    let unrelated = 0;
    const unsubscribe = await other.subscribe(k, () => calls++);
    const unsubscribeControl = await other.subscribe(k, () => control++);
    const unsubscribeUnrelated = await other.subscribe(elsewhere, () => unrelated++);
    await append(store, "n1", k);
    await eventually(() => calls === 1 && control === 1);
    await unsubscribe();
    await append(store, "n2", k);
    // Notifications are dispatched in order: once the control listener saw the append, the first would have too.
    await eventually(() => control === 2);
    expect(calls).toBe(1);
    expect(unrelated).toBe(0);
    await unsubscribeControl();
    await unsubscribeUnrelated();
  });

  it("listens again after losing the listening connection", async () => {
    const name = isolationName("sessiond_listen");
    const follower = await open(`${url}&application_name=${name}`);
    const k = { ...key, sessionId: "relisten" };
    await createSession(store, k);
    let calls = 0;
    await follower.subscribe(k, () => calls++);
    const [killed] = await admin`SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
      WHERE application_name = ${name} AND query = ${`listen "${follower.channel}"`}`;
    expect(killed!.n).toBe(1);
    // Appends made while it reconnects may go unnoticed; later ones wake the subscriber.
    let n = 0;
    await eventually(async () => {
      await append(store, `r${n++}`, k);
      await new Promise((r) => setTimeout(r, 50));
      return calls > 0;
    });
  });

  it("releases the listening connection on close", async () => {
    const listener = await PostgresStore.open(url);
    const k = { ...key, sessionId: "closing" };
    await createSession(listener, k);
    await listener.subscribe(k, () => {});
    const listening = async () => {
      const [row] = await admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = ${`listen "${listener.channel}"`}`;
      return row!.n;
    };
    expect(await listening()).toBeGreaterThan(0);
    const before = await listening();
    await listener.close();
    await eventually(async () => (await listening()) === before - 1);
  });
});
