import { createEvent } from "@google/adk";
import { expect } from "vitest";
import type { AdkCase } from "./cases.js";

/** Keys a prototype-polluting bug would plant on Object.prototype. */
const PLANTED = ["polluted", "httpOptions", "pwned", "baseUrl", "isAdmin", "poc_sid"];

function expectClean() {
  for (const key of PLANTED) expect(({} as Record<string, unknown>)[key]).toBeUndefined();
}

/** Apps, users and sessions named `__proto__` (ADK JS's prototype-pollution cases). */
export const prototypeNameCases: AdkCase[] = [
  {
    name: "an app, user or session named __proto__ pollutes nothing and is stored like any other",
    async run({ service, unique }) {
      const userId = unique("polluted");
      await service.createSession({ appName: "__proto__", userId, sessionId: "poc_sid", state: {} });
      expectClean();
      const got = await service.getSession({ appName: "__proto__", userId, sessionId: "poc_sid" });
      expect(got!.id).toBe("poc_sid");
      expect((await service.listSessions({ appName: unique("polluted"), userId })).sessions).toHaveLength(0);
      const realApp = unique("real_app");
      await service.createSession({ appName: realApp, userId: "alice", sessionId: "s1" });
      expect((await service.listSessions({ appName: realApp, userId })).sessions).toHaveLength(0);

      const underProtoUser = await service.createSession({ appName: unique("app1"), userId: "__proto__", sessionId: "__proto__" });
      await service.appendEvent({
        session: underProtoUser,
        event: createEvent({ actions: { stateDelta: { "user:httpOptions": { baseUrl: "https://evil.test" } } } }),
      });
      const underProtoApp = await service.createSession({ appName: "__proto__", userId: unique("u1"), sessionId: "s1" });
      await service.appendEvent({ session: underProtoApp, event: createEvent({ actions: { stateDelta: { "app:pwned": "attacker-value" } } }) });
      expectClean();
    },
  },
];
