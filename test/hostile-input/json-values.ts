import type { JsonObject } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { SessionStatus } from "../../gen/sessiond/v1/session_pb.js";
import { describe, expect, it } from "vitest";
import { limits } from "../../src/core/limits.js";
import { expectCode } from "../support/expect-code.js";
import { uniqueName } from "../support/server.js";
import { expectInvalid, freshSession, type HostileContext, keyJson, rawCall } from "./context.js";

/**
 * An object nested `depth` deep (the outer object counts as 1), objects and
 * arrays in turn, or only objects (the costliest for protobuf decoders).
 */
export function nested(depth: number, arrays = true): JsonObject {
  const isObject = (level: number) => !arrays || level % 2 === 1;
  let value: unknown = isObject(depth) ? { leaf: "x" } : ["x"];
  for (let level = depth - 1; level >= 1; level--) value = isObject(level) ? { down: value } : [value];
  return value as JsonObject;
}

/** Depth of a JSON value as sessiond counts it: every object and array is one level. */
export function depthOf(value: unknown): number {
  if (value === null || typeof value !== "object") return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

/**
 * Where a JSON value can hide in a request, as a Connect JSON body around
 * `value` (JSON text) and the field the error must name.
 */
function placements(key: { appName: string; userId: string; sessionId: string }) {
  const k = keyJson(key);
  const app = JSON.stringify(uniqueName("new"));
  return [
    { method: "CreateSession", field: "state.x", body: (v: string) => `{"appName":${app},"userId":"u","state":{"x":${v}}}` },
    { method: "CreateSession", field: "metadata.x", body: (v: string) => `{"appName":${app},"userId":"u","metadata":{"x":${v}}}` },
    { method: "UpdateSession", field: "metadata.x", body: (v: string) => `{${k},"status":"SESSION_STATUS_COMPLETED","metadata":{"x":${v}}}` },
    { method: "AppendEvent", field: "event.content.parts[0].x", body: (v: string) => `{${k},"event":{"content":{"parts":[{"x":${v}}]}}}` },
    { method: "AppendEvent", field: "event.metadata.x", body: (v: string) => `{${k},"event":{"metadata":{"x":${v}}}}` },
    { method: "AppendEvent", field: "event.actions.state_delta[\"app:x\"]", body: (v: string) => `{${k},"event":{"actions":{"stateDelta":{"app:x":${v}}}}}` },
    { method: "AppendEvent", field: "event.actions.custom.x", body: (v: string) => `{${k},"event":{"actions":{"custom":{"x":${v}}}}}` },
    { method: "AppendEvents", field: "events[1].content.x", body: (v: string) => `{${k},"events":[{"author":"a"},{"content":{"x":${v}}}]}` },
  ];
}

/** Asserts that none of the placements above changed anything. */
async function expectUntouched(ctx: HostileContext, key: { appName: string; userId: string; sessionId: string }) {
  const { session } = await ctx.client.getSession(key);
  expect(session!.status).toBe(SessionStatus.ACTIVE); // the update was not applied
  expect(session!.metadata).toEqual({});
  expect(session!.state).toEqual({});
  expect(Number(session!.lastSequence)).toBe(0);
  const { sessions } = await ctx.client.listSessions({ appName: key.appName });
  expect(sessions.map((s) => s.id)).toEqual([key.sessionId]);
}

/** Numbers JSON can represent and nesting protobuf decoders accept, in every Struct field. */
export function jsonValueTests(ctx: HostileContext): void {
  describe("JSON values", () => {
    it("rejects numbers JSON cannot represent in every field before writing anything", async () => {
      const key = await freshSession(ctx);
      for (const { method, field, body } of placements(key)) {
        for (const number of ["1e400", "-1e400"]) expectInvalid(await rawCall(ctx, method, body(number)), field);
      }
      await expectUntouched(ctx, key);
      // Binary protobuf carries NaN and ±Infinity as doubles: the same checks apply.
      for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
        await expectCode(ctx.client.createSession({ appName: uniqueName("new"), userId: "u", state: { n: bad } }), Code.InvalidArgument, "state.n");
        await expectCode(ctx.client.updateSession({ ...key, status: SessionStatus.COMPLETED, metadata: { n: [bad] } }), Code.InvalidArgument, "metadata.n[0]");
        await expectCode(ctx.client.appendEvent({ ...key, event: { content: { deep: { n: bad } } } }), Code.InvalidArgument, "event.content.deep.n");
        await expectCode(ctx.client.appendEvent({ ...key, event: { actions: { stateDelta: { "user:n": bad } } } }), Code.InvalidArgument, "event.actions.state_delta");
      }
      await expectUntouched(ctx, key);
    });

    it("rejects artifact versions that are negative or not exact numbers, naming the artifact", async () => {
      const key = await freshSession(ctx);
      for (const version of ['"-1"', '"9007199254740992"']) {
        const reply = await rawCall(ctx, "AppendEvent", `{${keyJson(key)},"event":{"actions":{"artifactDelta":{"ok":"1","report.pdf":${version}}}}}`);
        expectInvalid(reply, 'event.actions.artifact_delta["report.pdf"]');
      }
      await expectUntouched(ctx, key);
    });

    it("leaves no session behind when CreateSession is rejected, and listing keeps working", async () => {
      const appName = uniqueName("app");
      expectInvalid(await rawCall(ctx, "CreateSession", `{"appName":"${appName}","userId":"u","sessionId":"s1","metadata":{"big":1e400}}`), "metadata.big");
      expectInvalid(await rawCall(ctx, "CreateSession", `{"appName":"${appName}","userId":"u","sessionId":"s1","state":{"big":1e400}}`), "state.big");
      expect((await ctx.client.listSessions({ appName })).sessions).toEqual([]);
      await expectCode(ctx.client.getSession({ appName, userId: "u", sessionId: "s1" }), Code.NotFound);
      // The id is still free.
      await ctx.client.createSession({ appName, userId: "u", sessionId: "s1", metadata: { big: 1e300 } });
      expect((await ctx.client.listSessions({ appName })).sessions[0]!.metadata).toEqual({ big: 1e300 });
    });

    it(`stores values nested ${limits.maxJsonDepth} deep in every field and reads them back`, async () => {
      const deepest = nested(limits.maxJsonDepth);
      expect(depthOf(deepest)).toBe(limits.maxJsonDepth);
      const appName = uniqueName("app");
      const { session } = await ctx.client.createSession({ appName, userId: "u", state: { "user:d": deepest.down as never, d: deepest.down as never }, metadata: deepest });
      const key = { appName, userId: "u", sessionId: session!.id };
      await ctx.client.appendEvent({ ...key, event: { content: deepest, metadata: deepest, actions: { custom: deepest, stateDelta: { e: deepest.down as never } } } });
      const got = (await ctx.client.getSession(key)).session!;
      expect(got.metadata).toEqual(deepest);
      expect(got.state).toEqual({ "user:d": deepest.down, d: deepest.down, e: deepest.down });
      const [event] = got.events;
      expect(event!.content).toEqual(deepest);
      expect(event!.metadata).toEqual(deepest);
      expect(event!.actions!.custom).toEqual(deepest);
      expect((await ctx.client.listEvents(key)).events[0]!.content).toEqual(deepest);
      for await (const m of ctx.client.getEvents(key)) expect(m.events[0]!.actions!.custom).toEqual(deepest);
      // The same over Connect JSON.
      const reply = await rawCall(ctx, "GetSession", `{${keyJson(key)}}`);
      expect((reply.body.session as { events: { content: unknown }[] }).events[0]!.content).toEqual(deepest);
    });

    it(`rejects values nested deeper than ${limits.maxJsonDepth} in every field, naming it`, async () => {
      const key = await freshSession(ctx);
      const tooDeep = JSON.stringify(nested(limits.maxJsonDepth + 1).down);
      for (const { method, field, body } of placements(key)) {
        const reply = await rawCall(ctx, method, body(tooDeep));
        expectInvalid(reply, field);
        expect(String(reply.body.message)).toContain(`more than ${limits.maxJsonDepth} deep`);
      }
      await expectUntouched(ctx, key);
      // Deeper still, but within what the server's own protobuf decoder reads.
      const deeper = nested(40);
      await expectCode(ctx.client.appendEvent({ ...key, event: { content: deeper } }), Code.InvalidArgument, "event.content");
      await expectUntouched(ctx, key);
    });
  });
}
