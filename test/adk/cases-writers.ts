import { createEvent, type Session } from "@google/adk";
import { expect } from "vitest";
import { StaleSessionError } from "../../src/adk/index.js";
import { type AdkCase, remoteOf } from "./cases.js";

const STALE = /modified in storage/;

/** Writers holding outdated session objects, and the service's lifecycle. */
export const writerCases: AdkCase[] = [
  {
    name: "appending through a session object another writer has overtaken is refused and stores nothing",
    notOnAdkJs: "ADK JS reloads the stale session and appends; Python ADK refuses it",
    async run({ service, unique }) {
      const appName = unique("my_app");
      const now = Date.now();
      const original = await service.createSession({ appName, userId: "user" });
      await service.appendEvent({
        session: original,
        event: createEvent({ invocationId: "inv1", author: "user", timestamp: now + 1000, actions: { stateDelta: { sk1: "v1" } } }),
      });
      const updated = (await service.getSession({ appName, userId: "user", sessionId: original.id }))!;
      await service.appendEvent({
        session: updated,
        event: createEvent({ invocationId: "inv2", author: "user", timestamp: now + 2000, actions: { stateDelta: { sk2: "v2" } } }),
      });
      expect(original.lastUpdateTime).toBeLessThan(updated.lastUpdateTime);
      expect(original.events).toHaveLength(1);
      expect(original.state).not.toHaveProperty("sk2");

      const event3 = createEvent({ invocationId: "inv3", author: "user", timestamp: now + 3000, actions: { stateDelta: { sk3: "v3" } } });
      const failure = await service.appendEvent({ session: original, event: event3 }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(StaleSessionError);
      expect((failure as Error).message).toMatch(STALE);
      expect((failure as Error).cause).toMatchObject({ code: 10 });
      expect(original.events).toHaveLength(1);

      const final = (await service.getSession({ appName, userId: "user", sessionId: original.id }))!;
      expect(final.events.map((e) => e.invocationId)).toEqual(["inv1", "inv2"]);
      expect(final.state).toEqual({ sk1: "v1", sk2: "v2" });
    },
  },
  {
    name: "of two copies of one session appended to at once, exactly one wins, every round",
    notOnAdkJs: "ADK JS accepts both writers; Python ADK refuses the stale one",
    async run({ service, unique }) {
      const appName = unique("my_app");
      const session = await service.createSession({ appName, userId: "user" });
      const rounds = 8;
      for (let i = 0; i < rounds; i++) {
        const latest = (await service.getSession({ appName, userId: "user", sessionId: session.id }))!;
        // Copies made the way an application would: structuredClone, or two reads.
        const copies: Session[] =
          i % 2 === 0
            ? [structuredClone(latest), structuredClone(latest)]
            : [latest, (await service.getSession({ appName, userId: "user", sessionId: session.id }))!];
        const base = latest.lastUpdateTime + 10_000;
        const results = await Promise.allSettled(
          copies.map((copy, w) =>
            service.appendEvent({
              session: copy,
              event: createEvent({ invocationId: `inv${i}-${w}`, author: "user", timestamp: base + w, actions: { stateDelta: { [`sk${i}-${w}`]: `v${i}-${w}` } } }),
            }),
          ),
        );
        const refused = results.filter((r) => r.status === "rejected");
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        expect(refused).toHaveLength(1);
        expect(refused[0]!.reason).toBeInstanceOf(StaleSessionError);
        expect(String(refused[0]!.reason)).toMatch(STALE);
      }
      const final = (await service.getSession({ appName, userId: "user", sessionId: session.id }))!;
      expect(final.events).toHaveLength(rounds);
      for (let i = 0; i < rounds; i++) {
        const values = [final.state[`sk${i}-0`], final.state[`sk${i}-1`]];
        expect(values.filter((v) => v === undefined)).toHaveLength(1);
      }
    },
  },
  {
    name: "a structuredClone of a current session appends; one of a stale session is refused, never silently behind",
    notOnAdkJs: "ADK JS reloads stale sessions",
    async run({ service, unique }) {
      const appName = unique("app");
      const session = await service.createSession({ appName, userId: "u" });
      // Both events at one time: the session's update time alone cannot tell the copies apart.
      const at = Date.now();
      await service.appendEvent({ session, event: createEvent({ invocationId: "a", timestamp: at }) });
      const copy = structuredClone(session);
      await service.appendEvent({ session: copy, event: createEvent({ invocationId: "b", timestamp: at }) });
      expect(copy.events.map((e) => e.invocationId)).toEqual(["a", "b"]);
      // `session` has not seen "b": refused, whether as it is or cloned.
      await expect(service.appendEvent({ session: structuredClone(session), event: createEvent({ invocationId: "c" }) })).rejects.toThrow(STALE);
      await expect(service.appendEvent({ session, event: createEvent({ invocationId: "c" }) })).rejects.toThrow(STALE);
      const stored = (await service.getSession({ appName, userId: "u", sessionId: session.id }))!;
      expect(stored.events.map((e) => e.invocationId)).toEqual(["a", "b"]);
    },
  },
  {
    name: "a current session whose update time drifted in a float round trip still appends",
    async run({ service, unique }) {
      const appName = unique("app");
      const session = await service.createSession({ appName, userId: "user", sessionId: "s1" });
      const event1 = createEvent({ invocationId: "inv1", author: "user", timestamp: session.lastUpdateTime + 10_000 });
      await service.appendEvent({ session, event: event1 });
      session.lastUpdateTime -= 0.1;
      await service.appendEvent({ session, event: createEvent({ invocationId: "inv2", author: "user", timestamp: event1.timestamp + 10_000 }) });
      const refreshed = (await service.getSession({ appName, userId: "user", sessionId: "s1" }))!;
      expect(refreshed.events.map((e) => e.invocationId)).toEqual(["inv1", "inv2"]);
    },
  },
  {
    name: "init and close: concurrent first calls all succeed, init is idempotent, close releases the connection",
    notOnAdkJs: "InMemorySessionService has no init or close (DatabaseSessionService's lifecycle)",
    async run(ctx) {
      const fresh = ctx.remote!.newService();
      const appName = ctx.unique("app");
      const created = await Promise.all(
        [0, 1, 2, 3, 4].map((i) => fresh.createSession({ appName: `${appName}_${i}`, userId: "user", sessionId: `sess_${i}` })),
      );
      expect(created.map((s) => s.id)).toEqual(["sess_0", "sess_1", "sess_2", "sess_3", "sess_4"]);
      await fresh.init();
      await fresh.init();
      for (let i = 0; i < 5; i++) {
        expect(await fresh.getSession({ appName: `${appName}_${i}`, userId: "user", sessionId: `sess_${i}` })).toBeDefined();
      }
      await fresh.close();
      // Like a closed DatabaseSessionService reopened by its next call.
      expect((await fresh.createSession({ appName, userId: "user", sessionId: "after-close" })).id).toBe("after-close");
      await fresh.close();
      await remoteOf(ctx).init();
    },
  },
];
