import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { copyStore } from "../../src/transfer/copy.js";
import { exportStore, importStream } from "../../src/transfer/ndjson.js";
import { type OpenedStore, openTestStore, seed, snapshot } from "./fixtures.js";

/**
 * Store-to-store copies and NDJSON round trips, for every store kind as
 * source and as target. A new store joins by adding its name here.
 */
const STORES = ["memory", "sqlite", "postgres", "mysql", "redis"];

/** Events the seed writes: 3+1, 1204+1, 2+1, 5+1 (each session with events also gets one with every field set). */
const SEEDED_EVENTS = 1218;

const opened: OpenedStore[] = [];
async function fresh(name: string): Promise<OpenedStore> {
  const store = await openTestStore(name);
  opened.push(store);
  return store;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.dispose()));
});

/** An export as text. */
async function exportText(opened: OpenedStore, appName?: string): Promise<string> {
  const out = new PassThrough();
  let text = "";
  out.on("data", (chunk: Buffer) => (text += chunk.toString()));
  await exportStore(opened.store, out, { appName });
  out.end();
  return text;
}

for (const name of STORES) {
  describe(`${name} store`, () => {
    it("receives a full copy and copies it on unchanged", async () => {
      const source = await fresh("memory");
      await seed(source.store);
      const target = await fresh(name);
      const result = await copyStore(source.store, target.store);
      expect(result).toEqual({ sessions: 5, events: SEEDED_EVENTS, complete: true });
      const expected = await snapshot(source.store);
      expect(await snapshot(target.store)).toEqual(expected);

      const back = await fresh("memory");
      expect(await copyStore(target.store, back.store)).toEqual(result);
      expect(await snapshot(back.store)).toEqual(expected);
    });

    it("resumes an interrupted copy without duplicates", async () => {
      const source = await fresh("memory");
      await seed(source.store);
      const target = await fresh(name);
      const first = await copyStore(source.store, target.store, { limit: 2 });
      expect(first).toMatchObject({ sessions: 2, complete: false });
      // A crash inside the long session: its row and some of its events are already there.
      const long = { appName: "app-a", userId: "u2", sessionId: "s3" };
      const { view } = await source.store.getSession(long, { numRecentEvents: 0 });
      await target.store.restoreSession({ ...view.session, lastSequence: 0 });
      await target.store.restoreEvents(long, await source.store.readEvents(long, { filter: {}, afterSequence: 0, limit: 700 }));

      const second = await copyStore(source.store, target.store);
      expect(second.complete).toBe(true);
      // Every event was sent exactly once over the runs (the second run skips the 700).
      expect(first.events + second.events + 700).toBe(SEEDED_EVENTS);
      expect(await snapshot(target.store)).toEqual(await snapshot(source.store));
      // A third run finds nothing missing.
      expect((await copyStore(source.store, target.store)).events).toBe(0);
      expect(await snapshot(target.store)).toEqual(await snapshot(source.store));
    });

    it("exports and imports NDJSON with identical sessions, events and state", async () => {
      const source = await fresh(name);
      await seed(source.store);
      const text = await exportText(source);
      const lines = text.trimEnd().split("\n").map((l) => JSON.parse(l));
      expect(lines[0]).toMatchObject({ type: "header", format: "sessiond", version: 1 });
      expect(lines.at(-1)).toEqual({ type: "end", sessions: 5, events: SEEDED_EVENTS });
      expect(lines.filter((l) => l.type === "event")).toHaveLength(SEEDED_EVENTS);
      // The seed's error messages hold U+2028; it is written escaped.
      expect(text).not.toMatch(/[\u2028\u2029]/);
      expect(text).toContain("\\u2028");

      const target = await fresh(name === "memory" ? "sqlite" : "memory");
      expect(await importStream(target.store, PassThrough.from([text]))).toEqual({ sessions: 5, events: SEEDED_EVENTS });
      expect(await snapshot(target.store)).toEqual(await snapshot(source.store));
      // Importing again changes nothing.
      await importStream(target.store, PassThrough.from([text]));
      expect(await snapshot(target.store)).toEqual(await snapshot(source.store));
    });

    it("imports into it from another store's export, one app at a time", async () => {
      const source = await fresh(name === "memory" ? "sqlite" : "memory");
      await seed(source.store);
      const text = await exportText(source, "app-b");
      const target = await fresh(name);
      expect(await importStream(target.store, PassThrough.from([text]))).toEqual({ sessions: 2, events: 9 });
      const copy = await snapshot(target.store);
      expect(copy.sessions.map((s) => (s.record as { id: string }).id)).toEqual(["s4", "s5"]);
      expect(copy).toEqual(await snapshot(source.store, "app-b"));
    });
  });
}

describe("NDJSON import errors", () => {
  const header = JSON.stringify({ type: "header", format: "sessiond", version: 1 });
  const session = JSON.stringify({
    type: "session",
    session: { appName: "a", userId: "u", id: "s", agentId: "", status: "active", state: {}, metadata: {}, createTimeUs: 1, updateTimeUs: 2, lastSequence: 1 },
  });
  const cases: [string, string[], RegExp][] = [
    ["no header", [session], /line 1: is not a sessiond export header/],
    ["a newer version", [JSON.stringify({ type: "header", format: "sessiond", version: 2 })], /line 1: format version 2 is not supported/],
    ["broken JSON", [header, "{nope"], /line 2: is not JSON/],
    ["an orphan event", [header, JSON.stringify({ type: "event", event: {} })], /line 2: an event line must follow a session line/],
    ["a bad status", [header, session.replace('"active"', '"paused"')], /line 2: session.status must be/],
    ["a bad sequence", [header, session, JSON.stringify({ type: "event", event: { sequence: 0, id: "e", timestampUs: 1 } })], /line 3: event.sequence must be at least 1/],
    ["an unknown line", [header, JSON.stringify({ type: "blob" })], /line 2: unknown type "blob"/],
    ["a missing end line", [header, session], /without the end line; the export was cut short/],
    ["wrong counts", [header, session, JSON.stringify({ type: "end", sessions: 2, events: 0 })], /line 3: announces 2 sessions and 0 events, but 1 and 0/],
  ];
  it.each(cases)("rejects %s, naming the line", async (_, lines, message) => {
    const target = await fresh("memory");
    await expect(importStream(target.store, PassThrough.from([lines.join("\n")]))).rejects.toThrow(message);
  });
});
