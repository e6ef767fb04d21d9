import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { resolveStore } from "../../bench/context.js";
import { startGrpcJsEcho, startHttp2Echo } from "../../bench/echo-servers.js";
import { appendEventFrames, echoFrames, getEventsFrame, getSessionFrame, leanAppendEvent, leanEcho, leanGetEvents, leanGetSession } from "../../bench/lean-calls.js";
import { countField, frameBytes, leanClient } from "../../bench/lean-client.js";
import { EchoService, registerEcho } from "../../bench/echo-service.js";
import { sessiondEvent } from "../../bench/events.js";
import { parseOptions } from "../../bench/options.js";
import { APPEND_STATEMENTS, statementNote, statementProbe } from "../../bench/pg-statements.js";
import { busyAreas } from "../../bench/profile-summary.js";
import { markdownTable, value } from "../../bench/report.js";
import { processCpuMs } from "../../bench/server-process.js";
import { alternatingRates, percentile, summarize, timeInterleaved } from "../../bench/stats.js";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { EventSchema } from "../../gen/sessiond/v1/session_pb.js";
import { AppendEventResponseSchema, GetEventsResponseSchema } from "../../gen/sessiond/v1/session_service_pb.js";
import { startServer } from "../../src/server.js";
import { MemoryStore } from "../../src/stores/memory.js";
import { startPrivatePostgres } from "../support/private-instances.js";
import { serviceUrls } from "../support/stores.js";

describe("bench statistics", () => {
  it("passes --no-grpc-fast-path and each --serve-flag on to the sessiond servers, in order", () => {
    const options = parseOptions(["--no-grpc-fast-path", "--serve-flag=--no-metrics", "--serve-flag=--log-level=silent"]);
    expect(options !== "help" && options.serveFlags).toEqual(["--no-grpc-fast-path", "--no-metrics", "--log-level=silent"]);
    const defaults = parseOptions([]);
    expect(defaults !== "help" && defaults.serveFlags).toEqual([]);
  });

  it("counts each contender's server CPU over its own slices only", async () => {
    const cpu = [0, 0];
    const figures = await alternatingRates(2, 0.2, 2, [
      { call: async () => ((cpu[0]! += 3), new Promise((resolve) => setImmediate(resolve))), serverCpuMs: () => cpu[0]! },
      { call: async () => ((cpu[1]! += 1), new Promise((resolve) => setImmediate(resolve))), serverCpuMs: () => cpu[1]! },
    ]);
    expect(figures.map((f) => f.serverCpuUsPerCall)).toEqual([3000, 1000]);
    expect(figures.every((f) => f.perSecond > 0)).toBe(true);
  });

  it("reads a process's CPU time from /proc as the process itself counts it", () => {
    const before = processCpuMs(process.pid);
    const start = process.cpuUsage();
    let spent = 0;
    while (spent < 300) {
      const used = process.cpuUsage(start);
      spent = (used.user + used.system) / 1000;
    }
    const counted = processCpuMs(process.pid) - before;
    // Ticks are 10 ms; other threads of this process (GC, I/O) may add to it.
    expect(counted).toBeGreaterThanOrEqual(spent - 20);
    expect(counted).toBeLessThan(spent * 2 + 20);
    expect(processCpuMs(2 ** 22 + 1)).toBe(0);
  });

  it("takes nearest-rank percentiles", () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(summarize([3, 1, 2])).toMatchObject({ count: 3, p50: 2, p99: 3, mean: 2 });
  });

  it("interleaves contenders and stops at the iteration bound", async () => {
    const calls: string[] = [];
    const [a, b] = await timeInterleaved({ warmup: 1, iterations: 3, maxSeconds: 10 }, [
      async (i) => calls.push(`a${i}`),
      async (i) => calls.push(`b${i}`),
    ]);
    expect(calls).toEqual(["a0", "b0", "a1", "b1", "a2", "b2", "a3", "b3"]);
    expect(a!.count).toBe(3);
    expect(b!.count).toBe(3);
  });
});

