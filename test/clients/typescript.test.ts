import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Interceptor } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import { createConnectTransport as createWebConnectTransport } from "@connectrpc/connect-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessiondClient, type FollowItem, HistoryView, type Protocol, type SessiondClient, SessionStatus } from "../../src/client/index.js";
import { createSessiondClient as createWebClient } from "../../src/client/web.js";
import { MemoryStore } from "../../src/stores/memory.js";
import { type SessiondServer, startServer } from "../../src/server.js";
import { expectCode } from "../support/expect-code.js";
import { uniqueName } from "../support/server.js";

let server: SessiondServer;
const authorizations: string[] = [];
// Records what reaches the server, to see the client's token arrive.
const recordAuth: Interceptor = (next) => async (req) => {
  authorizations.push(req.header.get("authorization") ?? "");
  return next(req);
};

beforeAll(async () => {
  server = await startServer({ store: new MemoryStore(), port: 0, interceptors: [recordAuth] });
});
afterAll(() => server?.close(1000));

async function newSession(client: SessiondClient) {
  const appName = uniqueName("ts-client");
  const session = await client.createSession({ appName, userId: "u1", state: { "user:lang": "en" } });
  return { appName, userId: "u1", sessionId: session.id };
}

describe.each<Protocol>(["grpc", "connect", "grpc-web"])("createSessiondClient over %s", (protocol) => {
  let client: SessiondClient;
  beforeAll(() => {
    client = createSessiondClient({ baseUrl: server.url, transport: protocol, token: `t-${protocol}` });
  });

  it("creates a session, appends with a state delta and reads it back", async () => {
    const ref = await newSession(client);
    const one = await client.appendEvent(ref, { author: "user", content: { parts: [{ text: "hi" }] }, actions: { stateDelta: { turns: 1 } } });
    expect(one.event.sequence).toBe(1n);
    expect(one.lastSequence).toBe(1n);
    const two = await client.appendEvents(ref, [{ author: "model" }, { author: "user", id: "mine" }]);
    expect(two.events.map((e) => [e.sequence, e.id])).toEqual([[2n, expect.any(String)], [3n, "mine"]]);
    expect(two.lastSequence).toBe(3n);
    const session = await client.getSession(ref);
    expect(session.state).toEqual({ "user:lang": "en", turns: 1 });
    expect(session.status).toBe(SessionStatus.ACTIVE);
    expect(session.events.map((e) => e.author)).toEqual(["user", "model", "user"]);
    expect(authorizations).toContain(`Bearer t-${protocol}`);
  });

  it("maps server errors to ConnectError codes", async () => {
    const ref = await newSession(client);
    await expectCode(client.appendEvent(ref, { author: "x" }, { expectedLastSequence: 5n }), Code.Aborted);
    await expectCode(client.getSession({ ...ref, sessionId: "missing" }), Code.NotFound);
    await client.deleteSession(ref);
    await expectCode(client.getSession(ref), Code.NotFound);
  });
});

describe("iterators", () => {
  const client = () => createSessiondClient({ baseUrl: server.url, transport: "connect", httpVersion: "1.1" });

  it("events() yields single events in order across the server's chunks", async () => {
    const c = client();
    const ref = await newSession(c);
    // The server sends 500 events per message; 1200 spans three messages.
    const batch = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ author: "a", id: `e${from + i}` }));
    await c.appendEvents(ref, batch(1, 1000));
    await c.appendEvents(ref, batch(1001, 200));
    const seen: bigint[] = [];
    for await (const event of c.events(ref)) seen.push(event.sequence);
    expect(seen).toEqual(Array.from({ length: 1200 }, (_, i) => BigInt(i + 1)));
    const some: string[] = [];
    for await (const event of c.events(ref, { filter: { afterSequence: 10n }, offset: 2, limit: 3 })) some.push(event.id);
    expect(some).toEqual(["e13", "e14", "e15"]);
  });

  it("listSessions() pages through every session once", async () => {
    const c = client();
    const appName = uniqueName("pages");
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add((await c.createSession({ appName, userId: `u${i % 2}` })).id);
    const pages: string[][] = [];
    for await (const page of c.listSessions({ appName, pageSize: 2 })) pages.push(page.map((s) => s.id));
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(new Set(pages.flat())).toEqual(ids);
    const filtered: string[] = [];
    for await (const page of c.listSessions({ appName, userId: "u1" })) filtered.push(...page.map((s) => s.userId));
    expect(filtered).toEqual(["u1", "u1"]);
  });

  it("listApps() pages through the apps with their session counts", async () => {
    const c = client();
    const prefix = uniqueName("apps");
    for (const [suffix, n] of [["-a", 2], ["-b", 1], ["-c", 3]] as const) {
      for (let i = 0; i < n; i++) await c.createSession({ appName: prefix + suffix, userId: "u" });
    }
    const pages: string[][] = [];
    for await (const page of c.listApps({ namePrefix: prefix, pageSize: 2 })) pages.push(page.map((a) => `${a.appName}=${a.sessionCount}`));
    expect(pages).toEqual([[`${prefix}-a=2`, `${prefix}-b=1`], [`${prefix}-c=3`]]);
  });

  it("follow() yields the history, the caught-up marker, then appended events", async () => {
    const c = client();
    const ref = await newSession(c);
    await c.appendEvents(ref, [{ author: "a", id: "h1" }, { author: "b", id: "h2" }]);
    const abort = new AbortController();
    const items: FollowItem[] = [];
    const done = (async () => {
      for await (const item of c.follow(ref, { signal: abort.signal, reconnectDelayMs: 100 })) {
        items.push(item);
        if (item.kind === "event" && item.event.id === "live2") abort.abort();
      }
    })();
    await waitFor(() => items.some((i) => i.kind === "caught-up"));
    await c.appendEvent(ref, { author: "a", id: "live1" });
    await c.appendEvent(ref, { author: "a", id: "live2" });
    await done;
    const summary = items.map((i) => (i.kind === "event" ? `${i.event.sequence}:${i.event.id}` : i.kind));
    expect(summary).toEqual(["1:h1", "2:h2", "caught-up", "3:live1", "4:live2"]);
  });
});

