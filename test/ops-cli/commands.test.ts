import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportCommand } from "../../src/commands/export.js";
import { importCommand } from "../../src/commands/import.js";
import { migrateCommand } from "../../src/commands/migrate.js";
import { purgeCommand } from "../../src/commands/purge.js";
import { splitDelta } from "../../src/core/state.js";
import { openStore } from "../../src/stores/open.js";
import { parseDuration } from "../../src/transfer/duration.js";
import { startRetention } from "../../src/transfer/retention.js";
import { captureIo, seed, snapshot } from "./fixtures.js";

/** The commands as `sessiond` runs them, against SQLite files (stores that outlive one command). */
let dir: string;
const url = (name: string) => `sqlite:${join(dir, `${name}.db`)}`;

async function withStore<T>(name: string, work: (store: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const store = await openStore(url(name));
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sessiond-ops-"));
  await withStore("source", seed);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("sessiond migrate", () => {
  it("only creates the schema with --store", async () => {
    const run = captureIo();
    await migrateCommand(["--store", url("empty")], run.io);
    expect(run.stdout()).toBe("schema of sqlite store is up to date\n");
  });

  it("copies in resumable runs with a checkpoint, printing progress lines off a terminal", async () => {
    const checkpoint = join(dir, "copy.checkpoint");
    const args = ["--from", url("source"), "--to", url("copy"), "--checkpoint", checkpoint];
    const first = captureIo();
    await migrateCommand([...args, "--limit", "2"], first.io);
    expect(first.stdout().split("\n")).toEqual([
      "migrate: 5 sessions",
      "migrate: 1/5 sessions, 4 events",
      "migrate: 2/5 sessions, 4 events",
      "migrate: done, 2/5 sessions, 4 events",
      "stopped after 2 sessions and 4 events; run the same command again to continue",
      "",
    ]);
    expect(JSON.parse(readFileSync(checkpoint, "utf8"))).toMatchObject({ after: { appName: "app-a", userId: "u1", sessionId: "s2" }, sessions: 2, events: 4 });

    const second = captureIo();
    await migrateCommand(args, second.io);
    expect(second.stdout()).toContain("migrate: 5 sessions, resuming after 2\n");
    expect(second.stdout()).toContain("migrate: 3/5 sessions, 1209 events\n");
    expect(second.stdout()).toMatch(/copied 5 sessions and 1218 events from sqlite to sqlite\n$/);
    const expected = await withStore("source", (s) => snapshot(s));
    expect(await withStore("copy", (s) => snapshot(s))).toEqual(expected);

    const third = captureIo();
    await migrateCommand(args, third.io);
    expect(third.stdout()).toMatch(/copied 5 sessions and 1218 events/);
    expect(await withStore("copy", (s) => snapshot(s))).toEqual(expected);
  });

  it("draws a progress bar on a terminal", async () => {
    const run = captureIo("", true);
    await migrateCommand(["--from", url("source"), "--to", url("tty-copy")], run.io);
    expect(run.stdout()).toContain("\rmigrate [");
    expect(run.stdout()).toContain("] 5/5 sessions, 1218 events\n");
  });

  it("refuses another copy's checkpoint and unclear flags", async () => {
    const checkpoint = join(dir, "other.checkpoint");
    writeFileSync(checkpoint, JSON.stringify({ version: 1, job: "x -> y", after: { appName: "a", userId: "u", sessionId: "s" }, sessions: 1, events: 0 }));
    const run = () => captureIo().io;
    await expect(migrateCommand(["--from", url("source"), "--to", url("c2"), "--checkpoint", checkpoint], run())).rejects.toThrow(
      /belongs to another copy \(x -> y\)/,
    );
    await expect(migrateCommand(["--from", url("source")], run())).rejects.toThrow("--from and --to go together");
    await expect(migrateCommand(["--from", url("source"), "--to", url("source")], run())).rejects.toThrow("name the same store");
    await expect(migrateCommand(["--store", url("a"), "--from", url("b"), "--to", url("c")], run())).rejects.toThrow("use --store alone");
    await expect(migrateCommand(["--from", url("source"), "--to", url("c3"), "--limit", "two"], run())).rejects.toThrow("--limit must be a non-negative integer");
  });
});

describe("sessiond export and import", () => {
  it("round-trip through a file", async () => {
    const file = join(dir, "export.ndjson");
    const out = captureIo();
    await exportCommand(["--store", url("source"), "--out", file], out.io);
    expect(out.stderr()).toBe(`exported 5 sessions and 1218 events to ${file}\n`);
    expect(out.stdout()).toBe("");
    const back = captureIo();
    await importCommand(["--store", url("imported"), "--in", file], back.io);
    expect(back.stdout()).toBe("imported 5 sessions and 1218 events into sqlite\n");
    expect(await withStore("imported", (s) => snapshot(s))).toEqual(await withStore("source", (s) => snapshot(s)));
  });

  it("round-trip one app through stdout and stdin", async () => {
    const out = captureIo();
    await exportCommand(["--store", url("source"), "--app", "app-a"], out.io);
    const lines = out.stdout().trimEnd().split("\n");
    expect(lines.map((l) => JSON.parse(l).type).slice(0, 4)).toEqual(["header", "app_state", "user_state", "session"]);
    const back = captureIo(out.stdout());
    await importCommand(["--store", url("app-a-only")], back.io);
    expect(back.stdout()).toBe("imported 3 sessions and 1209 events into sqlite\n");
    expect(await withStore("app-a-only", (s) => snapshot(s))).toEqual(await withStore("source", (s) => snapshot(s, "app-a")));
  });
});

describe("sessiond purge", () => {
  it("counts with --dry-run, then deletes by age, status and app", async () => {
    await migrateCommand(["--from", url("source"), "--to", url("purge")], captureIo().io);
    await withStore("purge", async (store) => {
      const now = Date.now() * 1000;
      await store.createSession({ appName: "app-a", userId: "u9", id: "recent", agentId: "", metadata: {}, delta: splitDelta({}).scoped, nowUs: now });
    });
    const run = async (...args: string[]) => {
      const io = captureIo();
      await purgeCommand(["--store", url("purge"), ...args], io.io);
      return io.stdout();
    };
    expect(await run("--older-than", "30d", "--status", "completed", "--dry-run")).toBe(
      "would delete 1 sessions (not updated for 30d, status completed)\n",
    );
    expect(await run("--older-than", "30d", "--app", "app-b", "--dry-run")).toBe("would delete 2 sessions (not updated for 30d, app app-b)\n");
    expect(await run("--older-than", "30d", "--dry-run")).toBe("would delete 5 sessions (not updated for 30d)\n");
    expect(await withStore("purge", async (s) => (await snapshot(s)).sessions.length)).toBe(6);

    expect(await run("--older-than", "30d", "--status", "completed")).toBe("deleted 1 sessions (not updated for 30d, status completed)\n");
    expect(await run("--older-than", "90m", "--app", "app-b")).toBe("deleted 2 sessions (not updated for 90m, app app-b)\n");
    expect(await run("--older-than", "12h")).toBe("deleted 2 sessions (not updated for 12h)\n");
    const left = await withStore("purge", (s) => snapshot(s));
    expect(left.sessions.map((s) => (s.record as { id: string }).id)).toEqual(["recent"]);
  });

  it("explains bad flags", async () => {
    const io = () => captureIo().io;
    await expect(purgeCommand(["--store", url("purge")], io())).rejects.toThrow("--older-than is required");
    await expect(purgeCommand(["--store", url("purge"), "--older-than", "30x"], io())).rejects.toThrow(
      '--older-than: expected a duration such as 30d, 12h, 90m or 45s (a whole number and one of s, m, h, d, w), not "30x"',
    );
    await expect(purgeCommand(["--store", url("purge"), "--older-than", "0d"], io())).rejects.toThrow("--older-than: must be longer than zero");
    await expect(purgeCommand(["--store", url("purge"), "--older-than", "1d", "--status", "paused"], io())).rejects.toThrow(
      '--status must be one of active, completed, failed, not "paused"',
    );
  });
});

describe("durations", () => {
  it.each([
    ["45s", 45_000],
    ["90m", 5_400_000],
    ["12h", 43_200_000],
    ["30d", 2_592_000_000],
    ["2w", 1_209_600_000],
  ])("reads %s", (text, ms) => {
    expect(parseDuration("--x", text)).toBe(ms);
  });
  it.each(["", "30", "d", "1.5h", "-1d", "1h30m", "30 days"])("rejects %j", (text) => {
    expect(() => parseDuration("--x", text)).toThrow(/^--x: expected a duration/);
  });
});

describe("retention job", () => {
  it("purges at start and on every interval, logs, and stops cleanly", async () => {
    await migrateCommand(["--from", url("source"), "--to", url("retention")], captureIo().io);
    const store = await openStore(url("retention"));
    const logs: { msg: string; fields?: Record<string, unknown> }[] = [];
    const logger = { info: (msg: string, fields?: Record<string, unknown>) => logs.push({ msg, fields }), error: (msg: string) => logs.push({ msg }) };
    const job = startRetention(store, { olderThanMs: 86_400_000, status: "failed" }, 20, logger);
    await expect.poll(() => logs.length, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    await job.stop();
    const count = logs.length;
    await new Promise((r) => setTimeout(r, 60));
    expect(logs.length).toBe(count);
    expect(logs[0]).toEqual({ msg: "retention purge", fields: expect.objectContaining({ deleted: 1, status: "failed" }) });
    expect(logs[1]).toEqual({ msg: "retention purge", fields: expect.objectContaining({ deleted: 0 }) });
    expect((await snapshot(store)).sessions).toHaveLength(4);
    await store.close();
  });
});
