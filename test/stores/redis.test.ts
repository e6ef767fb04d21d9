import { Cluster, type Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { splitDelta } from "../../src/core/state.js";
import type { EventData, JsonObject, SessionKey } from "../../src/core/types.js";
import { openStore } from "../../src/stores/open.js";
import { parseRedisUrl } from "../../src/stores/private/redis-connect.js";
import { sessionKeyList } from "../../src/stores/private/redis-keys.js";
import { scripts } from "../../src/stores/private/redis-scripts.js";
import { RedisStore } from "../../src/stores/redis.js";
import { connectTestRedis, deleteRedisPrefix } from "../support/redis.js";
import { startRedisCluster, startRedisServer, type TestCluster } from "../support/redis-cluster.js";
import { isolationName, serviceUrls } from "../support/stores.js";
import { eventData } from "../support/events.js";
import { create as createSession } from "./spec/context.js";

const NOW = 1_750_000_000_000_000;

function event(id: string, stateDelta?: JsonObject): EventData {
  return eventData(id, {
    invocationId: "inv",
    agentId: "agent",
    timestampUs: NOW,
    content: { parts: [{ text: id }] },
    actions: stateDelta ? { stateDelta } : null,
  });
}

const create = (store: RedisStore, key: SessionKey, state: JsonObject = {}) => createSession(store, key, state, Math.floor(Date.now() * 1000));

async function append(store: RedisStore, key: SessionKey, id: string, delta?: JsonObject) {
  return store.appendEvents(key, {
    events: [{ event: event(id, splitDelta(delta).stored), delta: splitDelta(delta).scoped }],
    nowUs: Math.floor(Date.now() * 1000),
  });
}

/** Every key of the prefix. */
async function keysOf(client: Redis | Cluster, prefix: string): Promise<string[]> {
  const nodes = client instanceof Cluster ? client.nodes("master") : [client];
  const keys: string[] = [];
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, batch] = await node.scan(cursor, "MATCH", `{${prefix}[:}]*`, "COUNT", 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== "0");
  }
  return keys;
}

