import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { limits } from "../../src/core/limits.js";
import { MemoryStore } from "../../src/stores/memory.js";
import { startTestServer, type TestServer, uniqueName } from "../support/server.js";
import { depthOf, nested } from "./json-values.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "../..");
/** Debian's interpreter, which has python3-grpcio (a PATH python3 may not). */
const PYTHON = process.env.SESSIOND_TEST_PYTHON ?? "/usr/bin/python3";

// Reads one session and its event stream with grpcio and protobuf's C++ or
// upb decoder (recursion limit 100), and prints the depth of what it decoded.
const READER = `
import sys
sys.path.insert(0, sys.argv[1])
import grpc
from google.protobuf import json_format
from sessiond.v1 import session_service_pb2 as s, session_service_pb2_grpc as g

def depth(v):
    if isinstance(v, dict): return 1 + max([0] + [depth(x) for x in v.values()])
    if isinstance(v, list): return 1 + max([0] + [depth(x) for x in v])
    return 0

stub = g.SessionServiceStub(grpc.insecure_channel(sys.argv[2]))
key = dict(app_name=sys.argv[3], user_id="u", session_id="s")
session = stub.GetSession(s.GetSessionRequest(**key)).session
streamed = [e for m in stub.GetEvents(s.GetEventsRequest(**key)) for e in m.events]
event = json_format.MessageToDict(session.events[0])
print(depth(json_format.MessageToDict(session.state)), depth(event["content"]), depth(event["actions"]["custom"]), len(streamed))
`;

let running: TestServer;
let gen: string;

beforeAll(async () => {
  running = await startTestServer(new MemoryStore());
  gen = mkdtempSync(join(tmpdir(), "sessiond-py-"));
  await run("bash", [join(root, "clients/python/generate.sh"), gen], { env: { ...process.env, PYTHON } });
});
afterAll(async () => {
  await running?.close();
  rmSync(gen, { recursive: true, force: true });
});

describe("the deepest JSON sessiond accepts", () => {
  it("is read back by Python's protobuf decoder over gRPC", async () => {
    const deepest = nested(limits.maxJsonDepth, false);
    expect(depthOf(deepest)).toBe(limits.maxJsonDepth);
    const appName = uniqueName("py-depth");
    const key = { appName, userId: "u", sessionId: "s" };
    await running.client.createSession({ ...key, state: deepest });
    await running.client.appendEvent({ ...key, event: { content: deepest, actions: { custom: deepest } } });
    const { stdout } = await run(PYTHON, ["-c", READER, gen, `127.0.0.1:${running.server.port}`, appName], { timeout: 30_000 });
    expect(stdout.trim()).toBe(`${limits.maxJsonDepth} ${limits.maxJsonDepth} ${limits.maxJsonDepth} 1`);
  });
});
