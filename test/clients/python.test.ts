import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Interceptor } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessiondClient } from "../../src/client/index.js";
import { type SessiondServer, startServer } from "../../src/server.js";
import { MemoryStore } from "../../src/stores/memory.js";
import { uniqueName } from "../support/server.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "../..");
const example = join(root, "examples/python");
/** Debian's interpreter, which has python3-grpcio (a PATH python3 may not). */
const PYTHON = process.env.SESSIOND_TEST_PYTHON ?? "/usr/bin/python3";

let server: SessiondServer;

beforeAll(async () => {
  try {
    await run(PYTHON, ["-c", "import grpc, google.protobuf"]);
  } catch (error) {
    throw new Error(`${PYTHON} lacks grpc: run scripts/install-system-packages.sh (${String(error)})`);
  }
  server = await startServer({ store: new MemoryStore(), port: 0 });
  // Real clients regenerate before use; this also proves generate.sh works on proto/ as it is now.
  const gen = await run("bash", [join(example, "generate.sh")], { env: { ...process.env, PYTHON } });
  expect(gen.stdout).toMatch(/generated \d+ modules/);
});
afterAll(() => server?.close(1000));

/** Runs client.py; resolves with its exit code and output instead of throwing. */
async function client(target: string, app: string) {
  try {
    const { stdout, stderr } = await run(PYTHON, [join(example, "client.py"), "--target", target, "--app", app], { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("Python example client (grpcio, generated from proto/)", () => {
  it("creates a session, appends, streams the events back and passes every check", async () => {
    const app = uniqueName("py");
    const res = await client(`127.0.0.1:${server.port}`, app);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("all checks passed");
    expect(res.stdout).not.toContain("FAIL");
    expect(res.stdout).toMatch(/#2 planner: Three days: Alfama, Belem, Sintra\./);
    expect(res.stdout).toContain("ok   follow sends the 3 events, then caught_up");
    // What it wrote is really in the server.
    const api = createSessiondClient({ baseUrl: server.url });
    const sessions = [];
    for await (const page of api.listSessions({ appName: app })) sessions.push(...page);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.lastSequence).toBe(3n);
    expect(sessions[0]!.state).toEqual({ "user:lang": "en", turns: 1, city: "Lisbon" });
  });

  it("exits 1 and names the check when the server answers differently", async () => {
    // A server whose GetSession hides the delta's keys: the client must notice.
    const hideState: Interceptor = (next) => async (req) => {
      const res = await next(req);
      if (!res.stream && req.method.name === "GetSession") {
        const session = (res.message as { session?: { state?: Record<string, unknown> } }).session;
        if (session?.state) delete session.state.turns;
      }
      return res;
    };
    const odd = await startServer({ store: new MemoryStore(), port: 0, interceptors: [hideState] });
    try {
      const res = await client(`127.0.0.1:${odd.port}`, uniqueName("py"));
      expect(res.code).toBe(1);
      expect(res.stdout).toContain("FAIL state merges the delta with the initial state");
      expect(res.stderr).toContain("1 check(s) failed");
    } finally {
      await odd.close(1000);
    }
  });

  it("exits 2 with the gRPC status when the server is unreachable", async () => {
    const res = await client("127.0.0.1:1", "py");
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("UNAVAILABLE");
  });
});
