import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { limits } from "../../src/core/limits.js";
import { expectCode } from "../support/expect-code.js";
import { uniqueName } from "../support/server.js";
import { expectInvalid, freshSession, type HostileContext, keyJson, rawCall } from "./context.js";

/** `count` code points, each outside the Basic Multilingual Plane (two UTF-16 units). */
const emoji = (count: number, glyph = "😀") => glyph.repeat(count);

/** Lengths in code points, and strings every store can hold. */
export function textTests(ctx: HostileContext): void {
  describe("text", () => {
    it("counts every length limit in code points, at the limit on every field", async () => {
      const id = emoji(limits.maxIdLength);
      const { session } = await ctx.client.createSession({ appName: id.slice(0, -2) + "a", userId: id, sessionId: id, agentId: emoji(limits.maxIdLength * 2) });
      expect(session!.id).toBe(id);
      const key = { appName: session!.appName, userId: id, sessionId: id };
      const label = emoji(limits.maxLabelLength, "𝄞");
      await ctx.client.appendEvent({
        ...key,
        event: {
          id,
          author: label,
          branch: label,
          errorCode: label,
          invocationId: emoji(limits.maxIdLength * 2),
          agentId: emoji(limits.maxIdLength * 2),
          longRunningToolIds: [id],
          actions: { transferToAgent: emoji(limits.maxIdLength * 2) },
        },
      });
      const [event] = (await ctx.client.getSession(key)).session!.events;
      expect(event).toMatchObject({ id, author: label, branch: label, errorCode: label, longRunningToolIds: [id] });
      expect(event!.invocationId).toBe(emoji(limits.maxIdLength * 2));
      expect(event!.actions!.transferToAgent).toBe(emoji(limits.maxIdLength * 2));
      expect((await ctx.client.listSessions({ appName: key.appName, userId: id })).sessions.map((s) => s.id)).toEqual([id]);
    });

    it("accepts a session id of 65 emoji and rejects one code point over each limit", async () => {
      const appName = uniqueName("app");
      const { session } = await ctx.client.createSession({ appName, userId: "u", sessionId: emoji(65) });
      expect((await ctx.client.getSession({ appName, userId: "u", sessionId: emoji(65) })).session!.id).toBe(session!.id);
      await expectCode(ctx.client.createSession({ appName, userId: "u", sessionId: emoji(limits.maxIdLength + 1) }), Code.InvalidArgument, "session_id");
      await expectCode(ctx.client.createSession({ appName: emoji(limits.maxIdLength + 1), userId: "u" }), Code.InvalidArgument, "app_name");
      await expectCode(ctx.client.createSession({ appName, userId: "u", agentId: emoji(limits.maxIdLength * 2 + 1) }), Code.InvalidArgument, "agent_id");
      const key = { appName, userId: "u", sessionId: session!.id };
      await expectCode(ctx.client.appendEvent({ ...key, event: { author: emoji(limits.maxLabelLength + 1) } }), Code.InvalidArgument, "event.author");
      await expectCode(ctx.client.appendEvent({ ...key, event: { id: emoji(limits.maxIdLength + 1) } }), Code.InvalidArgument, "event.id");
      await expectCode(
        ctx.client.appendEvent({ ...key, event: { actions: { transferToAgent: emoji(limits.maxIdLength * 2 + 1) } } }),
        Code.InvalidArgument,
        "event.actions.transfer_to_agent",
      );
      expect(Number((await ctx.client.getSession(key)).session!.lastSequence)).toBe(0);
    });

    it("rejects lone surrogates and U+0000 in every string and key before writing, on every store alike", async () => {
      const key = await freshSession(ctx);
      const k = keyJson(key);
      const app = JSON.stringify(uniqueName("new"));
      // Plain string fields are checked by the protobuf JSON decoder, Struct values and keys by sessiond.
      for (const bad of ["a\\ud800b", "\\udc00", "x\\u0000y"]) {
        const cases: [string, string, string][] = [
          ["AppendEvent", `{${k},"event":{"content":{"parts":[{"text":"${bad}"}]}}}`, "event.content.parts[0].text"],
          ["AppendEvent", `{${k},"event":{"content":{"${bad}":1}}}`, "event.content["],
          ["AppendEvent", `{${k},"event":{"errorMessage":"${bad}"}}`, "error_message"],
          ["AppendEvent", `{${k},"event":{"author":"${bad}"}}`, "author"],
          ["AppendEvent", `{${k},"event":{"actions":{"stateDelta":{"user:${bad}":1}}}}`, "event.actions.state_delta["],
          ["AppendEvent", `{${k},"event":{"actions":{"artifactDelta":{"${bad}":"1"}}}}`, "artifact_delta"],
          ["CreateSession", `{"appName":${app},"userId":"u","state":{"s":"${bad}"}}`, "state.s"],
          ["CreateSession", `{"appName":${app},"userId":"u","sessionId":"${bad}"}`, "session_id"],
          ["UpdateSession", `{${k},"metadata":{"m":["${bad}"]}}`, "metadata.m[0]"],
        ];
        for (const [method, body, field] of cases) expectInvalid(await rawCall(ctx, method, body), field);
      }
      const { session } = await ctx.client.getSession(key);
      expect(Number(session!.lastSequence)).toBe(0);
      expect(session!.metadata).toEqual({});
      expect((await ctx.client.listSessions({ appName: JSON.parse(app) as string })).sessions).toEqual([]);
    });

    it("stores every other code point, including pairs, U+FFFF and separators", async () => {
      const key = await freshSession(ctx);
      const text = "\u{10FFFF}😀\uFFFF\uFEFF\u2028\u2029\u0001é";
      await ctx.client.appendEvent({ ...key, event: { content: { [text]: text }, errorMessage: text } });
      const [event] = (await ctx.client.getSession(key)).session!.events;
      expect(event!.content).toEqual({ [text]: text });
      expect(event!.errorMessage).toBe(text);
    });
  });
}
