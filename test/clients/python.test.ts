import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessiondClient } from "../../src/client/index.js";
import { type SessiondServer, startServer } from "../../src/server.js";
import { MemoryStore } from "../../src/stores/memory.js";
import { runCommand } from "../support/run-command.js";
import { docsBlock } from "./docs-block.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "../..");
const pkg = join(root, "clients/python");
/** Debian's interpreter, which has python3-grpcio (a PATH python3 may not). */
const PYTHON = process.env.SESSIOND_TEST_PYTHON ?? "/usr/bin/python3";

let server: SessiondServer;
let dir: string;
let venvPython: string;

/** Runs a command; resolves with its exit code and output instead of throwing. */
function exec(file: string, args: string[], env: Record<string, string> = {}) {
  return runCommand(file, args, { cwd: dir, env: { ...process.env, ...env }, timeout: 240_000 });
}

beforeAll(async () => {
  try {
    await run(PYTHON, ["-c", "import grpc, google.protobuf, setuptools, pip"]);
  } catch (error) {
    throw new Error(`${PYTHON} lacks grpc, setuptools or pip: run scripts/install-system-packages.sh (${String(error)})`);
  }
  server = await startServer({ store: new MemoryStore(), port: 0 });
  dir = mkdtempSync(join(tmpdir(), "sessiond-py-"));
  // Regenerate first: this proves generate.sh works on proto/ as it is now, and the install packages these stubs.
  const gen = await run("bash", [join(pkg, "generate.sh")], { env: { ...process.env, PYTHON } });
  expect(gen.stdout).toMatch(/generated \d+ modules/);
  // A virtual environment over Debian's grpcio and protobuf: pip installs the package offline, without dependencies.
  await run(PYTHON, ["-m", "venv", "--system-site-packages", join(dir, "venv")]);
  venvPython = join(dir, "venv/bin/python");
  const install = await exec(venvPython, ["-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "-q", pkg]);
  expect(install.stderr.replace(/^.*(notice|WARNING: Running pip as).*$/gm, "").trim()).toBe("");
  expect(install.code).toBe(0);
}, 300_000);
afterAll(async () => {
  await server?.close(1000);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("Python client package (clients/python, installed with pip)", () => {
  it("is installed from the package, not the source tree", async () => {
    const res = await exec(venvPython, ["-c", "import sessiond, sessiond.v1.session_service_pb2_grpc as g; print(sessiond.__file__); print(g.__name__)"]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(join(dir, "venv"));
  });

  it("passes its own tests against a live server", async () => {
    const res = await exec(venvPython, ["-m", "unittest", "discover", "-v", "-s", join(pkg, "tests")], {
      SESSIOND_TARGET: `127.0.0.1:${server.port}`,
    });
    expect(res.stderr).toMatch(/^Ran 8 tests in .*\n\nOK\s*$/m);
    expect(res.stderr).not.toMatch(/FAIL|ERROR|skipped/);
    expect(res.code).toBe(0);
  });

  it("runs the example in docs/clients.md, which is example.py", async () => {
    const example = readFileSync(join(pkg, "example.py"), "utf8");
    expect(docsBlock(join(root, "docs/clients.md"), "Python", "python")).toBe(example);
    const res = await exec(venvPython, [join(pkg, "example.py")], { SESSIOND_TARGET: `127.0.0.1:${server.port}` });
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout.split("\n")).toEqual([
      "last sequence: 2",
      "state: [('city', 'Lisbon'), ('user:lang', 'en')]",
      "stored: 1 user",
      "stored: 2 planner",
      "followed: 2 planner",
      "followed: 3 user",
      "error: NOT_FOUND",
      "",
    ]);
    // What it wrote is really in the server.
    const api = createSessiondClient({ baseUrl: server.url });
    const sessions = [];
    for await (const page of api.listSessions({ appName: "demo" })) sessions.push(...page);
    expect(sessions.map((s) => s.lastSequence)).toContain(3n);
  });
});
