import { type BaseSessionService, createEvent } from "@google/adk";
import { expect } from "vitest";
import type { AdkCase } from "./cases.js";

/** Creates sessions `ids` under one user and appends one event each at the given times (ms), in order. */
async function sessionsAt(service: BaseSessionService, appName: string, userId: string, times: [string, number][]) {
  for (const [sessionId] of times) await service.createSession({ appName, userId, sessionId });
  for (const [sessionId, timestamp] of times) {
    const session = (await service.getSession({ appName, userId, sessionId }))!;
    await service.appendEvent({ session, event: createEvent({ timestamp }) });
  }
}

const ids = (response: { sessions: { id: string }[] }) => response.sessions.map((s) => s.id);

/** listSessions: filters, order by the last event's time, ADK's limit/offset/page arithmetic. */
export const listingCases: AdkCase[] = [
  {
    name: "an empty listing has page 1 and zero totals, with or without a limit",
    async run({ service, unique }) {
      const appName = unique("app");
      expect(await service.listSessions({ appName, userId: "u" })).toEqual({ sessions: [], page: 1, limit: 0, totalItems: 0, totalPages: 0 });
      expect(await service.listSessions({ appName, userId: "u", limit: 10 })).toEqual({
        sessions: [],
        page: 1,
        limit: 10,
        totalItems: 0,
        totalPages: 0,
      });
    },
  },
  {
    name: "listed sessions carry no events; without paging all come back on page 1",
    async run({ service, unique }) {
      const appName = unique("app");
      const a = await service.createSession({ appName, userId: "u", sessionId: "a" });
      await service.appendEvent({ session: a, event: createEvent({ author: "user" }) });
      await service.createSession({ appName, userId: "u", sessionId: "b" });
      const response = await service.listSessions({ appName, userId: "u" });
      expect(ids(response).sort()).toEqual(["a", "b"]);
      expect(response.sessions.map((s) => s.events)).toEqual([[], []]);
      expect(response).toMatchObject({ page: 1, limit: 2, totalItems: 2, totalPages: 1 });
    },
  },
  {
    name: "listing is by app and, when given, by user; sessions of other apps never show",
    async run({ service, unique }) {
      const app1 = unique("app1");
      await service.createSession({ appName: app1, userId: "u1", sessionId: "s1" });
      await service.createSession({ appName: app1, userId: "u2", sessionId: "s2" });
      await service.createSession({ appName: unique("app2"), userId: "u1", sessionId: "s3" });
      expect(ids(await service.listSessions({ appName: app1, userId: "u1" }))).toEqual(["s1"]);
      expect(ids(await service.listSessions({ appName: app1 })).sort()).toEqual(["s1", "s2"]);
      expect(ids(await service.listSessions({ appName: app1, userId: "nobody" }))).toEqual([]);
    },
  },
  {
    name: "orders by the time of each session's last event, both ways",
    async run({ service, unique }) {
      const appName = unique("app");
      await sessionsAt(service, appName, "u", [["s1", 3000], ["s2", 1000], ["s3", 2000]]);
      expect(ids(await service.listSessions({ appName, userId: "u", order: "asc" }))).toEqual(["s2", "s3", "s1"]);
      expect(ids(await service.listSessions({ appName, userId: "u", order: "desc" }))).toEqual(["s1", "s3", "s2"]);
      const all = await service.listSessions({ appName, order: "desc" });
      expect(ids(all)).toEqual(["s1", "s3", "s2"]);
      expect(all).toMatchObject({ page: 1, limit: 3, totalItems: 3, totalPages: 1 });
      expect(all.sessions.map((s) => s.lastUpdateTime)).toEqual([3000, 2000, 1000]);
    },
  },
  {
    name: "sessions with the same update time are listed by id in both orders",
    async run({ service, unique }) {
      const appName = unique("app");
      await sessionsAt(service, appName, "u", [["s2", 1000], ["s1", 1000], ["s3", 500]]);
      expect(ids(await service.listSessions({ appName, userId: "u", order: "asc" }))).toEqual(["s3", "s1", "s2"]);
      expect(ids(await service.listSessions({ appName, userId: "u", order: "desc" }))).toEqual(["s1", "s2", "s3"]);
    },
  },
  {
    name: "limit, offset and page select a window; the totals count every session",
    async run({ service, unique }) {
      const appName = unique("app");
      await sessionsAt(service, appName, "u", [1, 2, 3, 4, 5].map((i) => [`s${i}`, i * 1000] as [string, number]));
      const req = { appName, userId: "u", order: "asc" as const };
      const first3 = await service.listSessions({ ...req, limit: 3 });
      expect(ids(first3)).toEqual(["s1", "s2", "s3"]);
      expect(first3).toMatchObject({ page: 1, limit: 3, totalItems: 5, totalPages: 2 });
      expect(ids(await service.listSessions({ ...req, limit: 2, offset: 1 }))).toEqual(["s2", "s3"]);
      expect(ids(await service.listSessions({ ...req, limit: 2, offset: 2 }))).toEqual(["s3", "s4"]);
      const page2 = await service.listSessions({ ...req, limit: 2, page: 2 });
      expect(ids(page2)).toEqual(["s3", "s4"]);
      expect(page2).toMatchObject({ page: 2, limit: 2, totalItems: 5, totalPages: 3 });
      const page3 = await service.listSessions({ ...req, limit: 2, page: 3 });
      expect(ids(page3)).toEqual(["s5"]);
      expect(page3).toMatchObject({ page: 3, totalItems: 5 });
      // page wins over offset
      const both = await service.listSessions({ ...req, limit: 2, page: 2, offset: 0 });
      expect(ids(both)).toEqual(["s3", "s4"]);
      expect(both.page).toBe(2);
      const fromOffset = await service.listSessions({ ...req, limit: 2, offset: 3 });
      expect(fromOffset).toMatchObject({ page: 2, totalItems: 5, totalPages: 3 });
      expect(ids(await service.listSessions({ ...req, offset: 3 }))).toEqual(["s4", "s5"]);
      expect(await service.listSessions({ ...req, offset: 3 })).toMatchObject({ page: 1, limit: 5, totalItems: 5, totalPages: 1 });
    },
  },
  {
    name: "an offset past the end and limit 0 return no sessions but the true totals",
    async run({ service, unique }) {
      const appName = unique("app");
      await service.createSession({ appName, userId: "u", sessionId: "s1" });
      expect(await service.listSessions({ appName, userId: "u", limit: 2, offset: 10 })).toMatchObject({
        sessions: [],
        totalItems: 1,
        totalPages: 1,
      });
      expect(await service.listSessions({ appName, userId: "u", limit: 0 })).toMatchObject({
        sessions: [],
        page: 1,
        limit: 0,
        totalItems: 1,
        totalPages: 0,
      });
    },
  },
  {
    name: "listed sessions carry their merged state, per user and across users",
    notOnAdkJs: "ADK JS's InMemorySessionService lists sessions with empty state; Python ADK and DatabaseSessionService merge it",
    async run({ service, unique }) {
      const appName = unique("app");
      await service.createSession({ appName, userId: "user1", sessionId: "session1a", state: { key: "value1a", "app:shared": 1 } });
      await service.createSession({ appName, userId: "user1", sessionId: "session1b", state: { key: "value1b", "user:mine": true } });
      await service.createSession({ appName, userId: "user2", sessionId: "session2a", state: { key: "value2a" } });
      const states = (sessions: { id: string; state: object }[]) => Object.fromEntries(sessions.map((s) => [s.id, s.state]));
      expect(states((await service.listSessions({ appName, userId: "user1" })).sessions)).toEqual({
        session1a: { key: "value1a", "app:shared": 1, "user:mine": true },
        session1b: { key: "value1b", "app:shared": 1, "user:mine": true },
      });
      expect(states((await service.listSessions({ appName })).sessions)).toEqual({
        session1a: { key: "value1a", "app:shared": 1, "user:mine": true },
        session1b: { key: "value1b", "app:shared": 1, "user:mine": true },
        session2a: { key: "value2a", "app:shared": 1 },
      });
    },
  },
  {
    name: "many sessions: every page is read from the server and the totals stay right",
    async run({ service, unique }) {
      const appName = unique("app");
      for (let i = 0; i < 25; i++) await service.createSession({ appName, userId: `u${i % 2}`, sessionId: `s${String(i).padStart(2, "0")}` });
      const seen: string[] = [];
      for (let page = 1; page <= 4; page++) {
        const response = await service.listSessions({ appName, limit: 7, page, order: "asc" });
        expect(response).toMatchObject({ page, limit: 7, totalItems: 25, totalPages: 4 });
        seen.push(...ids(response));
      }
      expect(seen.sort()).toEqual(Array.from({ length: 25 }, (_, i) => `s${String(i).padStart(2, "0")}`));
    },
  },
];
