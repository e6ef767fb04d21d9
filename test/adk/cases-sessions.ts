import { createEvent, State } from "@google/adk";
import { expect } from "vitest";
import { AlreadyExistsError, SessionNotFoundError } from "../../src/adk/index.js";
import type { AdkCase } from "./cases.js";

/** Creating, reading, deleting sessions and appending to them: ADK JS and Python agree here unless noted. */
export const sessionCases: AdkCase[] = [
  {
    name: "a new session has the given app, user and state, no events and an update time",
    async run({ service, unique }) {
      const appName = unique("app");
      const session = await service.createSession({ appName, userId: "u", state: { key: "value" } });
      expect(session.id).toEqual(expect.any(String));
      expect(session.id).not.toBe("");
      expect(session).toMatchObject({ appName, userId: "u", state: { key: "value" }, events: [] });
      expect(session.lastUpdateTime).toBeGreaterThan(0);
      expect(session.lastUpdateTime).toBeLessThanOrEqual(Date.now() + 1);
    },
  },
  {
    name: "a session keeps the id it was created with",
    async run({ service, unique }) {
      const session = await service.createSession({ appName: unique("app"), userId: "u", sessionId: "my-id" });
      expect(session.id).toBe("my-id");
    },
  },
  {
    name: "temp: keys of the initial state are dropped",
    async run({ service, unique }) {
      const session = await service.createSession({ appName: unique("app"), userId: "u", state: { keep: 1, "temp:drop": 2 } });
      expect(session.state).toEqual({ keep: 1 });
      const again = await service.getSession({ appName: session.appName, userId: "u", sessionId: session.id });
      expect(again!.state).toEqual({ keep: 1 });
    },
  },
  {
    name: "a new session sees the app's and the user's state written by earlier events",
    async run({ service, unique }) {
      const appName = unique("app");
      const first = await service.createSession({ appName, userId: "u" });
      await service.appendEvent({
        session: first,
        event: createEvent({ actions: { stateDelta: { [`${State.APP_PREFIX}a`]: "A", [`${State.USER_PREFIX}b`]: "B" } } }),
      });
      const second = await service.createSession({ appName, userId: "u" });
      expect(second.state).toEqual({ "app:a": "A", "user:b": "B" });
      const otherUser = await service.createSession({ appName, userId: "v" });
      expect(otherUser.state).toEqual({ "app:a": "A" });
    },
  },
  {
    name: "getSession of a missing session resolves undefined, also after a delete",
    async run({ service, unique }) {
      const appName = unique("app");
      expect(await service.getSession({ appName, userId: "u", sessionId: "nope" })).toBeUndefined();
      const session = await service.createSession({ appName, userId: "u" });
      const got = await service.getSession({ appName, userId: "u", sessionId: session.id });
      expect(got!.id).toBe(session.id);
      await service.deleteSession({ appName, userId: "u", sessionId: session.id });
      expect(await service.getSession({ appName, userId: "u", sessionId: session.id })).toBeUndefined();
    },
  },
  {
    name: "deleting a missing session resolves",
    async run({ service, unique }) {
      await expect(service.deleteSession({ appName: unique("app"), userId: "u", sessionId: "nope" })).resolves.toBeUndefined();
    },
  },
  {
    name: "a read session equals the one created, and a session is per user",
    async run({ service, unique }) {
      const appName = unique("app");
      const created = await service.createSession({ appName, userId: "u1", sessionId: "s1", state: { k: "v" } });
      expect(await service.getSession({ appName, userId: "u1", sessionId: "s1" })).toEqual(created);
      await service.appendEvent({ session: created, event: createEvent({ invocationId: "inv1", author: "user" }) });
      await service.createSession({ appName, userId: "u2", sessionId: "s1" });
      const other = await service.getSession({ appName, userId: "u2", sessionId: "s1" });
      expect(other).toMatchObject({ userId: "u2", events: [] });
    },
  },
  {
    name: "session state is the session's own; app state is shared by every user, user state by the user's sessions",
    async run({ service, unique }) {
      const appName = unique("app");
      const s1 = await service.createSession({ appName, userId: "u1", sessionId: "s1", state: { sk1: "v1" } });
      await service.appendEvent({ session: s1, event: createEvent({ actions: { stateDelta: { sk2: "v2", "app:k": "a", "user:k": "u" } } }) });
      const got = await service.getSession({ appName, userId: "u1", sessionId: "s1" });
      expect(got!.state).toEqual({ sk1: "v1", sk2: "v2", "app:k": "a", "user:k": "u" });
      const sibling = await service.createSession({ appName, userId: "u1", sessionId: "s1b" });
      expect(sibling.state).toEqual({ "app:k": "a", "user:k": "u" });
      const stranger = await service.createSession({ appName, userId: "u2", sessionId: "s2" });
      expect(stranger.state).toEqual({ "app:k": "a" });
      // A later change of app state reaches sessions created before it.
      await service.appendEvent({ session: stranger, event: createEvent({ actions: { stateDelta: { "app:k": "b", "user:k": "mine" } } }) });
      const reread = await service.getSession({ appName, userId: "u1", sessionId: "s1" });
      expect(reread!.state).toMatchObject({ "app:k": "b", "user:k": "u" });
    },
  },
  {
    name: "appending applies the state delta to the session object and to storage, and stores the event as given",
    async run({ service, unique }) {
      const appName = unique("app");
      const session = await service.createSession({ appName, userId: "u", sessionId: "s1", state: { count: 0 } });
      const timestamp = Date.now() + 1000;
      const event = createEvent({ timestamp, actions: { stateDelta: { count: 1, "app:global": "value" } } });
      const returned = await service.appendEvent({ session, event });
      expect(returned).toBe(event);
      expect(session.state).toEqual({ count: 1, "app:global": "value" });
      expect(session.events).toEqual([event]);
      expect(session.lastUpdateTime).toBe(timestamp);
      const loaded = await service.getSession({ appName, userId: "u", sessionId: "s1" });
      expect(loaded!.state).toEqual({ count: 1, "app:global": "value" });
      expect(loaded!.events).toEqual([event]);
      expect(loaded!.lastUpdateTime).toBe(timestamp);
    },
  },
  {
    name: "appending the same event twice stores it once",
    async run({ service, unique }) {
      const appName = unique("app");
      const session = await service.createSession({ appName, userId: "u" });
      const event = createEvent({ invocationId: "inv1", author: "user" });
      await service.appendEvent({ session, event });
      await service.appendEvent({ session, event });
      expect(session.events).toHaveLength(1);
      const loaded = await service.getSession({ appName, userId: "u", sessionId: session.id });
      expect(loaded!.events).toHaveLength(1);
    },
  },
  {
    name: "partial events are neither stored nor added to the session object",
    async run({ service, unique }) {
      const appName = unique("app");
      const session = await service.createSession({ appName, userId: "u", state: { k: 1 } });
      const event = createEvent({ partial: true, actions: { stateDelta: { k: 2 } } });
      expect(await service.appendEvent({ session, event })).toBe(event);
      expect(session.events).toEqual([]);
      expect(session.state).toEqual({ k: 1 });
      const loaded = await service.getSession({ appName, userId: "u", sessionId: session.id });
      expect(loaded!.events).toEqual([]);
      expect(loaded!.state).toEqual({ k: 1 });
    },
  },
  {
    name: "temp: keys reach the live session for the rest of the invocation but neither the stored event nor the stored state",
    notOnAdkJs: "ADK JS leaves temp: keys out of session.state too; Python ADK keeps them there for the invocation",
    async run({ service, unique, remote }) {
      const appName = unique("app");
      const session = await service.createSession({ appName, userId: "u", sessionId: "s1" });
      const first = createEvent({ author: "agent1", actions: { stateDelta: { "temp:out": "from agent 1", sk: "v" } } });
      await service.appendEvent({ session, event: first });
      expect(session.state).toEqual({ "temp:out": "from agent 1", sk: "v" });
      expect(first.actions.stateDelta).toEqual({ sk: "v" });
      const loaded = await service.getSession({ appName, userId: "u", sessionId: "s1" });
      expect(loaded!.state).toEqual({ sk: "v" });
      expect(loaded!.events[0]!.actions.stateDelta).toEqual({ sk: "v" });
      const stored = (await remote!.client.getSession({ appName, userId: "u", sessionId: "s1" })).session!;
      expect(stored.events[0]!.actions!.stateDelta).toEqual({ sk: "v" });
    },
  },
  {
    name: "creating a session whose id is taken fails with ADK's message and the gRPC error as cause",
    notOnAdkJs: "ADK JS's InMemorySessionService replaces the session; Python ADK and DatabaseSessionService refuse",
    async run({ service, unique }) {
      const appName = unique("app");
      await service.createSession({ appName, userId: "u", sessionId: "s1", state: { first: true } });
      const failure = await service.createSession({ appName, userId: "u", sessionId: "s1" }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(AlreadyExistsError);
      expect((failure as Error).message).toBe("Session with id s1 already exists.");
      expect((failure as Error).cause).toMatchObject({ code: 6, name: "ConnectError" });
      expect((await service.getSession({ appName, userId: "u", sessionId: "s1" }))!.state).toEqual({ first: true });
    },
  },
  {
    name: "appending to a session that does not exist fails with ADK's message and stores nothing",
    notOnAdkJs: "ADK JS's InMemorySessionService returns the event unstored; DatabaseSessionService (JS and Python) throws",
    async run({ service, unique }) {
      const appName = unique("app");
      const session = await service.createSession({ appName, userId: "u", sessionId: "temp" });
      session.id = "missing";
      const failure = await service.appendEvent({ session, event: createEvent() }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(SessionNotFoundError);
      expect((failure as Error).message).toMatch(/^Session missing not found/);
      expect((failure as Error).cause).toMatchObject({ code: 5 });
      const ghost = { id: "ghost", appName: unique("nowhere"), userId: "nobody", state: {}, events: [], lastUpdateTime: 0 };
      await expect(service.appendEvent({ session: ghost, event: createEvent() })).rejects.toThrow("Session ghost not found");
      expect(await service.getSession({ appName, userId: "u", sessionId: "missing" })).toBeUndefined();
    },
  },
  {
    name: "a failed append stores nothing, leaves the session object as it was and the service usable",
    notOnAdkJs: "InMemorySessionService has no storage that can refuse a write",
    async run({ service, unique }) {
      const appName = unique("app");
      const session = await service.createSession({ appName, userId: "u", sessionId: "s1" });
      await service.appendEvent({ session, event: createEvent({ invocationId: "inv1", actions: { stateDelta: { key1: "value1" } } }) });
      // The server refuses an author longer than it accepts.
      const refused = createEvent({ invocationId: "inv2", author: "x".repeat(100_000), actions: { stateDelta: { key2: "value2" } } });
      await expect(service.appendEvent({ session, event: refused })).rejects.toMatchObject({ code: 3 });
      expect(session.events.map((e) => e.invocationId)).toEqual(["inv1"]);
      expect(session.state).toEqual({ key1: "value1" });
      const loaded = await service.getSession({ appName, userId: "u", sessionId: "s1" });
      expect(loaded!.events.map((e) => e.invocationId)).toEqual(["inv1"]);
      expect(loaded!.state).toEqual({ key1: "value1" });
      await service.appendEvent({ session, event: createEvent({ invocationId: "inv3" }) });
      expect(session.events.map((e) => e.invocationId)).toEqual(["inv1", "inv3"]);
    },
  },
];
