import { createEvent, State } from "@google/adk";
import { expect } from "vitest";
import { type AdkCase, remoteOf } from "./cases.js";

/** State write order; Python ADK's get_user_state. */
export const stateCases: AdkCase[] = [
  {
    name: "an older writer's delta committed after a newer write does not roll the key back",
    async run({ service, unique }) {
      const session = await service.createSession({ appName: unique("app"), userId: "u" });
      const earlyDelta: Record<string, unknown> = {};
      new State(session.state, earlyDelta).set("key", "early");
      const lateDelta: Record<string, unknown> = {};
      new State(session.state, lateDelta).set("key", "late");
      await service.appendEvent({ session, event: createEvent({ actions: { stateDelta: earlyDelta } }) });
      expect(session.state.key).toBe("late");
      await service.appendEvent({ session, event: createEvent({ actions: { stateDelta: lateDelta } }) });
      expect(session.state.key).toBe("late");
      const stored = await service.getSession({ appName: session.appName, userId: "u", sessionId: session.id });
      expect(stored!.state.key).toBe("late");
    },
  },
  {
    name: "getUserState returns the user's user: state without prefixes, {} when there is none",
    notOnAdkJs: "ADK JS has no getUserState; Python ADK's get_user_state",
    async run(ctx) {
      const service = remoteOf(ctx);
      const appName = ctx.unique("my_app");
      expect(await service.getUserState({ appName, userId: "u1" })).toEqual({});
      const session = await service.createSession({ appName, userId: "u1" });
      await service.appendEvent({
        session,
        event: createEvent({ author: "system", actions: { stateDelta: { "user:profile": { name: "Alice" }, session_key: 1, "app:a": 1 } } }),
      });
      expect(await service.getUserState({ appName, userId: "u1" })).toEqual({ profile: { name: "Alice" } });
      expect(await service.getUserState({ appName, userId: "u2" })).toEqual({});
      expect(await service.getUserState({ appName: ctx.unique("other_app"), userId: "u1" })).toEqual({});
      await service.appendEvent({ session, event: createEvent({ actions: { stateDelta: { "user:counter": 1 } } }) });
      await service.appendEvent({ session, event: createEvent({ actions: { stateDelta: { "user:counter": 2 } } }) });
      expect((await service.getUserState({ appName, userId: "u1" })).counter).toBe(2);
    },
  },
];
