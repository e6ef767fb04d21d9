import { describe, expect, it } from "vitest";
import { MemoryStore } from "../../src/stores/memory.js";
import { wrapStoreMethods } from "../../src/stores/method-proxy.js";
import type { Store } from "../../src/stores/store.js";

const key = { appName: "a", userId: "u", sessionId: "s" };
const NEW_SESSION = { appName: "a", userId: "u", id: "s", agentId: "", metadata: {}, delta: { app: null, user: null, session: null }, nowUs: 1 };

/** A layer that notes each call it sees, by name, in `seen`. */
function noting(store: Store, label: string, seen: string[], skip: ReadonlySet<PropertyKey> = new Set()): Store {
  return wrapStoreMethods(store, skip, (name, method) => (...args) => {
    seen.push(`${label}:${name}`);
    return method(...args);
  });
}

describe("store method layers", () => {
  it("a layer over a layered store runs outside it, each layer once per call, the store's own fields passing through", async () => {
    const seen: string[] = [];
    const base = new MemoryStore();
    const inner = noting(base, "inner", seen);
    const outer = noting(inner, "outer", seen, new Set(["createSession"]));
    expect(outer.kind).toBe("memory");
    expect(outer).toBeInstanceOf(MemoryStore);

    await outer.createSession(NEW_SESSION);
    expect(seen).toEqual(["inner:createSession"]);
    seen.length = 0;
    const got = await outer.getSession(key, { numRecentEvents: 0 });
    expect(got.view.session.id).toBe("s");
    expect(seen).toEqual(["outer:getSession", "inner:getSession"]);
    // The same wrapped function each time a method is read.
    expect(outer.getSession).toBe(outer.getSession);

    // The store underneath a layer keeps its own layers, and no more.
    seen.length = 0;
    await inner.getSession(key, { numRecentEvents: 0 });
    expect(seen).toEqual(["inner:getSession"]);
  });

  it("layers over one store stay apart from each other", async () => {
    const seen: string[] = [];
    const inner = noting(new MemoryStore(), "inner", seen);
    const left = noting(inner, "left", seen);
    const right = noting(inner, "right", seen);
    await left.createSession(NEW_SESSION);
    await right.getSession(key, { numRecentEvents: 0 });
    expect(seen).toEqual(["left:createSession", "inner:createSession", "right:getSession", "inner:getSession"]);
  });
});
