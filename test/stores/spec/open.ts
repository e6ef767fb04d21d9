import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { openStore } from "../../../src/stores/open.js";
import { isolationName } from "../../support/stores.js";
import { create, freshKey, rejection, type StoreSpecContext } from "./context.js";

/** URLs next to the isolated place that name stores nobody created, per store. */
function missingPlaces(name: string, url: string): string[] {
  const withParam = (key: string, value: string) => {
    const [base, query = ""] = url.split("?");
    const params = new URLSearchParams(query);
    params.set(key, value);
    return `${base}?${params}`;
  };
  switch (name) {
    case "sqlite":
      return [url.replace(/test\.db$/, `${isolationName("missing")}.db`), withParam("table_prefix", "missing_")];
    case "postgres":
      return [withParam("schema", isolationName("missing")), withParam("table_prefix", "missing_")];
    case "mysql": {
      const database = new URL(url);
      database.pathname = `${database.pathname}_missing`;
      return [database.toString(), withParam("table_prefix", "missing_")];
    }
    case "redis":
    case "redis-cluster":
      return [withParam("prefix", isolationName("missing"))];
    default:
      throw new Error(`no missing places known for the ${name} store`);
  }
}

/** Opening for tools that must not create: `mustExist`. */
export function openSpecs(ctx: StoreSpecContext): void {
  describe("open", () => {
    if (ctx.name === "memory") {
      it("opens a memory store as usual, since there is nothing to find", async () => {
        const store = await openStore(ctx.url, { mustExist: true });
        await store.close();
      });
      return;
    }

    it("with mustExist, fails with not_found on a store nobody created, and creates nothing", async () => {
      const places = missingPlaces(ctx.name, ctx.url);
      expect(places.length).toBeGreaterThan(0);
      for (const url of places) {
        const first = await rejection(openStore(url, { mustExist: true }), "not_found");
        expect(first.message).toMatch(/^store: /);
        // Still missing: the failed open created nothing a second one would find.
        await rejection(openStore(url, { mustExist: true }), "not_found");
        if (ctx.name === "sqlite" && !url.includes("?")) expect(existsSync(url.slice("sqlite:".length))).toBe(false);
      }
    });

    it("with mustExist, opens an existing store and sees its data", async () => {
      const key = freshKey();
      await create(ctx.store, key);
      const store = await openStore(ctx.url, { mustExist: true });
      try {
        expect((await store.getSession(key, {})).view.session.id).toBe(key.sessionId);
      } finally {
        await store.close();
      }
    });
  });
}
