import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CallDeadline, currentCallDeadline, withCallDeadline, withinCallDeadline } from "../../src/stores/call-deadline.js";
import { openStore } from "../../src/stores/open.js";
import type { Store } from "../../src/stores/store.js";
import { eventData } from "../support/events.js";
import { testStores } from "../support/stores.js";
import { startTestServer, type TestProtocol, type TestServer, uniqueName } from "../support/server.js";

/** A memory store that records the deadline each call saw. */
async function recordingStore(): Promise<{ store: Store; seen: Map<string, CallDeadline | undefined> }> {
  const inner = await openStore("memory:");
  const seen = new Map<string, CallDeadline | undefined>();
  const store = new Proxy(inner, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        seen.set(String(property), currentCallDeadline());
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, seen };
}

describe.each<TestProtocol>(["grpc", "grpc-web", "connect-json"])("store calls see their RPC's deadline over %s", (protocol) => {
  let server: TestServer;
  let seen: Map<string, CallDeadline | undefined>;
  beforeAll(async () => {
    const recording = await recordingStore();
    seen = recording.seen;
    server = await startTestServer(recording.store, {}, protocol);
  });
  afterAll(() => server.close());

  it("in unary calls and in every page of a stream", async () => {
    const ref = { appName: uniqueName("app"), userId: "u", sessionId: "s" };
    const before = Date.now();
    await server.client.createSession({ ...ref }, { timeoutMs: 20_000 });
    await server.client.appendEvent({ ...ref, event: { author: "user" } }, { timeoutMs: 20_000 });
    for (const name of ["createSession", "appendEvents"]) {
      const deadline = seen.get(name);
      expect(deadline, name).toBeDefined();
      expect(deadline!.deadlineMs).toBeGreaterThanOrEqual(before + 15_000);
      expect(deadline!.deadlineMs).toBeLessThanOrEqual(Date.now() + 20_000);
      expect(deadline!.signal).toBeInstanceOf(AbortSignal);
    }
    seen.clear();
    const events = [];
    for await (const response of server.client.getEvents({ ...ref }, { timeoutMs: 20_000 })) events.push(response);
    expect(events.length).toBeGreaterThan(0);
    expect(seen.get("readEvents")?.deadlineMs).toBeGreaterThanOrEqual(before + 15_000);

    // Without a deadline the store still gets the call's cancellation signal.
    seen.clear();
    await server.client.getSession({ ...ref });
    expect(seen.get("getSession")?.deadlineMs).toBeUndefined();
    expect(seen.get("getSession")?.signal).toBeInstanceOf(AbortSignal);
  });
});

describe.each(["memory", "redis"])("the %s store and an expired deadline", (name) => {
  it("does not run a write whose deadline passed, and bounds one in flight", async () => {
    const isolated = await testStores[name]!();
    const store = await openStore(isolated.url);
    try {
      const key = { appName: uniqueName("app"), userId: "u", sessionId: "s" };
      const noDelta = { app: null, user: null, session: null };
      await store.createSession({ appName: key.appName, userId: "u", id: "s", agentId: "", metadata: {}, delta: noDelta, nowUs: 1 });
      const expired: CallDeadline = { signal: new AbortController().signal, deadlineMs: Date.now() - 1 };
      const append = () => store.appendEvents(key, { events: [{ event: eventData("e1", { timestampUs: 1 }), delta: noDelta }], nowUs: 2 });
      await expect(withCallDeadline(expired, append)).rejects.toMatchObject({ kind: "deadline_exceeded" });
      const cancelled = new AbortController();
      cancelled.abort();
      await expect(withCallDeadline({ signal: cancelled.signal, deadlineMs: undefined }, append)).rejects.toMatchObject({ kind: "deadline_exceeded" });
      expect((await store.getSession(key, {})).view.session.lastSequence).toBe(0);
      await withCallDeadline({ signal: new AbortController().signal, deadlineMs: Date.now() + 10_000 }, append);
      expect((await store.getSession(key, {})).view.session.lastSequence).toBe(1);
    } finally {
      await store.close();
      await isolated.cleanup();
    }
  });
});

describe("withinCallDeadline", () => {
  it("gives up on work that outlives the deadline, and leaves calls without one alone", async () => {
    const never = () => new Promise<never>(() => {});
    const started = Date.now();
    const deadline: CallDeadline = { signal: new AbortController().signal, deadlineMs: Date.now() + 50 };
    await expect(withCallDeadline(deadline, () => withinCallDeadline(never))).rejects.toMatchObject({ kind: "deadline_exceeded" });
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(withinCallDeadline(async () => 7)).resolves.toBe(7);
  });
});
