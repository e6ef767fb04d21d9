import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { importStream } from "../../src/transfer/ndjson.js";
import { uniqueName } from "../support/server.js";
import type { HostileContext } from "./context.js";

const ODD = '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"x":1}},"k":1}';

/** An export file, line by line, for one session with one event; `patch` rewrites lines before they are joined. */
function exportFile(appName: string, patch: (lines: string[]) => string[] = (l) => l) {
  const session = `{"appName":"${appName}","userId":"u","id":"s","agentId":"","status":"active","state":${ODD},"metadata":${ODD},"createTimeUs":1700000000000000,"updateTimeUs":1700000000000000,"lastSequence":1}`;
  const event = `{"sequence":1,"id":"e1","timestampUs":1700000000000000,"content":${ODD},"actions":{"stateDelta":${ODD},"custom":${ODD}},"metadata":${ODD},"longRunningToolIds":[]}`;
  const lines = [
    `{"type":"header","format":"sessiond","version":1,"createdAt":"2026-01-01T00:00:00Z","store":"memory","app":null}`,
    `{"type":"app_state","appName":"${appName}","state":${ODD}}`,
    `{"type":"user_state","appName":"${appName}","userId":"u","state":${ODD}}`,
    `{"type":"session","session":${session}}`,
    `{"type":"event","event":${event}}`,
    `{"type":"end","sessions":1,"events":1}`,
  ];
  return Readable.from([`${patch(lines).join("\n")}\n`]);
}

const keysOf = (value: unknown) => Object.keys(value as object).sort();

/** Import files go through the same rules as requests: own keys kept, unstorable values refused. */
export function importFileTests(ctx: HostileContext): void {
  describe("import files", () => {
    it("keeps every JSON key an own key, in state, shared state, metadata, content and actions", async () => {
      const appName = uniqueName("import");
      expect(await importStream(ctx.store, exportFile(appName))).toEqual({ sessions: 1, events: 1 });
      const key = { appName, userId: "u", sessionId: "s" };
      const { session } = await ctx.client.getSession(key);
      expect(keysOf(session!.metadata)).toEqual(["__proto__", "constructor", "k"]);
      expect(keysOf(session!.state)).toEqual(["__proto__", "app:__proto__", "app:constructor", "app:k", "constructor", "k", "user:__proto__", "user:constructor", "user:k"]);
      expect(session!.state!["user:__proto__"]).toEqual({ isAdmin: true });
      const [event] = session!.events;
      for (const value of [event!.content, event!.metadata, event!.actions!.custom, event!.actions!.stateDelta]) {
        expect(keysOf(value)).toEqual(["__proto__", "constructor", "k"]);
        expect((value as Record<string, unknown>).isAdmin).toBeUndefined();
      }
      expect(Object.hasOwn(Object.prototype, "isAdmin")).toBe(false);
    });

    it("refuses values the API would refuse, naming the line and the field", async () => {
      const cases: [string, (lines: string[]) => string[], string][] = [
        ["a number JSON cannot represent", (l) => l.map((x, i) => (i === 1 ? x.replace('"k":1', '"k":1e400') : x)), "line 2: state.k"],
        ["a lone surrogate", (l) => l.map((x, i) => (i === 4 ? x.replace('"id":"e1"', '"id":"e1","author":"a\\ud800"') : x)), "line 5: event.author"],
        ["a lone surrogate in a key", (l) => l.map((x, i) => (i === 3 ? x.replace('"metadata":{', '"metadata":{"\\udc00":1,') : x)), "line 4: session.metadata"],
        ["a timestamp beyond 2199", (l) => l.map((x, i) => (i === 4 ? x.replace('"timestampUs":1700000000000000', '"timestampUs":8000000000000000') : x)), "line 5: event.timestampUs"],
        ["nesting deeper than the API allows", (l) => l.map((x, i) => (i === 4 ? x.replace('"custom":', `"custom":{"d":${"[".repeat(40)}${"]".repeat(40)}},"x":`) : x)), "line 5: event.actions.custom.d"],
      ];
      for (const [what, patch, where] of cases) {
        const appName = uniqueName("import");
        await expect(importStream(ctx.store, exportFile(appName, patch)), what).rejects.toThrow(where);
      }
    });
  });
}
