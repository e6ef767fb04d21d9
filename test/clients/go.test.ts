import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SessiondServer, startServer } from "../../src/server.js";
import { MemoryStore } from "../../src/stores/memory.js";
import { runCommand } from "../support/run-command.js";
import { docsBlock } from "./docs-block.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "../..");
const pkg = join(root, "clients/go");

let server: SessiondServer;
let gopath: string;
let module: string;

/** Runs go in GOPATH mode over Debian's grpc and protobuf; resolves with exit code and output. */
function go(args: string[], env: Record<string, string> = {}) {
  return runCommand("go", args, {
    cwd: module,
    timeout: 600_000,
    env: { ...process.env, GO111MODULE: "off", GOPATH: `${gopath}:/usr/share/gocode`, GOCACHE: join(gopath, "cache"), GOFLAGS: "", ...env },
  });
}

beforeAll(async () => {
  try {
    await run("go", ["version"]);
    await run("protoc-gen-go", ["--version"]);
  } catch (error) {
    throw new Error(`go or protoc-gen-go missing: run scripts/install-system-packages.sh (${String(error)})`);
  }
  server = await startServer({ store: new MemoryStore(), port: 0 });
  gopath = mkdtempSync(join(tmpdir(), "sessiond-go-"));
  module = join(gopath, "src/sessiond/clients/go");
  mkdirSync(module, { recursive: true });
  cpSync(pkg, module, { recursive: true });
  // Generate afresh from proto/ as it is now into the copy; the committed files must be the same.
  const gen = await run("bash", [join(pkg, "generate.sh"), module]);
  expect(gen.stdout).toMatch(/generated 3 files/);
}, 120_000);
afterAll(async () => {
  await server?.close(1000);
  if (gopath) rmSync(gopath, { recursive: true, force: true });
});

describe("Go client (clients/go, GOPATH mode with Debian's grpc)", () => {
  it("has committed stubs that match proto/ (else run clients/go/generate.sh)", () => {
    const files = readdirSync(join(pkg, "sessiondv1")).sort();
    expect(files).toEqual(readdirSync(join(module, "sessiondv1")).sort());
    for (const file of files) {
      expect(readFileSync(join(pkg, "sessiondv1", file), "utf8"), file).toBe(readFileSync(join(module, "sessiondv1", file), "utf8"));
    }
  });

  it("builds and vets", async () => {
    const res = await go(["vet", "./..."]);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
  }, 600_000);

  it("passes its tests against a live server", async () => {
    const res = await go(["test", "-count=1", "-v", "./sessiond/"], { SESSIOND_TARGET: `127.0.0.1:${server.port}` });
    expect(res.stdout).toMatch(/^ok\s+sessiond\/clients\/go\/sessiond/m);
    for (const name of ["TestCreateAppendGet", "TestErrorsCarryTheGRPCCode", "TestStreamAfterSequence", "TestFollowHistoryThenLiveThenResume"]) {
      expect(res.stdout).toContain(`--- PASS: ${name}`);
    }
    expect(res.stdout).not.toMatch(/--- (FAIL|SKIP)/);
    expect(res.code).toBe(0);
  }, 600_000);

  it("runs the example in docs/clients.md, which is example/main.go", async () => {
    expect(docsBlock(join(root, "docs/clients.md"), "Go", "go")).toBe(readFileSync(join(pkg, "example/main.go"), "utf8"));
    const res = await go(["run", "./example"], { SESSIOND_TARGET: `127.0.0.1:${server.port}` });
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout.split("\n")).toEqual([
      "last sequence: 2",
      "stored: 1 user",
      "stored: 2 planner",
      "followed: 2 planner",
      "followed: 3 user",
      "error: NotFound",
      "",
    ]);
  }, 600_000);
});
