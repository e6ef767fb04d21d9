import { SessiondError } from "../core/errors.js";
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
      return new MemoryStore();
    case "sqlite:": {
      const { SqliteStore } = await import("./sqlite.js");
      return SqliteStore.open(url.slice("sqlite:".length), options);
    }
    case "postgres:":
    case "postgresql:": {
      const { PostgresStore } = await import("./postgres.js");
      return PostgresStore.open(url, options);
    }
    case "redis:":
    case "rediss:":
    case "redis+cluster:":
    case "rediss+cluster:": {
      const { RedisStore } = await import("./redis.js");
      return RedisStore.open(url, options);
    }
    case "mysql:":
    case "mariadb:": {
      const { MysqlStore } = await import("./mysql.js");
      return MysqlStore.open(url, options);
    }
    default:
      throw new SessiondError(
        "invalid_argument",
        `store: unsupported URL scheme ${JSON.stringify(scheme || url)}; use memory:, sqlite:<path>, postgres://, mysql:// or redis://`,
      );
  }
}