describe("Redis store (single node)", () => {
  const prefix = isolationName("redis");
  const stores: RedisStore[] = [];
  let client: Redis;
  const open = async (query = "") => {
    const store = (await openStore(`${serviceUrls.redis}?prefix=${prefix}${query}`)) as RedisStore;
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    client = await connectTestRedis(serviceUrls.redis);
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    await deleteRedisPrefix(client, prefix);
    await deleteRedisPrefix(client, `${prefix}_b`);
    await client.quit();
  });

  it("parses single-node and cluster URLs and rejects bad prefixes, ttls and options", async () => {
    expect(parseRedisUrl("redis+cluster://h1:7000,h2:7001?prefix=p&ttl=12h")).toMatchObject({
      cluster: true,
      tls: false,
      nodes: [{ host: "h1", port: 7000 }, { host: "h2", port: 7001 }],
      prefix: "p",
      ttlSeconds: 43_200,
    });
    expect(parseRedisUrl("rediss://u:p%40ss@example.com:6380/3")).toMatchObject({
      cluster: false,
      tls: true,
      db: 3,
      username: "u",
      password: "p@ss",
      prefix: "sessiond",
      ttlSeconds: 0,
    });
    expect(parseRedisUrl("rediss+cluster://[::1]:7000?ttl=30m").nodes).toEqual([{ host: "::1", port: 7000 }]);
    for (const [url, fragment] of [
      ["redis://127.0.0.1:6379?prefix=a{b", "prefix"],
      ["redis://127.0.0.1:6379?prefix=a}", "prefix"],
      ["redis://127.0.0.1:6379?prefix=a%20b", "prefix"],
      ["redis://127.0.0.1:6379?prefix=", "prefix"],
      ["redis://127.0.0.1:6379?ttl=7 days", "ttl"],
      ["redis://127.0.0.1:6379?ttl=-1", "ttl"],
      ["redis://127.0.0.1:6379?colour=red", "colour"],
      ["redis://h1,h2", "redis+cluster"],
      ["redis+cluster://h1:7000/2", "database 0"],
    ] as const) {
      await expect(openStore(url), url).rejects.toMatchObject({ kind: "invalid_argument", message: expect.stringContaining(fragment) });
    }
  });

  it("fails with UNAVAILABLE when the server does not answer", async () => {
    await expect(openStore("redis://127.0.0.1:1?prefix=x")).rejects.toMatchObject({ kind: "unavailable" });
    await expect(openStore("redis+cluster://127.0.0.1:1,127.0.0.1:2?prefix=x")).rejects.toMatchObject({ kind: "unavailable" });
  });

  it("reports a server that went away as UNAVAILABLE", async () => {
    const server = await startRedisServer();
    try {
      const store = await openStore(`${server.url}?prefix=${prefix}`);
      stores.push(store as RedisStore);
      await server.stop();
      await expect(store.getSession({ appName: "a", userId: "u", sessionId: "s" }, {})).rejects.toMatchObject({ kind: "unavailable" });
    } finally {
      await server.stop();
    }
  });

  it("sets the ttl on every key of a session and refreshes it on each write; ttl=0 leaves no expiry", async () => {
    const store = await open("&ttl=1h");
    const key = { appName: isolationName("ttl"), userId: "u", sessionId: "s" };
    await create(store, key, { "user:lang": "en", "app:model": "m", topic: "t" });
    await append(store, key, "e1", { step: 1, "user:n": 1, "app:n": 1 });
    const sessionKeys = sessionKeyList(store.keys.session(key)).filter((k) => !k.includes(":pa:"));
    const appKeys = Object.values(store.keys.app(key.appName));
    for (const k of [...sessionKeys, ...appKeys]) {
      const ttl = await client.ttl(k);
      expect(ttl, k).toBeGreaterThan(3500);
      expect(ttl, k).toBeLessThanOrEqual(3600);
    }
    for (const k of sessionKeys) await client.expire(k, 100);
    await append(store, key, "e2", { step: 2 });
    for (const k of sessionKeys) expect(await client.ttl(k), k).toBeGreaterThan(3500);

    const forever = await open("&ttl=0");
    const other = { appName: isolationName("ttl0"), userId: "u", sessionId: "s" };
    await create(forever, other, { "user:lang": "en", "app:model": "m", topic: "t" });
    await append(forever, other, "e1", { step: 1 });
    const all = [...sessionKeyList(forever.keys.session(other)), ...Object.values(forever.keys.app(other.appName))];
    const ttls = (await Promise.all(all.map((k) => client.ttl(k)))).filter((t) => t !== -2);
    expect(ttls.length).toBeGreaterThanOrEqual(9);
    expect(ttls).toEqual(ttls.map(() => -1));
    // A write under ttl=0 removes the expiry of the keys it touches.
    await append(forever, key, "e3", { step: 3 });
    for (const k of sessionKeys) expect(await client.ttl(k), k).toBe(-1);
  });

  it("isolates prefixes from each other", async () => {
    const a = await open();
    const b = (await openStore(`${serviceUrls.redis}?prefix=${prefix}_b`)) as RedisStore;
    stores.push(b);
    const key = { appName: isolationName("iso"), userId: "u", sessionId: "same" };
    await create(a, key, { "app:x": 1, "user:y": 2 });
    await expect(b.getSession(key, {})).rejects.toMatchObject({ kind: "not_found" });
    expect(await b.listSessions({ appName: key.appName, order: "desc", offset: 0, limit: 10 })).toEqual([]);
    expect(await b.getSharedState(key.appName, "u")).toEqual({ appState: {}, userState: {} });
    await create(b, key);
    expect((await b.getSession(key, {})).view.appState).toEqual({});
    expect((await a.getSession(key, {})).view.appState).toEqual({ x: 1 });
  });

  it("keeps empty objects, empty arrays and exact numbers in every state scope and in events", async () => {
    const store = await open();
    const key = { appName: isolationName("json"), userId: "u", sessionId: "s" };
    const values: JsonObject = { obj: {}, arr: [], nested: { a: [], o: {} }, big: 9007199254740991, frac: 0.1 + 0.2, neg: -1e-7 };
    const created = await create(store, key, { gone: null, kept: {}, "user:gone": null, "app:gone": null });
    expect(created.session.state).toEqual({ kept: {} });
    expect(created.userState).toEqual({});
    expect(created.appState).toEqual({});
    const delta: JsonObject = {};
    for (const [name, value] of Object.entries(values)) {
      delta[name] = value;
      delta[`user:${name}`] = value;
      delta[`app:${name}`] = value;
    }
    await append(store, key, "e1", delta);
    const { view, events } = await store.getSession(key, {});
    expect(view.session.state).toEqual({ ...values, kept: {} });
    expect(view.userState).toEqual(values);
    expect(view.appState).toEqual(values);
    expect(events[0]!.actions!.stateDelta).toEqual(delta);
  });

  it("notifies a subscriber of another store instance on append, until it unsubscribes", async () => {
    await subscribeAcrossInstances(open);
  });

  it("keeps the listing indexes consistent after update, delete and purge, and repairs stale entries", async () => {
    const store = await open();
    const appName = isolationName("idx");
    const keys = ["a/1", "a/2", "b/1"].map((s) => ({ appName, userId: s.split("/")[0]!, sessionId: s.split("/")[1]! }));
    for (const key of keys) await create(store, key, { "user:u": 1, "app:a": 1 });
    const appIndex = store.keys.app(appName).sessions;
    const indexed = async () => {
      const raw = await client.zrange(appIndex, 0, -1, "WITHSCORES");
      const out: Record<string, number> = {};
      for (let i = 0; i < raw.length; i += 2) out[raw[i]!.replace("\u0000", "/")] = Number(raw[i + 1]);
      return out;
    };
    const records = async () => {
      const all = await store.listSessions({ appName, order: "asc", offset: 0, limit: 100 });
      return Object.fromEntries(all.map((v) => [`${v.session.userId}/${v.session.id}`, v.session.updateTimeUs]));
    };
    expect(await indexed()).toEqual(await records());
    const updatedAt = Math.floor(Date.now() * 1000) + 5000;
    await store.updateSession(keys[0]!, { status: "completed", nowUs: updatedAt });
    await append(store, keys[1]!, "e");
    expect(await indexed()).toEqual(await records());
    expect(await indexed()).toMatchObject({ "a/1": updatedAt });
    await store.deleteSession(keys[1]!);
    expect(Object.keys(await indexed()).sort()).toEqual(["a/1", "b/1"]);
    expect(await client.zrange(store.keys.user(appName, "a").sessions, 0, -1)).toEqual(["1"]);

    // A listing drops an entry whose session is gone and repairs a wrong score.
    await client.zadd(appIndex, NOW, "ghost\u00000");
    await client.zadd(appIndex, 1, "b\u00001");
    const listed = await store.listSessions({ appName, order: "asc", offset: 0, limit: 100 });
    // b/1's entry was behind; its record's time is in the range read, so it is listed there.
    expect(listed.map((v) => `${v.session.userId}/${v.session.id}`)).toEqual(["b/1", "a/1"]);
    expect(await indexed()).toEqual(await records());
    expect(Object.keys(await indexed()).sort()).toEqual(["a/1", "b/1"]);

    expect(await store.deleteSessions({ appName, purgeState: true })).toBe(2);
    expect(await keysOf(client, prefix).then((ks) => ks.filter((k) => k.includes(encodeURIComponent(appName))))).toEqual([]);
    const scanned = await store.scanSessions({ appName, userId: "", sessionId: "" }, 10);
    expect(scanned.filter((s) => s.appName === appName)).toEqual([]);
  });

  it("applies an app delta left pending by an interrupted write when the write is retried, exactly once", async () => {
    const store = await open();
    const key = { appName: isolationName("pending"), userId: "u", sessionId: "s" };
    await create(store, key);
    const delta = { "app:count": 1, "user:seen": true };
    const { scoped } = splitDelta(delta);
    // The first step alone, as a process that died before the second step would leave it.
    const header = {
      sid: key.sessionId,
      exp: "",
      now: String(NOW),
      ttl: "0",
      chan: store.keys.session(key).channel,
      ev: [{ id: "e1", ts: String(NOW), s: [], u: ["seen", "true"], a: ["count", "1"] }],
    };
    const redis = (store as unknown as { client: Redis }).client;
    await scripts.append.run(redis, sessionKeyList(store.keys.session(key)), [header, JSON.stringify(event("e1", delta))]);
    expect(await store.getSharedState(key.appName, "u")).toEqual({ appState: {}, userState: { seen: true } });
    // The retry is a pure retry (e1 is stored) but finishes the second step.
    const retry = await store.appendEvents(key, { events: [{ event: event("e1", delta), delta: scoped }], nowUs: NOW + 1 });
    expect(retry.events.map((e) => e.sequence)).toEqual([1]);
    expect((await store.getSharedState(key.appName, "u")).appState).toEqual({ count: 1 });
    // A later write wins, and retrying e1 again never re-applies its old delta.
    await append(store, key, "e2", { "app:count": 2 });
    await store.appendEvents(key, { events: [{ event: event("e1", delta), delta: scoped }], nowUs: NOW + 2 });
    expect((await store.getSharedState(key.appName, "u")).appState).toEqual({ count: 2 });
    expect(await client.hlen(store.keys.session(key).pending)).toBe(0);
  });
});

