import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { SessionStatus } from "../../gen/sessiond/v1/session_pb.js";
import { type ListSessionsRequestSchema, SessionOrder } from "../../gen/sessiond/v1/session_service_pb.js";
import { expectCode } from "../support/expect-code.js";
import { uniqueName } from "../support/server.js";
import { type SuiteContext, textEvent } from "./context.js";

type ListInit = Omit<MessageInitShape<typeof ListSessionsRequestSchema>, "$typeName">;

/** ListSessions: filters, order, offset and keyset paging. */
export function listingTests(ctx: SuiteContext): void {
  async function pageAll(req: ListInit, between?: (page: number) => Promise<void>) {
    const ids: string[] = [];
    let pageToken = "";
    let page = 0;
    do {
      const res = await ctx.client.listSessions({ ...req, pageToken });
      for (const s of res.sessions) {
        expect(s.events).toEqual([]);
        ids.push(s.id);
      }
      pageToken = res.nextPageToken;
      await between?.(page++);
    } while (pageToken !== "");
    return ids;
  }

  describe("listing sessions", () => {
    it("filters by user, agent, status and a half-open create-time range", async () => {
      const appName = uniqueName("app");
      const made = [];
      for (const [userId, agentId] of [["a", "x"], ["a", "y"], ["b", "x"], ["b", "y"]] as const) {
        made.push((await ctx.client.createSession({ appName, userId, agentId, sessionId: `${userId}${agentId}` })).session!);
        await new Promise((r) => setTimeout(r, 3));
      }
      await ctx.client.updateSession({ appName, userId: "b", sessionId: "bx", status: SessionStatus.COMPLETED });
      const ids = async (req: ListInit) =>
        (await ctx.client.listSessions({ appName, ...req })).sessions.map((s) => s.id).sort();
      expect(await ids({})).toEqual(["ax", "ay", "bx", "by"]);
      expect(await ids({ userId: "a" })).toEqual(["ax", "ay"]);
      expect(await ids({ agentId: "x" })).toEqual(["ax", "bx"]);
      expect(await ids({ status: SessionStatus.COMPLETED })).toEqual(["bx"]);
      expect(await ids({ status: SessionStatus.ACTIVE, userId: "b" })).toEqual(["by"]);
      expect(await ids({ createTimeStart: made[1]!.createTime, createTimeEnd: made[3]!.createTime })).toEqual(["ay", "bx"]);
      expect(await ids({ appName: uniqueName("empty") })).toEqual([]);
    });

    it("orders by update time, newest first unless asked otherwise", async () => {
      const appName = uniqueName("app");
      for (const id of ["s1", "s2", "s3"]) {
        await ctx.client.createSession({ appName, userId: "u", sessionId: id });
        await new Promise((r) => setTimeout(r, 3));
      }
      await ctx.client.appendEvent({ appName, userId: "u", sessionId: "s1", event: textEvent("bump") });
      const order = async (o: SessionOrder) => (await ctx.client.listSessions({ appName, order: o })).sessions.map((s) => s.id);
      expect(await order(SessionOrder.UNSPECIFIED)).toEqual(["s1", "s3", "s2"]);
      expect(await order(SessionOrder.UPDATE_TIME_DESC)).toEqual(["s1", "s3", "s2"]);
      expect(await order(SessionOrder.UPDATE_TIME_ASC)).toEqual(["s2", "s3", "s1"]);
      const skipped = await ctx.client.listSessions({ appName, offset: 1, pageSize: 1 });
      expect(skipped.sessions.map((s) => s.id)).toEqual(["s3"]);
      const rest = await ctx.client.listSessions({ appName, offset: 1, pageSize: 1, pageToken: skipped.nextPageToken });
      expect(rest.sessions.map((s) => s.id)).toEqual(["s2"]);
      expect(rest.nextPageToken).toBe("");
    });

    it("pages every session exactly once, in both orders", async () => {
      const appName = uniqueName("app");
      const created: string[] = [];
      for (let i = 0; i < 23; i++) {
        created.push((await ctx.client.createSession({ appName, userId: `u${i % 3}` })).session!.id);
      }
      for (const order of [SessionOrder.UPDATE_TIME_DESC, SessionOrder.UPDATE_TIME_ASC]) {
        const ids = await pageAll({ appName, pageSize: 5, order });
        expect(ids).toHaveLength(23);
        expect(new Set(ids)).toEqual(new Set(created));
      }
    });

    it("keeps keyset paging correct while sessions are created concurrently", async () => {
      const appName = uniqueName("app");
      const existing = new Set<string>();
      for (let i = 0; i < 30; i++) existing.add((await ctx.client.createSession({ appName, userId: "u" })).session!.id);
      for (const order of [SessionOrder.UPDATE_TIME_DESC, SessionOrder.UPDATE_TIME_ASC]) {
        const ids = await pageAll({ appName, pageSize: 7, order }, async () => {
          await Promise.all([0, 1].map(() => ctx.client.createSession({ appName, userId: "u" })));
        });
        expect(new Set(ids).size).toBe(ids.length);
        for (const id of existing) expect(ids).toContain(id);
      }
    });

    it("rejects bad page tokens and page sizes", async () => {
      const appName = uniqueName("app");
      for (let i = 0; i < 3; i++) await ctx.client.createSession({ appName, userId: "u" });
      await expectCode(ctx.client.listSessions({ appName, pageToken: "not-a-token" }), Code.InvalidArgument, "page_token");
      await expectCode(ctx.client.listSessions({ appName, pageToken: "eyJ2Ijo5fQ" }), Code.InvalidArgument, "page_token");
      const first = await ctx.client.listSessions({ appName, pageSize: 1 });
      expect(first.nextPageToken).not.toBe("");
      await expectCode(ctx.client.listSessions({ appName, userId: "u", pageToken: first.nextPageToken }), Code.InvalidArgument, "page_token");
      await expectCode(ctx.client.listSessions({ appName, pageSize: 1001 }), Code.InvalidArgument, "page_size");
      await expectCode(ctx.client.listSessions({ appName, pageSize: -1 }), Code.InvalidArgument, "page_size");
      await expectCode(ctx.client.listSessions({ appName: "" }), Code.InvalidArgument, "app_name");
      await expectCode(ctx.client.listSessions({ appName, order: 9 as SessionOrder }), Code.InvalidArgument, "order");
    });
  });
}