describe("rewind and fork", () => {
  const client = () => createSessiondClient({ baseUrl: server.url, transport: "grpc" });

  it("rewinds by sequence and invocation, reads the effective history and forks it", async () => {
    const c = client();
    const ref = await newSession(c);
    await c.appendEvents(ref, [
      { id: "q1", invocationId: "i1", actions: { stateDelta: { turn: 1 } } },
      { id: "q2", invocationId: "i2", actions: { stateDelta: { turn: 2 } } },
      { id: "q3", invocationId: "i3", actions: { stateDelta: { turn: 3 } } },
    ]);
    const first = await c.rewindSession(ref, { sequence: 2 }, { eventId: "undo", author: "user" });
    expect(first.marker.actions?.rewind?.targetSequence).toBe(2n);
    expect(first.session.state).toEqual({ "user:lang": "en", turn: 2 });
    const retry = await c.rewindSession(ref, { sequence: 2 }, { eventId: "undo" });
    expect(retry.marker.sequence).toBe(first.marker.sequence);
    const second = await c.rewindSession(ref, { beforeInvocationId: "i2" }, { expectedLastSequence: 4n });
    expect(second.session.state).toEqual({ "user:lang": "en", turn: 1 });
    await expectCode(c.rewindSession(ref, { sequence: 0 }, { expectedLastSequence: 1n }), Code.Aborted);
    const effective: string[] = [];
    for await (const e of c.events(ref, { effective: true })) effective.push(e.id);
    expect(effective).toEqual(["q1"]);
    const raw: string[] = [];
    for await (const e of c.events(ref)) raw.push(e.id);
    expect(raw).toHaveLength(5);
    expect((await c.getSession({ ...ref, view: HistoryView.EFFECTIVE })).events.map((e) => e.id)).toEqual(["q1"]);
    const fork = await c.forkSession(ref, { sequence: 3n, newSessionId: uniqueName("fork") });
    expect(fork.forkedFrom?.sessionId).toBe(ref.sessionId);
    expect(fork.state).toEqual({ "user:lang": "en", turn: 3 });
    const forked = await c.getSession({ appName: ref.appName, userId: ref.userId, sessionId: fork.id });
    expect(forked.events.map((e) => [e.sequence, e.id])).toEqual([[1n, "q1"], [2n, "q2"], [3n, "q3"]]);
  });

  it("follows the effective history, then new events with rewind markers", async () => {
    const c = client();
    const ref = await newSession(c);
    await c.appendEvents(ref, [{ id: "a" }, { id: "b" }]);
    await c.rewindSession(ref, { sequence: 1 });
    const abort = new AbortController();
    const items: string[] = [];
    const done = (async () => {
      for await (const item of c.follow(ref, { signal: abort.signal, effective: true })) {
        items.push(item.kind === "event" ? (item.event.actions?.rewind ? "rewind" : item.event.id) : item.kind);
        if (items.at(-1) === "rewind" && items.length > 2) abort.abort();
      }
    })();
    await waitFor(() => items.includes("caught-up"));
    await c.appendEvent(ref, { id: "c" });
    await c.rewindSession(ref, { sequence: 1 });
    await done;
    expect(items).toEqual(["a", "caught-up", "c", "rewind"]);
  });
});

describe("browser entry", () => {
  it("works over connect-web's transport (fetch)", async () => {
    const c = createWebClient({ transport: createWebConnectTransport({ baseUrl: server.url }), token: "web" });
    const ref = await newSession(c);
    await c.appendEvent(ref, { author: "browser" });
    const authors: string[] = [];
    for await (const e of c.events(ref)) authors.push(e.author);
    expect(authors).toEqual(["browser"]);
    expect(authorizations).toContain("Bearer web");
  });

  it("imports no Node module, directly or through its own files", () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
    const packages = importedPackages(join(root, "src/client/web.ts"));
    expect(packages.size).toBeGreaterThan(0);
    for (const name of packages) {
      expect(name, `web.ts reaches ${name}`).not.toMatch(/^node:|^@connectrpc\/connect-node|^@grpc\//);
    }
    // @opentelemetry/api is plain JS for browsers too (no-op until a web SDK registers).
    expect([...packages].sort()).toEqual(["@bufbuild/protobuf", "@bufbuild/protobuf/codegenv2", "@bufbuild/protobuf/wkt", "@connectrpc/connect", "@opentelemetry/api"]);
  });
});

/** Bare specifiers imported by `file` and every relative module it reaches. */
function importedPackages(file: string, seen = new Set<string>(), packages = new Set<string>()): Set<string> {
  if (seen.has(file)) return packages;
  seen.add(file);
  const source = readFileSync(file, "utf8");
  for (const [, spec] of source.matchAll(/(?:from|import)\s*"([^"]+)"/g)) {
    if (spec!.startsWith(".")) importedPackages(resolve(dirname(file), spec!.replace(/\.js$/, ".ts")), seen, packages);
    else packages.add(spec!);
  }
  return packages;
}

async function waitFor(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