describe("bench report", () => {
  it("renders one table row per result with ratio, target and verdict", () => {
    const table = markdownTable([
      {
        workload: "AppendEvent, 64 clients",
        store: "memory",
        sessiond: value(1234.4, "req/s"),
        baseline: { name: "echo", figure: value(2000, "req/s") },
        ratio: 0.6172,
        target: "≥ 0.7× echo",
        met: false,
        serverPeakMb: 101.6,
      },
      { workload: "Live tail A→B", store: "memory", target: "p99 ≤ 100 ms", note: "unavailable: not shared" },
    ]);
    const lines = table.split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[2]).toBe("| AppendEvent, 64 clients | memory | 1,234 req/s | echo: 2,000 req/s | 0.62× | ≥ 0.7× echo | no | 102 MB |  |");
    expect(lines[3]).toContain("| unavailable |");
  });
});

describe("bench profile summary", () => {
  it("splits busy samples by area: node, packages, sessiond layers, GC and native", () => {
    const dir = mkdtempSync(join(tmpdir(), "sessiond-profile-"));
    const frame = (functionName: string, url: string, hitCount: number) => ({ callFrame: { functionName, url, lineNumber: 0 }, hitCount });
    const nodes = [
      frame("(idle)", "", 50),
      frame("(garbage collector)", "", 10),
      frame("(program)", "", 10),
      frame("write", "node:internal/http2/core", 20),
      frame("readStruct", `file://${process.cwd()}/dist/src/api/private/struct-json.js`, 25),
      frame("append", `file://${process.cwd()}/dist/src/stores/memory.js`, 15),
      frame("startServer", `file://${process.cwd()}/dist/src/server.js`, 5),
      frame("observe", `file://${process.cwd()}/node_modules/prom-client/lib/histogram.js`, 10),
      frame("fromBinary", `file://${process.cwd()}/node_modules/@bufbuild/protobuf/dist/esm/from-binary.js`, 5),
    ].map((node, id) => ({ id, ...node }));
    const path = join(dir, "server.cpuprofile");
    writeFileSync(path, JSON.stringify({ nodes }));
    try {
      expect(busyAreas(path)).toEqual([
        { area: "src/api", percent: 25 },
        { area: "node", percent: 20 },
        { area: "src/stores", percent: 15 },
        { area: "(garbage collector)", percent: 10 },
        { area: "(program)", percent: 10 },
        { area: "prom-client", percent: 10 },
        { area: "src", percent: 5 },
        { area: "@bufbuild/protobuf", percent: 5 },
      ]);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe("bench echo service", () => {
  it("answers with the event it was sent, over gRPC", async () => {
    const server = await startServer({ store: new MemoryStore(), port: 0, services: registerEcho });
    try {
      expect(EchoService.typeName).toBe("bench.v1.EchoService");
      const client = createClient(EchoService, createGrpcTransport({ baseUrl: server.url })) as unknown as {
        echo(request: unknown): Promise<{ author: string; content?: unknown }>;
      };
      const event = create(EventSchema, sessiondEvent(7));
      const reply = await client.echo(event);
      expect(reply.author).toBe("agent");
      expect(reply.content).toEqual(event.content);
    } finally {
      await server.close(1000);
    }
  });
});

describe("bench stores", () => {
  it("makes a temporary SQLite store for a bare sqlite: and removes it", async () => {
    const store = await resolveStore("sqlite:");
    expect(store.name).toBe("sqlite");
    expect(store.url).toMatch(/^sqlite:.+\.db$/);
    expect(store.shared).toBe(true);
    await store.cleanup();
  });

  it("names the known stores when a name is unknown", async () => {
    await expect(resolveStore("nosuchstore")).rejects.toThrow(/"nosuchstore" is not available in this build; known: .*sqlite/);
  });

  it("fails fast on a URL no store accepts", async () => {
    await expect(resolveStore("bogus:x")).rejects.toThrow(/unsupported URL scheme/);
  });
});

describe("bench lean client", () => {
  it("counts a field's occurrences from the tags alone", () => {
    const bytes = toBinary(GetEventsResponseSchema, { $typeName: "sessiond.v1.GetEventsResponse", events: [create(EventSchema, sessiondEvent(1)), create(EventSchema, sessiondEvent(2)), create(EventSchema)], caughtUp: true });
    expect(countField(bytes, 1)).toBe(3);
    expect(countField(bytes, 2)).toBe(0);
    expect(() => countField(bytes.subarray(0, bytes.length - 1), 1)).toThrow(/truncated/);
    expect([...frameBytes(new Uint8Array([7, 8]))]).toEqual([0, 0, 0, 0, 2, 7, 8]);
  });

  it("gets the event back from the bare node:http2 and the grpc-js echo servers", async () => {
    for (const start of [startHttp2Echo, startGrpcJsEcho]) {
      const echo = await start(0);
      const client = leanClient(echo.url);
      try {
        const reply = fromBinary(EventSchema, await leanEcho(client, echoFrames(5, 1)[0]!));
        expect(reply.author).toBe("agent");
        expect(reply.invocationId).toBe("inv-0");
      } finally {
        client.close();
        await echo.close();
      }
    }
  });

  it("appends, reads a session and streams its events, failing on a non-OK status", async () => {
    const server = await startServer({ store: new MemoryStore(), port: 0 });
    const client = leanClient(server.url);
    try {
      const key = { appName: "lean", userId: "u", sessionId: "s" };
      await expect(leanAppendEvent(client, appendEventFrames(key, 0, 1)[0]!)).rejects.toThrow(/grpc-status 5/);
      const typed = createClient((await import("../../gen/sessiond/v1/session_service_pb.js")).SessionService, createGrpcTransport({ baseUrl: server.url }));
      await typed.createSession(key);
      for (const frame of appendEventFrames(key, 0, 3)) {
        const response = fromBinary(AppendEventResponseSchema, await leanAppendEvent(client, frame));
        expect(response.event?.sequence).toBe(response.sessionLastSequence);
        expect(response.event?.id).not.toBe("");
      }
      expect(await leanGetSession(client, getSessionFrame(key))).toBe(3);
      expect(await leanGetEvents(client, getEventsFrame({ ...key, filter: { afterSequence: 1n } }))).toBe(2);
      // Messages of hundreds of kilobytes, each arriving in many chunks, are counted whole.
      const filler = "x".repeat(400);
      for (let batch = 0; batch < 5; batch++) {
        await typed.appendEvents({ ...key, events: Array.from({ length: 500 }, (_, i) => ({ id: `b${batch}-${i}`, author: "a", content: { text: filler } })) });
      }
      expect(await leanGetEvents(client, getEventsFrame({ ...key, filter: { afterSequence: 0n } }))).toBe(2503);
    } finally {
      client.close();
      await server.close(1000);
    }
  });
});

describe("bench statement statistics", () => {
  it("is off, creating nothing, where the server does not collect statement statistics", async () => {
    const sql = postgres(serviceUrls.postgres, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql`SELECT current_setting('shared_preload_libraries') AS libraries`;
      const preloaded = String(row!.libraries).includes("pg_stat_statements");
      const before = await sql`SELECT count(*)::int AS n FROM pg_extension`;
      expect((await statementProbe(sql)) === undefined).toBe(!preloaded);
      if (!preloaded) expect(await sql`SELECT count(*)::int AS n FROM pg_extension`).toEqual(before);
    } finally {
      await sql.end();
    }
  });

  it("counts PostgreSQL's execution and WAL of each contender's statements where the server does", async () => {
    const instance = await startPrivatePostgres({ shared_preload_libraries: "pg_stat_statements" });
    const sql = postgres(instance.url, { max: 1, onnotice: () => {} });
    try {
      await sql`CREATE TABLE raw_events (n int)`;
      await sql`INSERT INTO raw_events VALUES (0)`;
      // Made after the setup, the probe counts only what follows.
      const probe = await statementProbe(sql);
      expect(probe).toBeDefined();
      for (let i = 1; i <= 5; i++) await sql`INSERT INTO raw_events VALUES (${i})`;
      // sessiond's statement starts on a new line, as its template does.
      await sql.unsafe("\n      WITH s AS (SELECT 1 AS x) SELECT x FROM s");
      const figures = await probe!.read(APPEND_STATEMENTS);
      expect(figures.raw).toMatchObject({ calls: 5 });
      expect(figures.raw!.walBytes).toBeGreaterThan(0);
      expect(figures.raw!.meanMs).toBeGreaterThan(0);
      expect(figures.sessiond).toMatchObject({ calls: 1, walBytes: 0 });
      expect(statementNote(figures)).toMatch(/^PostgreSQL's execution per call \(pg_stat_statements\): sessiond \d+\.\d{3} ms, 0\.0 KB WAL; raw \d+\.\d{3} ms, \d+\.\d KB WAL$/);
      expect(statementNote({ ...figures, sessiond: undefined })).toBeUndefined();
    } finally {
      await sql.end();
      await instance.destroy();
    }
  }, 120_000);
});
