import { createEvent } from "@google/adk";
import { expect } from "vitest";
import type { AdkCase } from "./cases.js";

/** Which events getSession returns, event fields and times, and the session's update time. */
export const eventCases: AdkCase[] = [
  {
    name: "numRecentEvents returns the newest N, oldest first",
    async run({ service, unique }) {
      const appName = unique("app");
      const session = await service.createSession({ appName, userId: "u" });
      for (let i = 1; i <= 5; i++) await service.appendEvent({ session, event: createEvent({ timestamp: i }) });
      const got = await service.getSession({ appName, userId: "u", sessionId: session.id, config: { numRecentEvents: 2 } });
      expect(got!.events.map((e) => e.timestamp)).toEqual([4, 5]);
    },
  },
  {
    name: "numRecentEvents 0 returns no events",
    notOnAdkJs: "ADK JS treats 0 as unset and returns every event; current Python ADK returns none",
    async run({ service, unique }) {
      const appName = unique("app");
      const session = await service.createSession({ appName, userId: "u", state: { k: 1 } });
      for (let i = 1; i <= 3; i++) await service.appendEvent({ session, event: createEvent({ timestamp: i * 1000 }) });
      const got = await service.getSession({ appName, userId: "u", sessionId: session.id, config: { numRecentEvents: 0 } });
      expect(got!.events).toEqual([]);
      expect(got!.state).toEqual({ k: 1 });
      expect(got!.lastUpdateTime).toBe(3000);
    },
  },
  {
    name: "afterTimestamp keeps the events at or after it (inclusive), also combined with numRecentEvents",
    notOnAdkJs: "ADK JS's DatabaseSessionService excludes an event exactly at afterTimestamp; Python ADK and InMemorySessionService keep it",
    async run({ service, unique }) {
      const appName = unique("app");
      const session = await service.createSession({ appName, userId: "u" });
      for (let i = 1; i <= 5; i++) await service.appendEvent({ session, event: createEvent({ timestamp: i * 1000 }) });
      const key = { appName, userId: "u", sessionId: session.id };
      const stamps = async (config: { numRecentEvents?: number; afterTimestamp?: number }) =>
        (await service.getSession({ ...key, config }))!.events.map((e) => e.timestamp);
      expect(await stamps({})).toEqual([1000, 2000, 3000, 4000, 5000]);
      expect(await stamps({ afterTimestamp: 4000 })).toEqual([4000, 5000]);
      expect(await stamps({ afterTimestamp: 2500 })).toEqual([3000, 4000, 5000]);
      expect(await stamps({ afterTimestamp: 50_000 })).toEqual([]);
      expect(await stamps({ numRecentEvents: 3, afterTimestamp: 4000 })).toEqual([4000, 5000]);
      expect(await stamps({ numRecentEvents: 3 })).toEqual([3000, 4000, 5000]);
    },
  },
  {
    name: "sub-millisecond and sub-second timestamps survive, keep their order and filter exactly",
    async run({ service, unique }) {
      const appName = unique("app");
      const session = await service.createSession({ appName, userId: "u" });
      const second = Math.floor(Date.now() / 1000) * 1000;
      const times = [second + 200, second + 400.25, second + 600.5];
      for (const [i, timestamp] of times.entries()) {
        await service.appendEvent({ session, event: createEvent({ invocationId: `inv-${i}`, timestamp }) });
      }
      const key = { appName, userId: "u", sessionId: session.id };
      expect((await service.getSession(key))!.events.map((e) => e.timestamp)).toEqual(times);
      const after = await service.getSession({ ...key, config: { afterTimestamp: second + 300 } });
      expect(after!.events.map((e) => e.invocationId)).toEqual(["inv-1", "inv-2"]);
    },
  },
  {
    name: "every event field comes back as appended, bytes and grounding metadata included",
    async run({ service, unique }) {
      const appName = unique("app");
      const session = await service.createSession({ appName, userId: "u" });
      const event = createEvent({
        invocationId: "invocation",
        author: "user",
        content: { role: "user", parts: [{ text: "test_text" }, { inlineData: { data: "dGVzdF9pbWFnZV9kYXRh", mimeType: "image/png" } }] },
        turnComplete: true,
        partial: false,
        actions: { artifactDelta: { file: 0 }, transferToAgent: "agent", escalate: true },
        longRunningToolIds: ["tool1"],
        errorCode: "error_code",
        errorMessage: "error_message",
        interrupted: true,
        groundingMetadata: { webSearchQueries: ["query1"], searchEntryPoint: { sdkBlob: "dGVzdF9zZGtfYmxvYg==" } },
        usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 1, totalTokenCount: 2 },
        citationMetadata: {},
        customMetadata: { custom_key: "custom_value" },
        timestamp: 1_700_000_000_123,
        inputTranscription: { text: "input transcription", finished: true },
        outputTranscription: { text: "output transcription", finished: true },
      });
      await service.appendEvent({ session, event });
      expect(session.events[0]).toBe(event);
      const loaded = await service.getSession({ appName, userId: "u", sessionId: session.id });
      expect(loaded).toEqual(session);
    },
  },
  {
    name: "the session's update time becomes the appended event's timestamp, in the object and in storage",
    async run({ service, unique }) {
      const appName = unique("app");
      const session = await service.createSession({ appName, userId: "u" });
      const created = session.lastUpdateTime;
      await service.appendEvent({ session, event: createEvent({ timestamp: created + 10_000 }) });
      expect(session.lastUpdateTime).toBe(created + 10_000);
      const refreshed = await service.getSession({ appName, userId: "u", sessionId: session.id });
      expect(refreshed!.lastUpdateTime).toBe(created + 10_000);
      await service.appendEvent({ session, event: createEvent({ timestamp: 1_234_567_890_000 }) });
      expect(session.lastUpdateTime).toBe(1_234_567_890_000);
      expect((await service.getSession({ appName, userId: "u", sessionId: session.id }))!.lastUpdateTime).toBe(1_234_567_890_000);
    },
  },
  {
    name: "the stored session's update time is the event's, for every sessiond client",
    notOnAdkJs: "reads the server directly",
    async run({ service, unique, remote }) {
      const appName = unique("app");
      const session = await service.createSession({ appName, userId: "u", sessionId: "s-time" });
      await service.appendEvent({ session, event: createEvent({ timestamp: 1_234_567_890_000 }) });
      const stored = (await remote!.client.getSession({ appName, userId: "u", sessionId: "s-time", numRecentEvents: 0 })).session!;
      expect(stored.updateTime).toMatchObject({ seconds: 1_234_567_890n, nanos: 0 });
    },
  },
];
