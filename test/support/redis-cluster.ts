import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A throwaway Redis Cluster of three masters on loopback ports. */
export interface TestCluster {
  ports: number[];
  /** `redis+cluster://127.0.0.1:P1,…` without a query. */
  url: string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/**
 * Starts three `redis-server --cluster-enabled yes` processes with the
 * machine's redis-server, joins them with `redis-cli --cluster create` and
 * waits for `cluster_state:ok`. Everything is stopped and removed by `stop`,
 * and also when starting fails.
 */
export async function startRedisCluster(): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), "sessiond-redis-cluster-"));
  const children: ChildProcess[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(children.map((child) => terminate(child)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ports = await freePorts(3);
    for (const port of ports) {
      const child = spawn(
        "redis-server",
        [
          "--port", String(port),
          "--bind", "127.0.0.1",
          "--cluster-enabled", "yes",
          "--cluster-config-file", join(dir, `nodes-${port}.conf`),
          "--cluster-node-timeout", "5000",
          "--dir", dir,
          "--save", "",
          "--appendonly", "no",
          "--daemonize", "no",
          "--logfile", join(dir, `redis-${port}.log`),
        ],
        { stdio: "ignore" },
      );
      children.push(child);
      running.add(child);
      child.once("exit", () => running.delete(child));
    }
    for (const port of ports) await waitFor(async () => (await cli(port, "ping")) === "PONG", `redis-server on port ${port}`);
    await run("redis-cli", ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"], {
      timeout: 30_000,
    });
    for (const port of ports) {
      await waitFor(async () => (await cli(port, "cluster", "info")).includes("cluster_state:ok"), `cluster_state:ok on port ${port}`);
    }
    return { ports, url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(",")}`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A throwaway single redis-server on a free loopback port; `stop` kills it and removes its directory. */
export async function startRedisServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "sessiond-redis-"));
  const [port] = await freePorts(1);
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  const stop = async () => {
    await terminate(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => (await cli(port!, "ping")) === "PONG", `redis-server on port ${port}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis://127.0.0.1:${port}`, stop };
}

async function cli(port: number, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], { timeout: 5000 });
    return stdout.trim();
  } catch {
    return "";
  }
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** `count` ports whose cluster bus port (port + 10000) is free too, starting near 7100 + pid % 500. */
async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let port = 7100 + (process.pid % 500) * 3; ports.length < count; port++) {
    if (port > 55_000) throw new Error("no free ports for the test cluster");
    if ((await isFree(port)) && (await isFree(port + 10_000))) ports.push(port);
  }
  return ports;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
