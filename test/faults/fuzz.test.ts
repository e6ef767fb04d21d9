import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import { spawnServe } from "../support/cli-process.js";
import { corpus, type FuzzCase, FUZZ_APPS, mutant, type SessionKey } from "./support/fuzz-corpus.js";
import { RawSender } from "./support/fuzz-wire.js";
import { clientsOf, codeOf, count, recordFigures, type Tally } from "./support/load.js";
import { seededRandom, suiteSeed } from "./support/random.js";
import { storeUrls } from "./support/store-urls.js";

// Bounds per store: the corpus always runs in full, random mutations fill up to the count or the time.
const MAX_REQUESTS = Number(process.env.SESSIOND_FUZZ_REQUESTS ?? 5000);
const MAX_MS = Number(process.env.SESSIOND_FUZZ_MS ?? 30_000);
const IN_FLIGHT = 6;
// How long past its deadline (5 s) a request may take before it is a hang: generous, the machine may be loaded.
const GRACE_MS = 15_000;
// Codes a hostile request may end with. INTERNAL only where the gRPC spec demands it; HTTP statuses for
// what never became an RPC (unknown path, GET of a method with side effects, unsupported media type).
const ALLOWED = new Set(["OK", "INVALID_ARGUMENT", "NOT_FOUND", "ALREADY_EXISTS", "ABORTED", "RESOURCE_EXHAUSTED", "UNIMPLEMENTED", "OUT_OF_RANGE", "FAILED_PRECONDITION", "DEADLINE_EXCEEDED", "HTTP_404", "HTTP_405", "HTTP_415", "HTTP_505"]);

// The reason connect-es gives for a compressed message on a stream without grpc-encoding.
const SPEC_INTERNAL = /^received compressed envelope, but do not know how to decompress/;

const seed = suiteSeed();
console.log(`fuzz seed ${seed} (replay with SESSIOND_FAULTS_SEED=${seed})`);

const faultStores = storeUrls("fuzz");
afterAll(() => faultStores.cleanup());
const stores: Record<string, () => Promise<string>> = faultStores.urls;
// SQLite and PostgreSQL by default, as the suite's time allows; SESSIOND_FUZZ_STORES=memory,mariadb,redis picks others.
const fuzzed = (process.env.SESSIOND_FUZZ_STORES ?? "sqlite,postgres").split(",").filter((name) => name !== "");
for (const name of fuzzed) if (!(name in stores)) throw new Error(`SESSIOND_FUZZ_STORES: unknown store ${name}; known: ${Object.keys(stores).join(", ")}`);

