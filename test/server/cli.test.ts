import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, describe, expect, it } from "vitest";
import { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import { SESSIOND_BIN, spawnServe } from "../support/cli-process.js";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "sessiond-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the sessiond command", () => {
  it("keeps every session and event in SQLite across a restart", async () => {
    const store = `sqlite:${join(dir, "restart.db")}`;
    const first = await spawnServe(["--store", store]);
    const key = { appName: "persist", userId: "u", sessionId: "s" };
    try {
      const client = createClient(SessionService, createGrpcTransport({ baseUrl: first.url }));
      await client.createSession({ ...key, state: { "app:a": 1, "user:b": 2, c: 3 } });
      await client.appendEvents({ ...key, events: Array.from({ length: 25 }, (_, i) => ({ id: `e${i}`, author: "user", content: { i } })) });
    } finally {
      expect(await first.stop("SIGTERM")).toBe(0);
    }
    const second = await spawnServe(["--store", store]);
    try {
      const client = createClient(SessionService, createGrpcTransport({ baseUrl: second.url }));
      const { session } = await client.getSession(key);
      expect(session!.lastSequence).toBe(25n);
      expect(session!.state).toEqual({ "app:a": 1, "user:b": 2, c: 3 });
      expect(session!.events.map((e) => e.content)).toEqual(Array.from({ length: 25 }, (_, i) => ({ i })));
      const next = await client.appendEvent({ ...key, event: { id: "e0", author: "user" } });
      expect(next.event!.sequence).toBe(1n);
      const fresh = await client.appendEvent({ ...key, event: { author: "user" } });
      expect(fresh.event!.sequence).toBe(26n);
    } finally {
      await second.stop();
    }
  });

  it("drains on SIGINT and SIGTERM, logging as JSON lines", async () => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const server = await spawnServe(["--store", "memory:"]);
      expect(await server.stop(signal)).toBe(0);
      const lifecycle = server.logs.filter((l) => ["serving", "draining", "stopped"].includes(String(l.msg)));
      expect(lifecycle.map((l) => l.msg)).toEqual(["serving", "draining", "stopped"]);
      expect(lifecycle[1]!.signal).toBe(signal);
    }
  });

  it("serves the default SQLite store when no store is given, reading env settings", async () => {
    const server = await spawnServe([], { SESSIOND_STORE: `sqlite:${join(dir, "env.db")}` });
    try {
      expect(server.logs.find((l) => l.msg === "serving")!.store).toBe("sqlite");
      const res = await fetch(`${server.url}/sessiond.v1.SessionService/ListSessions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"appName":"x"}',
      });
      expect(await res.json()).toEqual({});
    } finally {
      await server.stop();
    }
  });

  it("fails with a clear message on a bad store URL or flag", async () => {
    const bad = await run(process.execPath, [SESSIOND_BIN, "serve", "--store", "ftp://x"]).catch((e) => e);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("unsupported URL scheme");
    const flag = await run(process.execPath, [SESSIOND_BIN, "serve", "--port", "-1"]).catch((e) => e);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("--port");
    const unknown = await run(process.execPath, [SESSIOND_BIN, "frobnicate"]).catch((e) => e);
    expect(unknown.code).toBe(2);
    const help = await run(process.execPath, [SESSIOND_BIN, "--help"]);
    expect(help.stdout).toContain("sessiond <command>");
  });

  it("migrates a SQLite schema on its own and refuses to serve an unmigrated one without auto-migrate", { timeout: 120_000 }, async () => {
    const store = `sqlite:${join(dir, "migrate.db")}`;
    const refused = await run(process.execPath, [SESSIOND_BIN, "serve", "--store", store, "--no-auto-migrate", "--port", "0"]).catch((e) => e);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain("sessiond migrate");
    const migrated = await run(process.execPath, [SESSIOND_BIN, "migrate", "--store", store]);
    expect(migrated.stdout).toContain("up to date");
    const server = await spawnServe(["--store", store, "--no-auto-migrate"]);
    await server.stop();
    // A URL that turns auto-migration off still migrates with `sessiond migrate`.
    const guarded = `sqlite:${join(dir, "guarded.db")}?auto_migrate=false`;
    const refusedByUrl = await run(process.execPath, [SESSIOND_BIN, "serve", "--store", guarded, "--port", "0"]).catch((e) => e);
    expect(refusedByUrl.stdout).toContain("sessiond migrate");
    await run(process.execPath, [SESSIOND_BIN, "migrate", "--store", guarded]);
    await (await spawnServe(["--store", guarded])).stop();
  });
});
