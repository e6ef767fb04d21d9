import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";

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