describe.each(fuzzed)("fuzzing gRPC, gRPC-Web and Connect on %s", (name) => {
  it("never crashes, answers INTERNAL only where the spec says, never hangs past the deadline, and keeps tracked sessions", async () => {
    const random = seededRandom((seed ^ [...name].reduce((h, c) => Math.imul(h, 31) + c.charCodeAt(0), 11)) >>> 0);
    const server = await spawnServe(["--store", await stores[name]!(), "--no-ui"]);
    faultStores.track(async () => void (await server.stop("SIGKILL")));
    const { api, health } = clientsOf(server.url);
    const sender = new RawSender(server.url, GRACE_MS);
    const codes: Tally = {};
    const wires: Record<string, Tally> = {};
    const bad: Record<string, unknown>[] = [];
    const written = new Map<string, SessionKey>();
    const outcomes = new Map<string, { code: string; label: string; wire: string }>();
    let slowestOverDeadlineMs = 0;
    // Tracked sessions: written with the project's client while the fuzzer runs, read back at the end.
    const tracked = { appName: "tracked", userId: "u" };
    const acknowledged = new Map<string, string[]>();
    for (const sessionId of ["t0", "t1", "t2"]) {
      await api.createSession({ ...tracked, sessionId, state: { k: 1 } });
      acknowledged.set(sessionId, []);
    }
    const started = Date.now();
    let done = false;
    const trackedWriter = (async () => {
      for (let i = 0; !done; i++) {
        const sessionId = `t${i % 3}`;
        const id = `ev-${i}`;
        await api.appendEvent({ ...tracked, sessionId, event: { id, author: "user", content: { i } } }, { timeoutMs: 30_000 });
        acknowledged.get(sessionId)!.push(id);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    const queue = corpus(random);
    const corpusSize = queue.length;
    let sent = 0;
    const next = (): FuzzCase | undefined => {
      if (queue.length > 0) return queue.shift();
      if (sent >= Math.max(MAX_REQUESTS, corpusSize) || Date.now() - started > MAX_MS) return undefined;
      return mutant(random);
    };
    try {
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          for (let fuzz = next(); fuzz; fuzz = next()) {
            const requestId = `fz-${sent++}`;
            fuzz.call.headers["x-request-id"] = requestId;
            const outcome = await sender.send(fuzz.call);
            outcomes.set(requestId, { code: outcome.code, label: fuzz.label, wire: fuzz.call.wire });
            count(codes, outcome.code);
            count((wires[fuzz.call.wire + (fuzz.call.http1 ? "/h1" : "")] ??= {}), outcome.code);
            slowestOverDeadlineMs = Math.max(slowestOverDeadlineMs, outcome.ms - fuzz.call.deadlineMs);
            const ok =
              ALLOWED.has(outcome.code) ||
              (outcome.code === "INTERNAL" && fuzz.specInternal) ||
              // HTTP/1.1 lets a server close the connection on an upload it refuses before the client finished sending.
              (fuzz.label.startsWith("oversized") && fuzz.call.http1 === true && /^ERROR_(EPIPE|ECONNRESET)$/.test(outcome.code));
            if (!ok && bad.length < 20) {
              bad.push({ label: fuzz.label, wire: fuzz.call.wire, http1: fuzz.call.http1, path: fuzz.call.path.slice(0, 200), headers: fuzz.call.headers, body: fuzz.call.body?.subarray(0, 120).toString("hex"), code: outcome.code, answer: outcome.body.subarray(0, 300).toString("utf8") });
            }
            if (!ok) count(codes, "REJECTED_BY_SUITE");
            if (outcome.code === "OK" && fuzz.written) written.set(JSON.stringify(fuzz.written), fuzz.written);
          }
        }),
      );
    } finally {
      done = true;
      sender.close();
    }
    await trackedWriter;
    expect(server.child.exitCode, "sessiond exited").toBeNull();
    expect((await health.check({ service: "" })).status).toBe(1);

    // Every session an accepted write touched can be read back; the protocol families take turns.
    const readers = [
      api,
      createClient(SessionService, createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1" })),
      createClient(SessionService, createConnectTransport({ baseUrl: server.url, httpVersion: "2", useBinaryFormat: false })),
    ];
    const readCodes: Tally = {};
    let turn = 0;
    for (const key of written.values()) {
      const reader = readers[turn++ % readers.length]!;
      count(readCodes, await reader.getSession(key, { timeoutMs: 30_000 }).then(() => "OK", codeOf));
      count(readCodes, await reader.listEvents({ ...key, pageSize: 1000 }, { timeoutMs: 30_000 }).then(() => "OK", codeOf));
    }
    for (const appName of FUZZ_APPS) for (const reader of readers) count(readCodes, await reader.listSessions({ appName, pageSize: 1000 }).then(() => "OK", codeOf));
    // The tracked sessions hold every acknowledged event, in order, with gapless sequences.
    let trackedLost = 0;
    for (const [sessionId, ids] of acknowledged) {
      for (const reader of readers) {
        const { session } = await reader.getSession({ ...tracked, sessionId }, { timeoutMs: 30_000 });
        const stored = session!.events.map((e) => e.id);
        trackedLost += ids.filter((id) => !stored.includes(id)).length;
        expect(session!.events.map((e) => Number(e.sequence))).toEqual(stored.map((_, i) => i + 1));
        expect(session!.state).toEqual({ k: 1 });
      }
    }
    // The server logs at error level only what it answered INTERNAL: the spec's cases, nothing of its own.
    const errorLines = server.logs.filter((line) => line.level === "error");
    const unexplained = errorLines.filter((line) => !(line.msg === "rpc" && line.code === "internal" && SPEC_INTERNAL.test(String(line.reason))));
    recordFigures(`fuzz-${name}`, {
      store: name,
      seed,
      requests: sent,
      corpus: corpusSize,
      mutants: sent - corpusSize,
      durationMs: Date.now() - started,
      codes,
      codesByWire: wires,
      slowestOverDeadlineMs: Math.round(slowestOverDeadlineMs),
      readBack: readCodes,
      trackedEvents: [...acknowledged.values()].reduce((n, ids) => n + ids.length, 0),
      trackedLost,
      errorLogLines: errorLines.length,
    });
    if (bad.length > 0) writeFileSync(join(process.cwd(), "test-results", "faults", `fuzz-${name}-rejected.json`), JSON.stringify(bad, null, 1));
    expect(bad, `seed ${seed}`).toEqual([]);
    expect(trackedLost).toBe(0);
    expect(unexplained).toEqual([]);
    expect(errorLines.length).toBe(codes.INTERNAL ?? 0);
    // Every answered fuzz request has one request-log line with the code the client saw (a protocol-level
    // 415 or 405 is logged INVALID_ARGUMENT; an unknown path is no RPC).
    const unlogged = () => {
      const logged = new Map<string, string>();
      for (const line of server.logs) if (line.msg === "rpc" && String(line.request_id).startsWith("fz-")) logged.set(String(line.request_id), String(line.code));
      return [...outcomes].filter(([id, o]) => {
        const expected = /^HTTP_(415|405)$/.test(o.code) ? "invalid_argument" : /^(HTTP|ERROR|HANG|RESET|NO_STATUS)/.test(o.code) ? undefined : o.code.toLowerCase();
        return expected !== undefined && logged.get(id) !== expected;
      });
    };
    await expect.poll(() => unlogged().length, { timeout: 10_000 }).toBe(0);
    expect(Object.keys(readCodes).filter((code) => code !== "OK" && code !== "NOT_FOUND"), JSON.stringify(readCodes)).toEqual([]);
    expect(codes.HANG ?? 0).toBe(0);
    await server.stop("SIGTERM");
  });
});
