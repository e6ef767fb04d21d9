import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { EXPORT_FLAGS } from "../../src/commands/export.js";
import { IMPORT_FLAGS } from "../../src/commands/import.js";
import { MIGRATE_FLAGS } from "../../src/commands/migrate.js";
import { PURGE_FLAGS } from "../../src/commands/purge.js";
import { parseServeArgs, SERVE_FLAGS } from "../../src/commands/serve.js";
import { startGatedProxy } from "../support/gated-proxy.js";
import { SESSIOND_BIN } from "../support/cli-process.js";
import { runCommand } from "../support/run-command.js";
import { testStores } from "../support/stores.js";

const dir = mkdtempSync(join(tmpdir(), "sessiond-conventions-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the command line in `cwd` with only the given environment (plus PATH); never throws. */
function sessiond(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return runCommand(process.execPath, [SESSIOND_BIN, ...args], { cwd: options.cwd ?? dir, env: { PATH: process.env.PATH, ...options.env } });
}

const COMMAND_FLAGS = { serve: SERVE_FLAGS, migrate: MIGRATE_FLAGS, export: EXPORT_FLAGS, import: IMPORT_FLAGS, purge: PURGE_FLAGS };

/** A value for every variable of `sessiond serve`, none of them the default. */
const ALL_SERVE_ENV: NodeJS.ProcessEnv = {
  SESSIOND_STORE: "memory:",
  SESSIOND_HOST: "0.0.0.0",
  SESSIOND_PORT: "7001",
  SESSIOND_CORS_ORIGIN: "https://a.example, https://b.example",
  SESSIOND_AUTO_MIGRATE: "no",
  SESSIOND_STORE_CONNECT_TIMEOUT: "5s",
  SESSIOND_DRAIN_SECONDS: "3",
  SESSIOND_AUTH_KEYS_FILE: "/keys.json",
  SESSIOND_INSECURE: "yes",
  SESSIOND_TLS_CERT: "/c.pem",
  SESSIOND_TLS_KEY: "/k.pem",
  SESSIOND_METRICS: "0",
  SESSIOND_LOG_LEVEL: "debug",
  SESSIOND_LOG_LEVEL_KEY: "severity",
  SESSIOND_RETENTION: "30d",
  SESSIOND_RETENTION_STATUS: "completed",
  SESSIOND_RETENTION_INTERVAL: "2h",
  SESSIOND_UI: "false",
  SESSIOND_UI_DIR: "/ui",
  SESSIOND_COMPRESS_RESPONSES: "1",
  SESSIOND_GRPC_FAST_PATH: "false",
  SESSIOND_POLL_INTERVAL_MS: "500",
  SESSIOND_OTLP_ENDPOINT: "http://collector:4318",
  SESSIOND_HANDSHAKE_TIMEOUT_MS: "1001",
  SESSIOND_HEADERS_TIMEOUT_MS: "1002",
  SESSIOND_KEEP_ALIVE_TIMEOUT_MS: "1003",
  SESSIOND_IDLE_TIMEOUT_MS: "1004",
  SESSIOND_MAX_CONCURRENT_STREAMS: "17",
  SESSIOND_MAX_CONNECTIONS: "18",
  SESSIOND_MAX_RESETS_PER_10S: "19",
};

describe("command-line conventions", () => {
  it("prints the package version", { timeout: 120_000 }, async () => {
    const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    const result = await sessiond(["--version"]);
    expect(result).toMatchObject({ code: 0, stdout: `sessiond ${version}\n` });
  });

  it("answers -h and --help for every command with each flag and its environment variable", { timeout: 120_000 }, async () => {
    const calls = Object.entries(COMMAND_FLAGS).flatMap(([name, flags]) => ["--help", "-h"].map((help) => ({ name, flags, help })));
    const results = await Promise.all(calls.map((c) => sessiond([c.name, "--store", "memory:", c.help])));
    for (const [i, { name, flags, help }] of calls.entries()) {
      {
        const result = results[i]!;
        expect(result.code, `${name} ${help}`).toBe(0);
        expect(result.stdout).toContain(`Usage: sessiond ${name}`);
        for (const flag of flags) {
          expect(result.stdout).toContain(`--${flag.name}`);
          if (flag.env) expect(result.stdout).toContain(flag.env);
        }
        expect(result.stdout).toContain("Exit status: 0 success, 1 runtime failure");
      }
    }
    const top = await sessiond(["--help"]);
    expect(top.code).toBe(0);
    for (const name of Object.keys(COMMAND_FLAGS)) expect(top.stdout).toContain(`  ${name} `);
  });

  it("exits 2 on usage errors, 1 on runtime failures", { timeout: 120_000 }, async () => {
    expect((await sessiond(["frobnicate"])).code).toBe(2);
    const names = Object.keys(COMMAND_FLAGS);
    const results = await Promise.all(names.map((name) => sessiond([name, "--frobnicate"])));
    for (const [i, name] of names.entries()) {
      const unknown = results[i]!;
      expect(unknown.code, name).toBe(2);
      expect(unknown.stderr).toContain("--frobnicate");
      expect(unknown.stderr).toContain(`sessiond ${name} --help`);
    }
    expect((await sessiond(["purge", "--store", "memory:"])).code).toBe(2);
    expect((await sessiond(["purge", "--store", "memory:", "--older-than", "soon"])).code).toBe(2);
    expect((await sessiond(["migrate", "--limit", "3"])).code).toBe(2);
    // A store that is not there is a runtime failure.
    const down = await sessiond(["serve", "--store", "postgres://postgres@127.0.0.1:1/test", "--store-connect-timeout", "0", "--port", "0"]);
    expect(down.code).toBe(1);
    expect((await sessiond(["export", "--store", "postgres://postgres@127.0.0.1:1/test"])).code).toBe(1);
  });

  it("validates every flag and variable before creating anything", { timeout: 120_000 }, async () => {
    const cwd = mkdtempSync(join(dir, "empty-"));
    const bad: [string[], NodeJS.ProcessEnv, string][] = [
      [["--port", "99999"], {}, "--port"],
      [["--port", "12ab"], {}, "--port"],
      [[], { SESSIOND_PORT: "65536" }, "SESSIOND_PORT"],
      [[], { PORT: "-1" }, "PORT"],
      [["--log-level", "loud"], {}, "--log-level"],
      [[], { SESSIOND_LOG_LEVEL_KEY: "lvl" }, "SESSIOND_LOG_LEVEL_KEY"],
      [["--drain-seconds", "x"], {}, "--drain-seconds"],
      [[], { SESSIOND_METRICS: "maybe" }, "SESSIOND_METRICS"],
      [[], { SESSIOND_INSECURE: "2" }, "SESSIOND_INSECURE"],
      [["--retention", "3x"], {}, "--retention"],
      [[], { SESSIOND_RETENTION: "30d", SESSIOND_RETENTION_STATUS: "gone" }, "SESSIOND_RETENTION_STATUS"],
      [["--retention-interval", "1h"], {}, "--retention"],
      [["--poll-interval-ms", "0"], {}, "--poll-interval-ms"],
      [["--store-connect-timeout", "forever"], {}, "--store-connect-timeout"],
      [["--tls-cert", "cert.pem"], {}, "--tls-key"],
      [[], { SESSIOND_OTLP_ENDPOINT: "collector:4318" }, "SESSIOND_OTLP_ENDPOINT"],
    ];
    const results = await Promise.all(bad.map(([args, env]) => sessiond(["serve", ...args], { cwd, env })));
    for (const [i, [args, env, named]] of bad.entries()) {
      const result = results[i]!;
      expect(result.code, `${args.join(" ")} ${JSON.stringify(env)}`).toBe(2);
      expect(result.stderr).toContain(named);
    }
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("takes every serve flag from its environment variable, the flag winning", () => {
    const fromEnv = parseServeArgs([], ALL_SERVE_ENV);
    expect(fromEnv).toEqual({
      storeUrl: "memory:",
      host: "0.0.0.0",
      port: 7001,
      corsOrigins: ["https://a.example", "https://b.example"],
      autoMigrate: false,
      storeConnectTimeoutMs: 5000,
      drainMs: 3000,
      authKeysFile: "/keys.json",
      apiKeys: undefined,
      insecure: true,
      tlsCertFile: "/c.pem",
      tlsKeyFile: "/k.pem",
      metrics: false,
      logLevel: "debug",
      logLevelKey: "severity",
      retention: { rule: { olderThanMs: 30 * 86_400_000, status: "completed" }, intervalMs: 7_200_000 },
      uiDir: undefined,
      compressResponses: true,
      grpcFastPath: false,
      pollIntervalMs: 500,
      otlpEndpoint: "http://collector:4318",
      connectionLimits: {
        handshakeTimeoutMs: 1001,
        headersTimeoutMs: 1002,
        keepAliveTimeoutMs: 1003,
        idleTimeoutMs: 1004,
        maxConcurrentStreams: 17,
        maxConnections: 18,
        maxResetsPer10s: 19,
      },
    });
    // Every flag has a variable, and each is covered above: a new flag without one fails here.
    expect(SERVE_FLAGS.filter((f) => !f.env || !(f.env in ALL_SERVE_ENV)).map((f) => f.name)).toEqual([]);

    const flagsWin = parseServeArgs(["--port", "7002", "--host", "127.0.0.2", "--log-level", "warn"], {
      SESSIOND_PORT: "7001",
      SESSIOND_HOST: "0.0.0.0",
      SESSIOND_LOG_LEVEL: "debug",
    });
    expect(parseServeArgs([], { SESSIOND_UI_DIR: "/ui" }).uiDir).toBe("/ui");
    expect(flagsWin).toMatchObject({ port: 7002, host: "127.0.0.2", logLevel: "warn" });
  });

  it("takes every flag of the one-shot commands from a variable named after the command", { timeout: 120_000 }, async () => {
    for (const [name, flags] of Object.entries({ migrate: MIGRATE_FLAGS, export: EXPORT_FLAGS, import: IMPORT_FLAGS, purge: PURGE_FLAGS })) {
      expect(flags.filter((f) => !f.env).map((f) => f.name), name).toEqual([]);
      for (const flag of flags.filter((f) => f.name !== "store")) expect(flag.env).toBe(`SESSIOND_${name.toUpperCase()}_${flag.name.toUpperCase().replaceAll("-", "_")}`);
    }
    const cwd = mkdtempSync(join(dir, "env-"));
    const store = `sqlite:${join(cwd, "s.db")}`;
    expect((await sessiond(["migrate"], { cwd, env: { SESSIOND_STORE: store } })).code).toBe(0);
    const exported = await sessiond(["export"], { cwd, env: { SESSIOND_STORE: store, SESSIOND_EXPORT_OUT: "out.ndjson", SESSIOND_EXPORT_APP: "a" } });
    expect(exported).toMatchObject({ code: 0 });
    expect(exported.stderr).toContain("to out.ndjson");
    expect(existsSync(join(cwd, "out.ndjson"))).toBe(true);
    const dry = await sessiond(["purge"], { cwd, env: { SESSIOND_STORE: store, SESSIOND_PURGE_OLDER_THAN: "30d", SESSIOND_PURGE_DRY_RUN: "yes" } });
    expect(dry).toMatchObject({ code: 0, stdout: "would delete 0 sessions (not updated for 30d)\n" });
    // The flag wins over the variable; a bad variable is a usage error naming it.
    const flagWins = await sessiond(["purge", "--older-than", "12h", "--dry-run"], { cwd, env: { SESSIOND_STORE: store, SESSIOND_PURGE_OLDER_THAN: "30d" } });
    expect(flagWins.stdout).toContain("not updated for 12h");
    const bad = await sessiond(["purge"], { cwd, env: { SESSIOND_STORE: store, SESSIOND_PURGE_OLDER_THAN: "soon" } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("SESSIOND_PURGE_OLDER_THAN");
    // A variable of one command never reaches another: export ignores the purge scope.
    const other = await sessiond(["purge", "--older-than", "30d", "--dry-run"], { cwd, env: { SESSIOND_STORE: store, SESSIOND_EXPORT_APP: "a", SESSIOND_APP: "a" } });
    expect(other.stdout).toBe("would delete 0 sessions (not updated for 30d)\n");
  });

  it("reads booleans as true/false, 1/0, yes/no in any case", () => {
    for (const [text, on] of [["true", true], ["1", true], ["YES", true], ["false", false], ["0", false], ["No", false]] as const) {
      expect(parseServeArgs([], { SESSIOND_INSECURE: text }).insecure).toBe(on);
      expect(parseServeArgs([], { SESSIOND_METRICS: text }).metrics).toBe(on);
    }
    expect(parseServeArgs([], {}).metrics).toBe(true);
    expect(parseServeArgs([], { SESSIOND_METRICS: "0" }).metrics).toBe(false);
  });

  it("listens on PORT when neither --port nor SESSIOND_PORT is set", { timeout: 120_000 }, async () => {
    expect(parseServeArgs([], { PORT: "8080" }).port).toBe(8080);
    expect(parseServeArgs([], { PORT: "8080", SESSIOND_PORT: "8081" }).port).toBe(8081);
    expect(parseServeArgs(["--port", "8082"], { PORT: "8080" }).port).toBe(8082);
    expect(parseServeArgs([], {}).port).toBe(50051);
    // And the process does: a probe answers on the port PORT names.
    const proxy = await startGatedProxy({ host: "127.0.0.1", port: 1 });
    const port = proxy.port;
    await proxy.close();
    const child = spawn(process.execPath, [SESSIOND_BIN, "serve", "--store", "memory:"], {
      env: { PATH: process.env.PATH, PORT: String(port) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const serving = await logLines(child).until((l) => l.msg === "serving");
      expect(serving.url).toBe(`http://127.0.0.1:${port}`);
    } finally {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
  });

  it("retries an unreachable store at start until it answers", { timeout: 120_000 }, async () => {
    const isolated = await testStores.postgres!();
    const target = new URL(isolated.url);
    const proxy = await startGatedProxy({ host: target.hostname, port: Number(target.port || 5432) });
    target.port = String(proxy.port);
    const child = spawn(process.execPath, [SESSIOND_BIN, "serve", "--store", target.href, "--port", "0", "--store-connect-timeout", "120s"], {
      env: { PATH: process.env.PATH },
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const lines = logLines(child);
      const retried = await lines.until((l) => l.msg === "store unreachable at start; retrying");
      expect(retried).toMatchObject({ level: "warn", attempt: 1 });
      proxy.open();
      const serving = await lines.until((l) => l.msg === "serving");
      expect(serving.store).toBe("postgres");
      const ready = await fetch(`${String(serving.url)}/sessiond.v1.SessionService/ListSessions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"appName":"x"}',
      });
      expect(ready.status).toBe(200);
    } finally {
      child.kill("SIGTERM");
      await once(child, "exit");
      await proxy.close();
      await isolated.cleanup();
    }
  });

  it("stops at once on SIGTERM while waiting for the store", { timeout: 120_000 }, async () => {
    const proxy = await startGatedProxy({ host: "127.0.0.1", port: 1 });
    const child = spawn(process.execPath, [SESSIOND_BIN, "serve", "--store", `postgres://postgres@127.0.0.1:${proxy.port}/test`, "--port", "0"], {
      env: { PATH: process.env.PATH },
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      await logLines(child).until((l) => l.msg === "store unreachable at start; retrying");
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const [code] = await exited;
      expect(code).toBe(0);
    } finally {
      child.kill("SIGKILL");
      await proxy.close();
    }
  });

  it("logs start-up failures as JSON lines, with level names under the configured key", { timeout: 120_000 }, async () => {
    const failed = await sessiond(["serve", "--store", "ftp://x", "--port", "0"]);
    expect(failed.code).toBe(1);
    const line = JSON.parse(failed.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: "fatal", msg: "start-up failed" });
    expect(String(line.error)).toContain("unsupported URL scheme");

    const severity = await sessiond(["serve", "--store", "ftp://x", "--port", "0"], { env: { SESSIOND_LOG_LEVEL_KEY: "severity" } });
    const gcp = JSON.parse(severity.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
    expect(gcp).toMatchObject({ severity: "CRITICAL", msg: "start-up failed" });
    expect(gcp).not.toHaveProperty("level");
    expect(existsSync(join(dir, "sessiond.db"))).toBe(false);
  });
});

/** A child's JSON log lines, read once; `until` resolves with the first line that matches. */
function logLines(child: ReturnType<typeof spawn>) {
  const seen: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let exitCode: number | null | undefined;
  createInterface({ input: child.stdout! }).on("line", (text) => {
    seen.push(JSON.parse(text) as Record<string, unknown>);
    for (const wake of [...waiters]) wake();
  });
  child.once("exit", (code) => {
    exitCode = code;
    for (const wake of [...waiters]) wake();
  });
  return {
    until(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = seen.find(match);
          if (found) resolve(found);
          else if (exitCode !== undefined) reject(new Error(`sessiond exited with ${exitCode} before the expected log line`));
          else return;
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}
