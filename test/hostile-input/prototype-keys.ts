import type { JsonObject } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import { uniqueName } from "../support/server.js";
import { type HostileContext, keyJson, rawCall } from "./context.js";

// What a polluting write would plant on Object.prototype; checked after every test.
const PLANTED = ["isAdmin", "temp:t", "app:z", "x", "baseUrl", "polluted", "pwned", "s1", "u1"];

// An object literal's `__proto__: v` sets the prototype instead of a key;
// what clients send is JSON text, which holds `__proto__` as a plain key.
const parse = (json: string) => JSON.parse(json) as JsonObject;

/** Whether `value` has exactly these own keys and an untouched prototype chain. */
function expectOwnKeys(value: unknown, keys: string[]) {
  expect(Object.keys(value as object).sort()).toEqual([...keys].sort());
  const proto = Object.getPrototypeOf(value);
  expect(proto === null || proto === Object.prototype).toBe(true);
}

interface RawSession {
  state: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  events?: { content?: unknown; metadata?: unknown; actions?: { stateDelta?: unknown; custom?: unknown } }[];
}

/** Any JSON key is an own key, in every field, on every store and protocol (modelled on ADK's pollution cases). */
export function prototypeKeyTests(ctx: HostileContext): void {
  describe("prototype keys", () => {
    afterEach(() => {
      for (const key of PLANTED) {
        const planted = Object.hasOwn(Object.prototype, key);
        delete (Object.prototype as Record<string, unknown>)[key];
        expect(planted, `Object.prototype gained ${key}`).toBe(false);
      }
    });

    it("keeps __proto__ in initial state an own key, without re-parenting the state", async () => {
      const appName = uniqueName("app");
      const created = await rawCall(ctx, "CreateSession", `{"appName":"${appName}","userId":"u","state":{"__proto__":{"isAdmin":true},"k":1}}`);
      const state = (created.body.session as RawSession).state;
      expect(state).toEqual(parse('{"__proto__":{"isAdmin":true},"k":1}'));
      const id = (created.body.session as { id: string }).id;
      // Read back over gRPC, decoded by protobuf-es.
      const { session } = await ctx.client.getSession({ appName, userId: "u", sessionId: id });
      expectOwnKeys(session!.state, ["__proto__", "k"]);
      expect(session!.state!.isAdmin).toBeUndefined();
      expect(Object.hasOwn(session!.state!, "__proto__") && session!.state!.__proto__).toEqual({ isAdmin: true });
    });

    it("never routes the fields of a __proto__ value as scoped keys", async () => {
      const appName = uniqueName("app");
      const body = `{"appName":"${appName}","userId":"u","state":{"__proto__":{"temp:t":1,"app:z":2}}}`;
      const created = await rawCall(ctx, "CreateSession", body);
      const id = (created.body.session as { id: string }).id;
      const key = { appName, userId: "u", sessionId: id };
      const delta = `{${keyJson(key)},"event":{"actions":{"stateDelta":{"__proto__":{"temp:t":3,"app:z":4,"user:x":5}}}}}`;
      expect((await rawCall(ctx, "AppendEvent", delta)).status).toBe(200);
      const { session } = await ctx.client.getSession(key);
      expectOwnKeys(session!.state, ["__proto__"]);
      expect(session!.state!.__proto__).toEqual({ "temp:t": 3, "app:z": 4, "user:x": 5 });
      expect(session!.events[0]!.actions!.stateDelta).toEqual(parse('{"__proto__":{"temp:t":3,"app:z":4,"user:x":5}}'));
      // Nothing reached the app's or the user's shared state.
      expectOwnKeys((await ctx.client.getUserState({ appName, userId: "u" })).state, []);
    });

    it("keeps user:__proto__ and app:__proto__ as shared keys, seen by sibling sessions", async () => {
      const appName = uniqueName("app");
      const first = (await ctx.client.createSession({ appName, userId: "u" })).session!;
      const key = { appName, userId: "u", sessionId: first.id };
      const stateDelta = parse('{"user:__proto__":{"baseUrl":"https://evil.test"},"app:__proto__":{"x":1},"user:constructor":{"prototype":{"polluted":1}}}');
      await ctx.client.appendEvent({ ...key, event: { actions: { stateDelta } } });
      const expected = ["user:__proto__", "app:__proto__", "user:constructor"];
      // A sibling reads the shared rows only, not the first session's own state.
      const sibling = (await ctx.client.createSession({ appName, userId: "u" })).session!;
      expectOwnKeys(sibling.state, expected);
      expect(sibling.state!["user:__proto__"]).toEqual({ baseUrl: "https://evil.test" });
      expect(sibling.state!["user:constructor"]).toEqual({ prototype: { polluted: 1 } });
      expect(sibling.state!.baseUrl).toBeUndefined();
      const shared = (await ctx.client.getUserState({ appName, userId: "u" })).state;
      expectOwnKeys(shared, expected);
      expectOwnKeys((await ctx.client.listSessions({ appName, userId: "u" })).sessions[0]!.state, expected);
      // Deleting the key deletes it, not a prototype.
      await ctx.client.appendEvent({ ...key, event: { actions: { stateDelta: parse('{"user:__proto__":null}') } } });
      expectOwnKeys((await ctx.client.getUserState({ appName, userId: "u" })).state, ["app:__proto__", "user:constructor"]);
    });

    it("round-trips __proto__, constructor and prototype keys in metadata, content and actions, over JSON and gRPC", async () => {
      const appName = uniqueName("app");
      const odd = '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"isAdmin":true}},"prototype":1,"hasOwnProperty":2,"toString":"s","":0}';
      const created = await rawCall(ctx, "CreateSession", `{"appName":"${appName}","userId":"u","metadata":${odd}}`);
      const key = { appName, userId: "u", sessionId: (created.body.session as { id: string }).id };
      const event = `{"content":${odd},"metadata":${odd},"actions":{"custom":${odd},"stateDelta":${odd}}}`;
      expect((await rawCall(ctx, "AppendEvent", `{${keyJson(key)},"event":${event}}`)).status).toBe(200);
      await rawCall(ctx, "UpdateSession", `{${keyJson(key)},"metadata":${odd}}`);
      const expected = parse(odd);
      const keys = Object.keys(expected);
      const viaJson = (await rawCall(ctx, "GetSession", `{${keyJson(key)}}`)).body.session as RawSession;
      for (const got of [viaJson.metadata, viaJson.state, viaJson.events![0]!.content, viaJson.events![0]!.metadata, viaJson.events![0]!.actions!.custom]) {
        expect(got).toEqual(expected);
        expectOwnKeys(got, keys);
      }
      const { session } = await ctx.client.getSession(key);
      const [stored] = session!.events;
      for (const got of [session!.metadata, session!.state, stored!.content, stored!.metadata, stored!.actions!.custom, stored!.actions!.stateDelta]) {
        expect(got).toEqual(expected);
        expectOwnKeys(got, keys);
      }
      const listed = (await ctx.client.listEvents(key)).events[0]!;
      expectOwnKeys(listed.content, keys);
      for await (const m of ctx.client.getEvents(key)) expectOwnKeys(m.events[0]!.actions!.custom, keys);
    });

    it("keeps an artifact named __proto__ an own key of the artifact delta", async () => {
      const appName = uniqueName("app");
      const { session } = await ctx.client.createSession({ appName, userId: "u" });
      const key = { appName, userId: "u", sessionId: session!.id };
      expect((await rawCall(ctx, "AppendEvent", `{${keyJson(key)},"event":{"actions":{"artifactDelta":{"__proto__":"3","a":"1"}}}}`)).status).toBe(200);
      const stored = (await ctx.client.getSession(key)).session!.events[0]!;
      expectOwnKeys(stored.actions!.artifactDelta, ["__proto__", "a"]);
      expect(stored.actions!.artifactDelta.__proto__).toBe(3n);
    });

    it("treats __proto__ as an ordinary app, user and session name, with no phantom sessions", async () => {
      const names = { appName: "__proto__", userId: "__proto__", sessionId: `__proto__${uniqueName("")}` };
      await ctx.client.createSession({ ...names, state: parse('{"app:pwned":1,"user:polluted":2}') });
      expect((await ctx.client.getSession(names)).session!.id).toBe(names.sessionId);
      const onlyMine = (await ctx.client.listSessions({ appName: "__proto__", userId: "__proto__" })).sessions.filter((s) => s.id === names.sessionId);
      expect(onlyMine).toHaveLength(1);
      expect((await ctx.client.listSessions({ appName: "polluted" })).sessions).toEqual([]);
      expect((await ctx.client.listSessions({ appName: uniqueName("real"), userId: "__proto__" })).sessions).toEqual([]);
      const other = (await ctx.client.createSession({ appName: uniqueName("app"), userId: "__proto__" })).session!;
      expect(other.state).toEqual({});
      await ctx.client.deleteSession(names);
    });
  });
}
