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
});
