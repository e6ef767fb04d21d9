import { describe, expect, it } from "vitest";
import type { JsonObject, ScopedDelta } from "../../src/core/types.js";
import { applyDelta, combineScopedDeltas, mergedState, splitDelta } from "../../src/core/state.js";

describe("state scopes", () => {
  it("routes keys by prefix, strips prefixes from shared scopes and drops temp keys", () => {
    const { scoped, stored } = splitDelta({ "app:a": 1, "user:u": null, s: "x", "temp:t": true, "application": 2 });
    expect(scoped).toEqual({ app: { a: 1 }, user: { u: null }, session: { s: "x", application: 2 } });
    expect(stored).toEqual({ "app:a": 1, "user:u": null, s: "x", application: 2 });
    expect(splitDelta({ "temp:only": 1 }).stored).toBeUndefined();
    expect(splitDelta(undefined).scoped).toEqual({ app: null, user: null, session: null });
  });

  it("applies null as delete without mutating the input", () => {
    const before = { a: 1, b: 2 };
    expect(applyDelta(before, { a: null, c: 3 })).toEqual({ b: 2, c: 3 });
    expect(before).toEqual({ a: 1, b: 2 });
  });

  it("combines deltas so that applying the combination equals applying each in order", () => {
    const deltas: ScopedDelta[] = [
      { app: { x: 1 }, user: null, session: { a: 1, gone: 1 } },
      { app: null, user: { u: 1 }, session: { a: 2, gone: null } },
    ];
    const combined = combineScopedDeltas(deltas);
    const stepwise = deltas.reduce<JsonObject>((s, d) => applyDelta(s, d.session), { gone: 0 });
    expect(applyDelta({ gone: 0 }, combined.session)).toEqual(stepwise);
    expect(combined).toEqual({ app: { x: 1 }, user: { u: 1 }, session: { a: 2, gone: null } });
  });

  it("merges the view with prefixes, shared keys winning over same-named session keys", () => {
    const session = { appName: "a", userId: "u", id: "s", agentId: "", status: "active" as const, metadata: {}, createTimeUs: 0, updateTimeUs: 0, lastSequence: 0 };
    expect(mergedState({ session: { ...session, state: { k: 1, "app:x": "stale" } }, appState: { x: 2 }, userState: { y: 3 } })).toEqual({
      k: 1,
      "app:x": 2,
      "user:y": 3,
    });
  });

  it("keeps __proto__ and constructor as own keys through routing, applying, combining and merging", () => {
    const delta = JSON.parse('{"__proto__":{"temp:t":1,"app:z":2},"user:__proto__":{"x":1},"app:constructor":3}') as JsonObject;
    const { scoped, stored } = splitDelta(delta);
    expect(Object.keys(scoped.session!)).toEqual(["__proto__"]);
    expect(Object.keys(scoped.user!)).toEqual(["__proto__"]);
    expect(Object.keys(scoped.app!)).toEqual(["constructor"]);
    expect(Object.keys(stored!)).toEqual(["__proto__", "user:__proto__", "app:constructor"]);
    const state = applyDelta({ k: 1 }, scoped.session);
    expect(Object.keys(state)).toEqual(["k", "__proto__"]);
    expect(state["temp:t"]).toBeUndefined();
    const combined = combineScopedDeltas([scoped, { app: null, user: JSON.parse('{"__proto__":null}') as JsonObject, session: null }]);
    expect(Object.keys(combined.user!)).toEqual(["__proto__"]);
    expect(Object.keys(applyDelta(scoped.user!, combined.user))).toEqual([]);
    const view = { session: { state } as never, appState: scoped.app!, userState: scoped.user! };
    expect(Object.keys(mergedState(view)).sort()).toEqual(["__proto__", "app:constructor", "k", "user:__proto__"]);
    expect(Object.hasOwn(Object.prototype, "x") || Object.hasOwn(Object.prototype, "temp:t")).toBe(false);
  });
});
