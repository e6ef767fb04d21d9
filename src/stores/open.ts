import { SessiondError } from "../core/errors.js";
import { type DriverErrorClassifier, storeFailure, withErrorBoundary } from "./error-boundary.js";
import { MemoryStore } from "./memory.js";
import type { Store } from "./store.js";

/** Options that apply to every store, beside what the URL says. */
export interface OpenStoreOptions {
  /**
   * Create or upgrade the schema on open. When set it wins over the URL's
   * `auto_migrate`, so `sessiond migrate` migrates whatever the URL says;
   * unset, the URL decides (default true).
   */
  autoMigrate?: boolean;
  /**
   * Open only a store that already exists, creating and migrating nothing:
   * for tools that read or delete (export, purge, the source of a copy), so
   * a mistyped URL fails (not_found) instead of making an empty store.
   * Memory stores have nothing to find and open as usual.
   */
  mustExist?: boolean;
}

/** The store used when none is configured. */
export const DEFAULT_STORE_URL = "sqlite:./sessiond.db";

/**
 * Opens the store a URL names: `memory:`, `sqlite:<path>`, `postgres://…`,
 * `mysql://…`, `redis://…`, `rediss://…` or `redis+cluster://…`. Drivers are
 * loaded only when their scheme is used.
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const scheme = url.slice(0, url.indexOf(":") + 1);
  switch (scheme) {
    case "memory:":
      return withErrorBoundary(new MemoryStore(), () => undefined);
    case "sqlite:": {
      const [{ SqliteStore }, { classifySqliteError }] = await Promise.all([
        import("./sqlite.js"),
        import("./private/sqlite-errors.js"),
      ]);
      return guarded(() => SqliteStore.open(url.slice("sqlite:".length), options), classifySqliteError);
    }
    case "postgres:":
    case "postgresql:": {
      const { ensurePostgresDriverPatched } = await import("./private/postgres-driver-patch.js");
      await ensurePostgresDriverPatched();
      const [{ PostgresStore }, { classifyPostgresError }] = await Promise.all([
        import("./postgres.js"),
        import("./private/postgres-errors.js"),
      ]);
      return guarded(() => PostgresStore.open(url, options), classifyPostgresError);
    }
    case "redis:":
    case "rediss:":
    case "redis+cluster:":
    case "rediss+cluster:": {
      const [{ RedisStore }, { classifyRedisError }] = await Promise.all([
        import("./redis.js"),
        import("./private/redis-errors.js"),
      ]);
      return guarded(() => RedisStore.open(url, options), classifyRedisError);
    }
    case "mysql:":
    case "mariadb:": {
      const [{ MysqlStore }, { classifyMysqlError }] = await Promise.all([
        import("./mysql.js"),
        import("./private/mysql-errors.js"),
      ]);
      return guarded(() => MysqlStore.open(url, options), classifyMysqlError);
    }
    default:
      throw new SessiondError(
        "invalid_argument",
        `store: unsupported URL scheme ${JSON.stringify(scheme || url)}; use memory:, sqlite:<path>, postgres://, mysql:// or redis://`,
      );
  }
}

/** Opens a store behind its driver's error boundary; failures to open are classified the same way. */
async function guarded(open: () => Promise<Store>, classify: DriverErrorClassifier): Promise<Store> {
  let store: Store;
  try {
    store = await open();
  } catch (error) {
    throw storeFailure(error, classify);
  }
  return withErrorBoundary(store, classify);
}
