import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { deleteRedisPrefix, connectTestRedis } from "./redis.js";
import { startRedisCluster } from "./redis-cluster.js";

/**
 * Every store the tests run against, reachable by URL. Each call makes an
 * isolated place (file, schema, database or key prefix) so test files and
 * parallel runs never see each other's data; `cleanup` removes it.
 * Network services are required: an unreachable one fails the test run.
 */
export interface IsolatedStore {
  url: string;
  cleanup(): Promise<void>;
}

/** Connection strings of the services, overridable from the environment. */
export const serviceUrls = {
  postgres: process.env.SESSIOND_TEST_POSTGRES ?? "postgres://postgres@127.0.0.1:5432/test",
  mysql: process.env.SESSIOND_TEST_MYSQL ?? "mysql://root@127.0.0.1:3306/test",
  redis: process.env.SESSIOND_TEST_REDIS ?? "redis://127.0.0.1:6379",
};

/** A short name unique to this process and call, safe as an identifier. */
export function isolationName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
}

export const testStores: Record<string, () => Promise<IsolatedStore>> = {
  memory: async () => ({ url: "memory:", cleanup: async () => {} }),
  sqlite: async () => {
    const dir = mkdtempSync(join(tmpdir(), "sessiond-sqlite-"));
    return { url: `sqlite:${join(dir, "test.db")}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  },
  postgres: async () => {
    const schema = isolationName("sessiond_test");
    await onPostgres((sql) => sql`CREATE SCHEMA ${sql(schema)}`);
    const separator = serviceUrls.postgres.includes("?") ? "&" : "?";
    return {
      url: `${serviceUrls.postgres}${separator}schema=${schema}`,
      cleanup: () => onPostgres((sql) => sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`),
    };
  },
  redis: async () => {
    const prefix = isolationName("redis");
    const client = await connectTestRedis(serviceUrls.redis);
    return {
      url: `${serviceUrls.redis}?prefix=${prefix}`,
      cleanup: async () => {
        await deleteRedisPrefix(client, prefix);
        await client.quit();
      },
    };
  },
  "redis-cluster": async () => {
    const cluster = await startRedisCluster();
    return { url: `${cluster.url}?prefix=${isolationName("redis")}`, cleanup: cluster.stop };
  },
  mysql: async () => {
    const { createConnection } = await import("mysql2/promise");
    const database = isolationName("sessiond");
    const server = new URL(serviceUrls.mysql);
    const admin = async (sql: string) => {
      const connection = await createConnection({
        host: server.hostname,
        port: Number(server.port || 3306),
        user: decodeURIComponent(server.username) || "root",
        password: decodeURIComponent(server.password),
      });
      try {
        await connection.query(sql);
      } finally {
        await connection.end();
      }
    };
    await admin(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    const url = new URL(serviceUrls.mysql);
    url.pathname = `/${database}`;
    return { url: url.toString(), cleanup: () => admin(`DROP DATABASE IF EXISTS \`${database}\``) };
  },
};

/** Runs one statement on a short-lived connection to the test PostgreSQL. */
async function onPostgres(work: (sql: postgres.Sql) => Promise<unknown>): Promise<void> {
  const sql = postgres(serviceUrls.postgres, { max: 1, onnotice: () => {} });
  try {
    await work(sql);
  } finally {
    await sql.end();
  }
}