describe("Redis store (cluster)", () => {
  let cluster: TestCluster;
  let client: Cluster;
  const stores: RedisStore[] = [];
  const prefix = isolationName("redis");
  const open = async () => {
    const store = (await openStore(`${cluster.url}?prefix=${prefix}`)) as RedisStore;
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = new Cluster(cluster.ports.map((port) => ({ host: "127.0.0.1", port })), { lazyConnect: true });
    await client.connect();
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    await client?.quit();
    await cluster?.stop();
  });

  it("puts every key of a session and its user's state in one slot, even with braces and colons in names", async () => {
    const store = await open();
    const key = { appName: "app {x}:y", userId: "}user:{", sessionId: "s {1}" };
    await create(store, key, { "user:a": 1, "app:b": 2, c: 3 });
    await append(store, key, "e1", { "user:a": 2, "app:b": 3, c: 4 });
    const other = { ...key, userId: "}user:{ " };
    await create(store, other, { "user:a": 1 });
    const keys = await keysOf(client, prefix);
    const slot = async (k: string) => Number(await client.call("CLUSTER", "KEYSLOT", k));
    const tag = store.keys.userTag(key.appName, key.userId);
    const mine = keys.filter((k) => k.startsWith(tag));
    expect(mine.length).toBeGreaterThanOrEqual(6);
    const slots = new Set(await Promise.all(mine.map(slot)));
    expect(slots.size).toBe(1);
    expect(await slot(store.keys.session(key).channel)).toBe([...slots][0]);
    const appSlots = new Set(await Promise.all(keys.filter((k) => k.startsWith(store.keys.appTag(key.appName))).map(slot)));
    expect(appSlots.size).toBe(1);
    expect(await slot(store.keys.userTag(other.appName, other.userId))).not.toBe(-1);
    expect(store.keys.userTag(other.appName, other.userId)).not.toBe(tag);
    expect((await store.getSession(key, {})).view.session.state).toEqual({ c: 4 });
    expect((await store.getSharedState(key.appName, key.userId))).toEqual({ appState: { b: 3 }, userState: { a: 2 } });
  });

  it("notifies a subscriber of another store instance on append, until it unsubscribes", async () => {
    await subscribeAcrossInstances(open);
  });

  it("reports a cluster that went away as UNAVAILABLE (runs last: stops the cluster)", async () => {
    const store = await open();
    await cluster.stop();
    const key = { appName: "a", userId: "u", sessionId: "s" };
    await expect(store.appendEvents(key, { events: [], nowUs: NOW })).rejects.toMatchObject({ kind: "unavailable" });
  });
});

/** Two store instances: the first follows a session, the second appends to it. */
async function subscribeAcrossInstances(open: () => Promise<RedisStore>) {
  const follower = await open();
  const writer = await open();
  const key = { appName: isolationName("sub"), userId: "u", sessionId: "s" };
  await create(writer, key);
  let calls = 0;
  let wake: () => void = () => {};
  const unsubscribe = await follower.subscribe(key, () => {
    calls++;
    wake();
  });
  const woke = new Promise<void>((resolve) => (wake = resolve));
  await append(writer, key, "e1");
  await within(woke, "notification");
  expect(calls).toBe(1);
  await unsubscribe();
  await append(writer, key, "e2");
  // A marker session proves messages still flow, so the quiet one is really unsubscribed.
  const marker = { ...key, sessionId: "marker" };
  await create(writer, marker);
  let markerSeen: () => void = () => {};
  const seen = new Promise<void>((resolve) => (markerSeen = resolve));
  const stop = await follower.subscribe(marker, () => markerSeen());
  await append(writer, marker, "m1");
  await within(seen, "marker notification");
  await stop();
  expect(calls).toBe(1);
}

function within(promise: Promise<void>, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within 5 s`)), 5000)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
