import { invalidArgument } from "../../core/errors.js";
import { StoreUrlOptions } from "../url-options.js";

/** TLS setting handed to the driver: off, encrypted, or encrypted with a verified certificate and host name. */
export type PostgresSsl = false | "require" | "verify-full";

/** Store options read from a `postgres://` URL's query string. */
export interface PostgresUrlOptions {
  /** The URL without the store's own query parameters, for the driver. */
  driverUrl: string;
  /** PostgreSQL schema holding the tables. */
  schema: string;
  tablePrefix: string;
  /** Pool size. */
  max: number;
  /** Seconds an idle connection stays open; undefined keeps it. */
  idleTimeout?: number;
  /** Seconds a connection lives before it is replaced; undefined uses the driver's randomized 30–60 minutes. */
  maxLifetime?: number;
  ssl: PostgresSsl;
  /** Undefined when the URL does not say. */
  autoMigrate?: boolean;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const STORE_PARAMS = ["schema", "table_prefix", "max", "idle_timeout", "max_lifetime", "sslmode", "auto_migrate"];
const DEFAULT_POOL_SIZE = 10;
const SSL_MODES = { disable: false, require: "require", "verify-full": "verify-full" } as const;

/**
 * Splits a `postgres://` or `postgresql://` URL into the driver's URL and
 * the store's options. The store's parameters are removed from the URL so
 * the driver never sends them to the server as connection settings; the
 * others are the driver's.
 */
export function parsePostgresUrl(url: string): PostgresUrlOptions {
  const at = url.indexOf("?");
  const base = at < 0 ? url : url.slice(0, at);
  const params = new StoreUrlOptions(at < 0 ? "" : url.slice(at + 1), STORE_PARAMS, { passUnknown: true });
  const schema = params.string("schema") ?? "public";
  if (!IDENTIFIER.test(schema)) {
    throw invalidArgument("store: schema", "must be a letter or underscore followed by up to 62 letters, digits or underscores");
  }
  const rest = params.unknown().toString();
  return {
    driverUrl: rest === "" ? base : `${base}?${rest}`,
    schema,
    tablePrefix: params.string("table_prefix") ?? "",
    max: params.integer("max", 1, 1000) ?? DEFAULT_POOL_SIZE,
    idleTimeout: params.integer("idle_timeout", 0, 86_400),
    maxLifetime: params.integer("max_lifetime", 0, 604_800),
    ssl: SSL_MODES[params.choice("sslmode", ["disable", "require", "verify-full"]) ?? "disable"],
    autoMigrate: params.boolean("auto_migrate"),
  };
}
