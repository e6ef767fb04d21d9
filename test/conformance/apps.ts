import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { expectCode } from "../support/expect-code.js";
import { uniqueName } from "../support/server.js";
import type { SuiteContext } from "./context.js";

/** ListApps: apps with sessions, counted, in byte order, paged and filtered by prefix. */
export function appTests(ctx: SuiteContext): void {
  async function pageAll(namePrefix: string, pageSize: number) {
    const apps: [string, bigint][] = [];
    let pageToken = "";
    do {
      const res = await ctx.client.listApps({ namePrefix, pageSize, pageToken });
      expect(res.apps.length).toBeLessThanOrEqual(pageSize);
      apps.push(...res.apps.map((a): [string, bigint] => [a.appName, a.sessionCount]));
      pageToken = res.nextPageToken;
    } while (pageToken !== "");
    return apps;
  }

  describe("listing apps", () => {
    it("lists apps with sessions and their counts, in byte order", async () => {
      const prefix = `${uniqueName("apps")}-`;
      // "B" sorts before "a" in byte order; "a-x" is a prefix of "a-xy".
      const counts: Record<string, number> = { [`${prefix}a-x`]: 3, [`${prefix}a-xy`]: 1, [`${prefix}B`]: 2 };
      for (const [appName, n] of Object.entries(counts)) {
        for (let i = 0; i < n; i++) await ctx.client.createSession({ appName, userId: `u${i % 2}` });
      }
      const expected: [string, bigint][] = [
        [`${prefix}B`, 2n],
        [`${prefix}a-x`, 3n],
        [`${prefix}a-xy`, 1n],
      ];
      expect(await pageAll(prefix, 100)).toEqual(expected);
      expect(await pageAll(prefix, 1)).toEqual(expected);
      expect(await pageAll(`${prefix}a-x`, 100)).toEqual(expected.slice(1));
      expect(await pageAll(uniqueName("none"), 10)).toEqual([]);

      // Deleting sessions lowers the count; an app without sessions disappears.
      await ctx.client.deleteAppSessions({ appName: `${prefix}B` });
      const [first] = (await ctx.client.listSessions({ appName: `${prefix}a-x`, pageSize: 1 })).sessions;
      await ctx.client.deleteSession({ appName: first!.appName, userId: first!.userId, sessionId: first!.id });
      expect(await pageAll(prefix, 2)).toEqual([
        [`${prefix}a-x`, 2n],
        [`${prefix}a-xy`, 1n],
      ]);
    });

    it("sees every app of the store without a prefix", async () => {
      const appName = uniqueName("apps-all");
      await ctx.client.createSession({ appName, userId: "u" });
      const res = await ctx.client.listApps({ pageSize: 1000 });
      const names = res.apps.map((a) => a.appName);
      expect(names).toEqual([...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
      if (res.nextPageToken === "") expect(names).toContain(appName);
      expect(res.apps.every((a) => a.sessionCount > 0n)).toBe(true);
    });

    it("restricts the listing to a set of names at the store", async () => {
      const prefix = `${uniqueName("apps-only")}-`;
      for (const suffix of ["a", "b", "c"]) await ctx.client.createSession({ appName: prefix + suffix, userId: "u" });
      const only = [prefix + "c", prefix + "a", prefix + "never", "elsewhere"];
      expect(await ctx.store.listApps({ prefix, only, limit: 10 })).toEqual([
        { appName: prefix + "a", sessionCount: 1 },
        { appName: prefix + "c", sessionCount: 1 },
      ]);
      expect(await ctx.store.listApps({ prefix, only, after: prefix + "a", limit: 10 })).toEqual([{ appName: prefix + "c", sessionCount: 1 }]);
      expect(await ctx.store.listApps({ prefix, only, limit: 1 })).toEqual([{ appName: prefix + "a", sessionCount: 1 }]);
    });

    it("rejects bad paging and prefixes, naming the field", async () => {
      await expectCode(ctx.client.listApps({ pageSize: -1 }), Code.InvalidArgument, "page_size");
      await expectCode(ctx.client.listApps({ pageSize: 1001 }), Code.InvalidArgument, "page_size");
      await expectCode(ctx.client.listApps({ pageToken: "garbage" }), Code.InvalidArgument, "page_token");
      await expectCode(ctx.client.listApps({ namePrefix: "a\u0000" }), Code.InvalidArgument, "name_prefix");
      const prefix = uniqueName("apps-token");
      await ctx.client.createSession({ appName: `${prefix}-1`, userId: "u" });
      await ctx.client.createSession({ appName: `${prefix}-2`, userId: "u" });
      const page = await ctx.client.listApps({ namePrefix: prefix, pageSize: 1 });
      expect(page.nextPageToken).not.toBe("");
      await expectCode(ctx.client.listApps({ namePrefix: "other", pageToken: page.nextPageToken }), Code.InvalidArgument, "page_token");
    });
  });
}
