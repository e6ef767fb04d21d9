import { invalidArgument } from "../../core/errors.js";

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

/**
 * Splits a `postgres://` or `postgresql://` URL into the driver's URL and
 * the store's options. The store's parameters are removed from the URL so
 * the driver never sends them to the server as connection settings.
 */
export function parsePostgresUrl(url: string): PostgresUrlOptions {
  const at = url.indexOf("?");
  const base = at < 0 ? url : url.slice(0, at);
  const params = new URLSearchParams(at < 0 ? "" : url.slice(at + 1));
  const get = (name: string) => params.get(name) ?? undefined;

  const schema = get("schema") ?? "public";
  if (!IDENTIFIER.test(schema)) {
    throw invalidArgument("store: schema", "must be a letter or underscore followed by up to 62 letters, digits or underscores");
  }
  const options: PostgresUrlOptions = {
    driverUrl: base,
    schema,
    tablePrefix: get("table_prefix") ?? "",
    max: integerParam("max", get("max"), 1, 1000) ?? DEFAULT_POOL_SIZE,
    idleTimeout: integerParam("idle_timeout", get("idle_timeout"), 0, 86_400),
    maxLifetime: integerParam("max_lifetime", get("max_lifetime"), 0, 604_800),
    ssl: sslParam(get("sslmode")),
    autoMigrate: booleanParam("auto_migrate", get("auto_migrate")),
  };
  for (const name of STORE_PARAMS) params.delete(name);
  const rest = params.toString();
  if (rest !== "") options.driverUrl = `${base}?${rest}`;
  return options;
}

function integerParam(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    throw invalidArgument(`store: ${name}`, `must be an integer from ${min} to ${max}, not ${JSON.stringify(value)}`);
  }
  return n;
}

function booleanParam(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw invalidArgument(`store: ${name}`, `must be true or false, not ${JSON.stringify(value)}`);
}

function sslParam(value: string | undefined): PostgresSsl {
  switch (value) {
    case undefined:
    case "disable":
      return false;
    case "require":
      return "require";
    case "verify-full":
      return "verify-full";
    default:
      throw invalidArgument("store: sslmode", `must be disable, require or verify-full, not ${JSON.stringify(value)}`);
  }
}
