import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppendBatch, EventData, JsonObject, SessionKey } from "../../src/core/types.js";
import { MemoryStore } from "../../src/stores/memory.js";
import { PostgresStore } from "../../src/stores/postgres.js";
import { KnownJson, recordsJson } from "../../src/stores/private/postgres-append.js";
import type { SqlDialect } from "../../src/stores/sql/dialect.js";
import type { SqlDriver } from "../../src/stores/sql/driver.js";
import { SqlStore } from "../../src/stores/sql/sql-store.js";
import type { Store } from "../../src/stores/store.js";
import { jsonValue, random } from "../support/random-events.js";
import { type IsolatedStore, testStores } from "../support/stores.js";
import { create, event, freshKey, pending } from "./spec/context.js";

/**
 * PostgreSQL's one-statement append numbers events and merges state deltas
 * in SQL instead of through planAppend and applyDelta. The same cases run
 * against it, against the SQL store's own append on the same database (the
 * core rules) and against the memory store; all three must agree.
 */

type Step = { events: [string, JsonObject?, Partial<EventData>?][]; expected?: number };
const CASES: Record<string, Step[]> = {
  "a fresh batch with session, app and user deltas": [{ events: [["a", { x: 1, "app:a": 1, "user:u": "v" }], ["b", { y: { n: 2 } }]] }],
  "deltas that delete keys and replace nested values": [
    { events: [["a", { x: 1, y: { n: 1 }, "app:a": 1, "app:b": 2, "user:u": 1 }]] },
    { events: [["b", { x: null, y: { m: 2 }, "app:a": null, "user:u": null, "user:w": [1] }]] },
  ],
  "temporary keys, which are never stored": [{ events: [["a", { "temp:t": 1, x: 1 }]] }],
  "an expected last sequence that matches": [{ events: [["a"]] }, { events: [["b", { x: 2 }]], expected: 1 }],
  "an expected last sequence that is stale": [{ events: [["a"]] }, { events: [["b", { x: 2 }]], expected: 0 }],
  "a retry of a stored batch": [{ events: [["a", { x: 1 }], ["b"]] }, { events: [["a", { x: 1 }], ["b"]] }],
  "a batch partly stored already": [{ events: [["a", { x: 1 }]] }, { events: [["a", { x: 1 }], ["c", { x: 3 }]] }],
  "an empty batch": [{ events: [["a"]] }, { events: [] }],
  "JSON values that are absent, empty, or hold nulls and JSON-looking text": [
    {
      events: [
        ["a", undefined, { content: null, metadata: {}, longRunningToolIds: ["t1", "t2"] }],
        ["b", { x: null }, { content: { v: null, s: "null", q: '{"a":1}', n: [null, -2.5, 1.5e300] }, metadata: null }],
        ["c", undefined, { content: {}, actions: null, metadata: { "": "", "日本": "語" } }],
      ],
    },
  ],
};

const places: IsolatedStore[] = [];
let fast: PostgresStore;
let generic: Store;
const memory = new MemoryStore();

beforeAll(async () => {
  const place = await testStores.postgres!();
  places.push(place);
  fast = await PostgresStore.open(place.url);
  // The same database and statements without the dialect's append hook.
  const parts = fast as unknown as { db: SqlDriver; d: SqlDialect };
  generic = new SqlStore(parts.db, { ...parts.d, append: undefined });
});

afterAll(async () => {
  await fast?.close();
  for (const place of places) await place.cleanup();
});

async function run(store: Store, key: SessionKey, steps: Step[]) {
  await create(store, key, { "app:seed": 0 });
  const outcomes = [];
  for (const [i, step] of steps.entries()) {
    const batch: AppendBatch = {
      events: step.events.map(([id, delta, fields], n) => pending(event(id, i * 10 + n, fields), delta)),
      expectedLastSequence: step.expected,
      nowUs: 5_000_000 + i,
    };
    const outcome = await store.appendEvents(key, batch).then(
      (o) => ({ lastSequence: o.lastSequence, events: o.events.map((e) => ({ id: e.id, sequence: e.sequence, timestampUs: e.timestampUs })) }),
      (error: { kind?: string }) => ({ error: error.kind }),
    );
    outcomes.push(outcome);
  }
  const { view, events } = await store.getSession(key, {});
  return { outcomes, view: { ...view, session: { ...view.session, appName: "", id: "" } }, events };
}

describe("postgres append hook", () => {
  for (const [name, steps] of Object.entries(CASES)) {
    it(`agrees with the core rules: ${name}`, async () => {
      const key = freshKey();
      const reference = await run(memory, key, steps);
      expect(await run(fast, freshKey(), steps)).toEqual(reference);
      expect(await run(generic, freshKey(), steps)).toEqual(reference);
    });
  }
});

describe("postgres append records", () => {
  it("writes each record as JSON.stringify does, splicing the values known as JSON text", () => {
    const next = random(11);
    for (let round = 0; round < 300; round++) {
      const values: unknown[][] = Array.from({ length: 1 + Math.floor(next() * 4) }, () =>
        Array.from({ length: Math.floor(next() * 6) }, () => (next() < 0.2 ? [NaN, Infinity, -Infinity, undefined][Math.floor(next() * 4)] : jsonValue(next, 3))),
      );
      const known = values.map((record) => record.map((value) => (next() < 0.3 && value !== undefined ? new KnownJson(JSON.stringify(value)) : value)));
      const text = recordsJson(known);
      expect(text).toBe(JSON.stringify(values.map((record) => record.map((value) => (value === undefined ? null : value)))));
    }
  });
});
