import { createEvent, State } from "@google/adk";
import { expect } from "vitest";
import type { RemoteSessionService } from "../../src/adk/index.js";
import type { AdkCase } from "./cases.js";

/** JSON.parse makes an own `__proto__` key, as a request body would; an object literal cannot. */
const parsed = (json: string) => JSON.parse(json) as Record<string, unknown>;

/** Keys a prototype-polluting bug would plant on Object.prototype. */
const PLANTED = ["polluted", "httpOptions", "pwned", "baseUrl", "isAdmin", "poc_sid"];

function expectClean() {
  for (const key of PLANTED) expect(({} as Record<string, unknown>)[key]).toBeUndefined();
}

/** Apps, users and sessions named `__proto__` (ADK JS's prototype-pollution cases). */
export const prototypeNameCases: AdkCase[] = [
  {
    name: "an app, user or session named __proto__ pollutes nothing and is stored like any other",
    async run({ service, unique }) {
      const userId = unique("polluted");
      await service.createSession({ appName: "__proto__", userId, sessionId: "poc_sid", state: {} });
      expectClean();
      const got = await service.getSession({ appName: "__proto__", userId, sessionId: "poc_sid" });
      expect(got!.id).toBe("poc_sid");
      expect((await service.listSessions({ appName: unique("polluted"), userId })).sessions).toHaveLength(0);
      const realApp = unique("real_app");
      await service.createSession({ appName: realApp, userId: "alice", sessionId: "s1" });
      expect((await service.listSessions({ appName: realApp, userId })).sessions).toHaveLength(0);

      const underProtoUser = await service.createSession({ appName: unique("app1"), userId: "__proto__", sessionId: "__proto__" });
      await service.appendEvent({
        session: underProtoUser,
        event: createEvent({ actions: { stateDelta: { "user:httpOptions": { baseUrl: "https://evil.test" } } } }),
      });
      const underProtoApp = await service.createSession({ appName: "__proto__", userId: unique("u1"), sessionId: "s1" });
      await service.appendEvent({ session: underProtoApp, event: createEvent({ actions: { stateDelta: { "app:pwned": "attacker-value" } } }) });
      expectClean();
    },
  },
];

/** `__proto__` keys inside state, which the server must keep as own keys too. */
export const prototypeStateCases: AdkCase[] = [
  {
    name: "a __proto__ key in the initial state is an own key and re-parents nothing",
    async run({ service, unique }) {
      const appName = unique("app1");
      const session = await service.createSession({ appName, userId: "u1", sessionId: "s1", state: parsed('{"__proto__": {"isAdmin": true}}') });
      expect(new State(session.state).get("isAdmin")).toBeUndefined();
      expect(Object.hasOwn(session.state, "__proto__")).toBe(true);
      expect(session.state["__proto__"]).toEqual({ isAdmin: true });
      const got = await service.getSession({ appName, userId: "u1", sessionId: "s1" });
      expect(new State(got!.state).get("isAdmin")).toBeUndefined();
      expect(Object.hasOwn(got!.state, "__proto__")).toBe(true);
      expect(got!.state["__proto__"]).toEqual({ isAdmin: true });
      expectClean();
    },
  },
  {
    name: "a __proto__ key in a state delta is stored as an own key",
    async run({ service, unique }) {
      const appName = unique("app1");
      const session = await service.createSession({ appName, userId: "u1", sessionId: "s1" });
      await service.appendEvent({ session, event: createEvent({ actions: { stateDelta: parsed('{"__proto__": {"isAdmin": true}}') } }) });
      const stored = await service.getSession({ appName, userId: "u1", sessionId: "s1" });
      expect(new State(stored!.state).get("isAdmin")).toBeUndefined();
      expect(Object.hasOwn(stored!.state, "__proto__")).toBe(true);
      expect(stored!.state["__proto__"]).toEqual({ isAdmin: true });
      expect(Object.hasOwn(stored!.events[0]!.actions.stateDelta, "__proto__")).toBe(true);
      expectClean();
    },
  },
  {
    name: "a user:__proto__ key reaches the user's other sessions intact",
    async run({ service, unique }) {
      const appName = unique("app1");
      const session = await service.createSession({ appName, userId: "u1", sessionId: "s1" });
      await service.appendEvent({
        session,
        event: createEvent({ actions: { stateDelta: { [`${State.USER_PREFIX}__proto__`]: { baseUrl: "https://evil.test" } } } }),
      });
      const sibling = await service.createSession({ appName, userId: "u1", sessionId: "s2" });
      expect(sibling.state[`${State.USER_PREFIX}__proto__`]).toEqual({ baseUrl: "https://evil.test" });
      expect(Object.keys(sibling.state)).toEqual(["user:__proto__"]);
      expect(sibling.state).not.toHaveProperty("user:baseUrl");
      expectClean();
    },
  },
  {
    name: "getUserState keeps a user:__proto__ key as an own key",
    notOnAdkJs: "ADK JS has no getUserState",
    async run({ service, unique }) {
      const appName = unique("app");
      const session = await service.createSession({ appName, userId: "u1" });
      await service.appendEvent({ session, event: createEvent({ actions: { stateDelta: parsed('{"user:__proto__": {"x": 1}}') } }) });
      const state = await (service as RemoteSessionService).getUserState({ appName, userId: "u1" });
      expect(Object.hasOwn(state, "__proto__")).toBe(true);
      expect(state["__proto__"]).toEqual({ x: 1 });
      expect(Object.getPrototypeOf(state)).toBe(Object.prototype);
      expectClean();
    },
  },
];
