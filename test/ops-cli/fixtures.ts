import { PassThrough, Readable } from "node:stream";
import { keyOf } from "../../src/core/match.js";
import { splitDelta } from "../../src/core/state.js";
import type { EventData, JsonObject, SessionKey, StoredEvent } from "../../src/core/types.js";
import type { CommandIo } from "../../src/commands/io.js";
import { openStore } from "../../src/stores/open.js";
import type { Store } from "../../src/stores/store.js";
import { testStores } from "../support/stores.js";
import { eventData } from "../support/events.js";

/** A store opened in its own isolated place, closed and removed by `dispose`. */
export interface OpenedStore {
  url: string;
  store: Store;
  dispose(): Promise<void>;
}

/** Opens a fresh isolated store of the named kind (an entry of test/support/stores.ts). */
export async function openTestStore(name: string): Promise<OpenedStore> {
  const isolated = await testStores[name]!();
  const store = await openStore(isolated.url);
  return {
    url: isolated.url,
    store,
    async dispose() {
      await store.close();
      await isolated.cleanup();
    },
  };
}

let clock = Date.UTC(2026, 0, 1) * 1000;
const tick = () => (clock += 1000);

function event(id: string, extra: Partial<EventData> = {}): EventData {
  return eventData(id, { invocationId: "inv", timestampUs: tick(), content: { role: "user", parts: [{ text: id }] }, ...extra });
}

/** Appends `count` plain events (plus one with every field set) to a session. */
async function appendEvents(store: Store, key: SessionKey, count: number, delta?: JsonObject): Promise<void> {
  const events = Array.from({ length: count }, (_, i) => ({ event: event(`${key.sessionId}-e${i}`), delta: splitDelta(undefined).scoped }));
  const stateDelta = { ...delta, "temp:x": 1 };
  const { scoped, stored } = splitDelta(stateDelta);
  events.push({
    event: event(`${key.sessionId}-full`, {
      agentId: "agent-a",
      author: "agent-a",
      branch: "root.a",
      actions: { stateDelta: stored, artifactDelta: { "f.txt": 3 }, transferToAgent: "b", escalate: false, skipSummarization: true, custom: { k: [1, "two", null] } },
      metadata: { usage: { tokens: 5 } },
      turnComplete: true,
      errorCode: "E",
      errorMessage: "msg\nline 2 \u2028 é",
      longRunningToolIds: ["t1", "t2"],
      interrupted: true,
    }),
    delta: scoped,
  });
  for (let i = 0; i < events.length; i += 400) {
    await store.appendEvents(key, { events: events.slice(i, i + 400), nowUs: tick() });
  }
}

/**
 * Fills a store with two apps, several users, sessions in every status,
 * shared state and events, including one session longer than a read page.
 */
export async function seed(store: Store): Promise<void> {
  const sessions: [string, string, string, number][] = [
    ["app-a", "u1", "s1", 3],
    ["app-a", "u1", "s2", 0],
    ["app-a", "u2", "s3", 1204],
    ["app-b", "u1", "s4", 2],
    ["app-b", "u3", "s5", 5],
  ];
  for (const [appName, userId, id, count] of sessions) {
    const { scoped } = splitDelta({ [`note-${id}`]: id, [`user:seen-${id}`]: true, "app:version": id, "temp:gone": 1 });
    await store.createSession({ appName, userId, id, agentId: `agent-${id}`, metadata: { origin: "seed", id }, delta: scoped, nowUs: tick() });
    const key = { appName, userId, sessionId: id };
    if (count > 0) await appendEvents(store, key, count, { [`user:n-${id}`]: count, "app:last": id, turn: count });
  }
  await store.updateSession({ appName: "app-a", userId: "u1", sessionId: "s2" }, { status: "completed", nowUs: tick() });
  await store.updateSession({ appName: "app-b", userId: "u3", sessionId: "s5" }, { status: "failed", metadata: { why: "x" }, nowUs: tick() });
}

/** Everything a store holds, in a comparable form: sessions, their events, shared state. */
export async function snapshot(store: Store, appName?: string) {
  const sessions: { record: unknown; events: StoredEvent[] }[] = [];
  const shared: Record<string, unknown> = {};
  let after: SessionKey | undefined;
  for (;;) {
    const page = await store.scanSessions(after, 100);
    for (const record of page) {
      if (appName !== undefined && record.appName !== appName) continue;
      const events: StoredEvent[] = [];
      let cursor = 0;
      for (;;) {
        const chunk = await store.readEvents(keyOf(record), { filter: {}, afterSequence: cursor, limit: 1000 });
        events.push(...chunk);
        if (chunk.length < 1000) break;
        cursor = chunk.at(-1)!.sequence;
      }
      sessions.push({ record, events });
      shared[`${record.appName}/${record.userId}`] = await store.getSharedState(record.appName, record.userId);
    }
    if (page.length < 100) break;
    after = keyOf(page.at(-1)!);
  }
  return { sessions, shared };
}

/** In-memory streams for a command, with what it wrote. */
export function captureIo(stdinText = "", tty = false) {
  const stdout = Object.assign(new PassThrough(), { isTTY: tty, columns: 100 });
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const io: CommandIo = { stdin: Readable.from([stdinText]), stdout, stderr };
  return { io, stdout: () => out, stderr: () => err };
}
