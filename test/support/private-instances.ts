import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A database server a test owns: on a free port, under a temp folder, stopped and started by PID. */
export interface PrivateInstance {
  readonly kind: "postgres" | "mariadb" | "redis";
  /** A store URL for sessiond. */
  readonly url: string;
  /** Stops the server (its PID only) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data, and waits until it answers. */
  start(): Promise<void>;
  /** Stops it for good and removes its folder. */
  destroy(): Promise<void>;
}

/** A free loopback TCP port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, "close");
  return port;
}

async function uidOf(user: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run("id", ["-u", user]), run("id", ["-g", user])]);
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

/** Polls `ready` every 50 ms until it resolves true, for up to `ms`. */
export async function waitFor(what: string, ready: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (await ready().catch(() => false)) return;
    if (Date.now() > until) throw new Error(`${what} not ready within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs a server process and the stop/start cycle around it. */
function supervise(
  kind: PrivateInstance["kind"],
  dir: string,
  url: string,
  launch: () => ChildProcess,
  ready: () => Promise<boolean>,
  stopSignal: NodeJS.Signals,
): PrivateInstance {
  let child: ChildProcess | undefined;
  let output = "";
  const stop = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill(stopSignal);
    const timer = setTimeout(() => child?.kill("SIGKILL"), 20_000);
    await exited;
    clearTimeout(timer);
  };
  const start = async () => {
    output = "";
    child = launch();
    child.stdout?.on("data", (chunk) => (output += chunk));
    child.stderr?.on("data", (chunk) => (output += chunk));
    const current = child;
    await waitFor(kind, async () => {
      if (current.exitCode !== null) throw new Error(`${kind} exited: ${output.slice(-2000)}`);
      return ready();
    });
  };
  return {
    kind,
    url,
    stop,
    start,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function privateDir(kind: string): string {
  const dir = mkdtempSync(join(tmpdir(), `sessiond-private-${kind}-`));
  return dir;
}

/** A private PostgreSQL: initdb and postgres as the postgres user, with `settings` as `-c name=value` on top of the suite's. */
export async function startPrivatePostgres(settings: Record<string, string> = {}): Promise<PrivateInstance> {
  const dir = privateDir("pg");
  const { uid, gid } = await uidOf("postgres");
  chownSync(dir, uid, gid);
  const bin = (await run("bash", ["-c", "ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1"])).stdout.trim();
  const data = join(dir, "data");
  await run(join(bin, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"], { uid, gid });
  const port = await freePort();
  const instance = supervise(
    "postgres",
    dir,
    `postgres://postgres@127.0.0.1:${port}/postgres`,
    () =>
      spawn(join(bin, "postgres"), ["-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=60", "-c", "fsync=off", ...Object.entries(settings).flatMap(([name, value]) => ["-c", `${name}=${value}`])], {
        uid,
        gid,
        stdio: ["ignore", "pipe", "pipe"],
      }),
    async () => (await run(join(bin, "pg_isready"), ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres"]).then(() => true, () => false)),
    "SIGINT",
  );
  await instance.start();
  return instance;
}

/** A private MariaDB: mariadb-install-db and mariadbd as the mysql user, with root@127.0.0.1 and a database. */
export async function startPrivateMariadb(): Promise<PrivateInstance> {
  const dir = privateDir("mariadb");
  const { uid, gid } = await uidOf("mysql");
  chownSync(dir, uid, gid);
  const data = join(dir, "data");
  await run("mariadb-install-db", [
    "--no-defaults",
    `--datadir=${data}`,
    "--user=mysql",
    "--auth-root-authentication-method=normal",
    "--skip-test-db",
    "--skip-name-resolve",
  ]);
  const port = await freePort();
  const socket = join(dir, "mysqld.sock");
  const { createConnection } = await import("mysql2/promise");
  const instance = supervise(
    "mariadb",
    dir,
    `mysql://root@127.0.0.1:${port}/sessiond`,
    () =>
      spawn(
        "/usr/sbin/mariadbd",
        [
          "--no-defaults",
          `--datadir=${data}`,
          `--port=${port}`,
          "--bind-address=127.0.0.1",
          `--socket=${socket}`,
          `--pid-file=${join(dir, "mysqld.pid")}`,
          "--skip-log-bin",
          "--skip-name-resolve",
          "--innodb-buffer-pool-size=64M",
          "--performance-schema=OFF",
        ],
        { uid, gid, stdio: ["ignore", "pipe", "pipe"] },
      ),
    // Ready when a client can connect over TCP as sessiond does (root@127.0.0.1 exists after the first start).
    async () => {
      const connection = await createConnection(first ? { socketPath: socket, user: "root" } : { host: "127.0.0.1", port, user: "root" });
      await connection.end();
      return true;
    },
    "SIGTERM",
  );
  let first = true;
  await instance.start();
  first = false;
  const admin = await createConnection({ socketPath: socket, user: "root" });
  await admin.query("CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'");
  await admin.query("GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION");
  await admin.query("CREATE DATABASE IF NOT EXISTS sessiond CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
  await admin.end();
  return instance;
}

/** A private Redis with an append-only file fsynced on every write. */
export async function startPrivateRedis(): Promise<PrivateInstance> {
  const dir = privateDir("redis");
  const port = await freePort();
  const { Redis } = await import("ioredis");
  return (async () => {
    const instance = supervise(
      "redis",
      dir,
      `redis://127.0.0.1:${port}?prefix=faults`,
      () =>
        spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always"], {
          stdio: ["ignore", "pipe", "pipe"],
        }),
      async () => {
        const client = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        client.on("error", () => {});
        try {
          await client.connect();
          return (await client.ping()) === "PONG";
        } finally {
          client.disconnect();
        }
      },
      "SIGTERM",
    );
    await instance.start();
    return instance;
  })();
}
