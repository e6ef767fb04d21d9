import { LOG_LEVEL_KEYS, LOG_LEVELS, type LogLevelKey } from "../ops/logger.js";
import { DEFAULT_STORE_URL } from "../stores/open.js";
import { parseDuration } from "../transfer/duration.js";
import type { ConnectionLimits } from "../server.js";
import type { PurgeRule } from "../transfer/purge.js";
import { defaultUiRoot } from "../ui/static-route.js";
import { asUsage, type Flag, integerOption, type ParsedFlags, parseFlags, portOption, UsageError } from "./flags.js";
import { statusOption } from "./io.js";

/** Everything `sessiond serve` is told by flags and environment. */
export interface ServeConfig {
  storeUrl: string;
  host: string;
  port: number;
  corsOrigins: string[];
  autoMigrate: boolean;
  /** How long to keep retrying an unreachable store at start (0: try once). */
  storeConnectTimeoutMs: number;
  drainMs: number;
  /** JSON keys file (--auth-keys, SESSIOND_AUTH_KEYS_FILE). */
  authKeysFile?: string;
  /** SESSIOND_API_KEYS: `KEY:APPS:ROLE;…`. */
  apiKeys?: string;
  /** Serve without keys on a non-loopback address. */
  insecure: boolean;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  metrics: boolean;
  logLevel: string;
  /** The JSON field carrying the level name. */
  logLevelKey: LogLevelKey;
  /** Compress responses for clients that accept it (--compress-responses). */
  compressResponses: boolean;
  /** Serve gRPC unary calls straight from HTTP/2 streams (off with --no-grpc-fast-path). */
  grpcFastPath: boolean;
  /** Follow streams' re-read interval without a wake-up (--poll-interval-ms); undefined for the default. */
  pollIntervalMs?: number;
  /** Directory of the built session viewer served at /ui, or undefined for none (--no-ui). */
  uiDir?: string;
  /** Periodic purge (--retention): what to delete and how often. */
  retention?: { rule: PurgeRule; intervalMs: number };
  /** Export spans over OTLP/HTTP to this collector (--otlp-endpoint). */
  otlpEndpoint?: string;
  /** Connection timeouts and caps (--handshake-timeout-ms, …); defaults where absent. */
  connectionLimits: Partial<ConnectionLimits>;
}

/** The connection flags and the limit each sets; each takes a positive integer. */
const CONNECTION_FLAGS: readonly (Flag & { limit: keyof ConnectionLimits })[] = [
  { name: "handshake-timeout-ms", value: "N", env: "SESSIOND_HANDSHAKE_TIMEOUT_MS", limit: "handshakeTimeoutMs", help: "close a connection that sends no complete first bytes or\nTLS handshake within N ms (default 10000)" },
  { name: "headers-timeout-ms", value: "N", env: "SESSIOND_HEADERS_TIMEOUT_MS", limit: "headersTimeoutMs", help: "HTTP/1.1: close a request whose headers take longer than\nN ms (default 20000)" },
  { name: "keep-alive-timeout-ms", value: "N", env: "SESSIOND_KEEP_ALIVE_TIMEOUT_MS", limit: "keepAliveTimeoutMs", help: "HTTP/1.1: close an idle keep-alive connection after N ms\n(default 5000)" },
  { name: "idle-timeout-ms", value: "N", env: "SESSIOND_IDLE_TIMEOUT_MS", limit: "idleTimeoutMs", help: "HTTP/2: GOAWAY a session with no open stream after N ms\n(default 300000)" },
  { name: "max-concurrent-streams", value: "N", env: "SESSIOND_MAX_CONCURRENT_STREAMS", limit: "maxConcurrentStreams", help: "HTTP/2: streams per connection (default 256)" },
  { name: "max-connections", value: "N", env: "SESSIOND_MAX_CONNECTIONS", limit: "maxConnections", help: "open connections at most (default 10000)" },
  { name: "max-resets-per-10s", value: "N", env: "SESSIOND_MAX_RESETS_PER_10S", limit: "maxResetsPer10s", help: "HTTP/2: GOAWAY a connection whose client resets more\nstreams in 10 s (default 200)" },
];

/** The flags of `sessiond serve`, each with its environment variable. */
export const SERVE_FLAGS: readonly Flag[] = [
  { name: "store", value: "URL", env: "SESSIOND_STORE", help: `memory:, sqlite:<path> (default ${DEFAULT_STORE_URL}),\npostgres://…, mysql://…, redis://…` },
  { name: "host", value: "HOST", env: "SESSIOND_HOST", help: "bind address (default 127.0.0.1)" },
  { name: "port", value: "N", env: "SESSIOND_PORT", help: "port (default: env PORT, else 50051; 0 picks a free one)" },
  { name: "cors-origin", value: "O", multiple: true, env: "SESSIOND_CORS_ORIGIN", help: "allow browser calls from origin O, or * (repeatable;\nthe variable is comma-separated)" },
  { name: "no-auto-migrate", env: "SESSIOND_AUTO_MIGRATE", help: "fail instead of creating or upgrading the schema" },
  { name: "store-connect-timeout", value: "D", env: "SESSIOND_STORE_CONNECT_TIMEOUT", help: "keep retrying an unreachable store at start for D\n(default 60s; 0: fail at once)" },
  { name: "drain-seconds", value: "N", env: "SESSIOND_DRAIN_SECONDS", help: "grace period for in-flight calls on SIGTERM (default 10)" },
  { name: "auth-keys", value: "FILE", env: "SESSIOND_AUTH_KEYS_FILE", help: 'API keys (JSON); keys can also come from env\nSESSIOND_API_KEYS ("KEY:APP1,APP2:ROLE;…")' },
  { name: "insecure", env: "SESSIOND_INSECURE", help: "serve a non-loopback address without API keys" },
  { name: "tls-cert", value: "FILE", env: "SESSIOND_TLS_CERT", help: "serve HTTPS with this PEM certificate" },
  { name: "tls-key", value: "FILE", env: "SESSIOND_TLS_KEY", help: "and this PEM private key" },
  { name: "no-metrics", env: "SESSIOND_METRICS", help: "do not serve /metrics" },
  { name: "log-level", value: "LEVEL", env: "SESSIOND_LOG_LEVEL", help: `${LOG_LEVELS.join(", ")} or silent (default info)` },
  { name: "log-level-key", value: "KEY", env: "SESSIOND_LOG_LEVEL_KEY", help: 'the level\'s field in log lines: "level" (default; info, warn, …)\nor "severity" (Google Cloud names: INFO, WARNING, …)' },
  { name: "otlp-endpoint", value: "URL", env: "SESSIOND_OTLP_ENDPOINT", help: "export traces over OTLP/HTTP to this collector,\ne.g. http://127.0.0.1:4318 (default: no export)" },
  { name: "retention", value: "D", env: "SESSIOND_RETENTION", help: "purge sessions not updated for D (30d, 12h, 90m) periodically" },
  { name: "retention-status", value: "S", env: "SESSIOND_RETENTION_STATUS", help: "only purge sessions in status S (active, completed, failed)" },
  { name: "retention-interval", value: "D", env: "SESSIOND_RETENTION_INTERVAL", help: "how often the retention purge runs (default 1h)" },
  { name: "ui-dir", value: "DIR", env: "SESSIOND_UI_DIR", help: "built session viewer served at /ui (default dist/ui)" },
  { name: "no-ui", env: "SESSIOND_UI", help: "do not serve /ui" },
  { name: "compress-responses", env: "SESSIOND_COMPRESS_RESPONSES", help: "gzip or brotli responses of 1 KiB and more for clients\nthat accept it" },
  { name: "no-grpc-fast-path", env: "SESSIOND_GRPC_FAST_PATH", help: "serve gRPC unary calls through connect-node's request\nhandling too, not straight from the HTTP/2 stream" },
  { name: "poll-interval-ms", value: "N", env: "SESSIOND_POLL_INTERVAL_MS", help: "how often follow streams re-read the store without a\nwake-up (default 250, or 2000 for stores that notify)" },
  ...CONNECTION_FLAGS,
];

const DEFAULT_CONNECT_TIMEOUT = "60s";

/**
 * Reads flags, falling back to environment variables and defaults, and
 * validates all of them before anything is opened; throws a UsageError
 * for anything it cannot accept.
 */
export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const flags = parseFlags(SERVE_FLAGS, argv, env);
  const port = flags.string("port") === undefined && env.PORT ? { source: "PORT", text: env.PORT } : { source: flags.source("port"), text: flags.string("port") ?? "50051" };
  const config: ServeConfig = {
    storeUrl: flags.string("store") ?? DEFAULT_STORE_URL,
    host: flags.string("host") ?? "127.0.0.1",
    port: portOption(port.source, port.text),
    corsOrigins: flags.list("cors-origin"),
    autoMigrate: !flags.boolean("no-auto-migrate"),
    storeConnectTimeoutMs: connectTimeoutOf(flags),
    drainMs: integerOption(flags.source("drain-seconds"), flags.string("drain-seconds") ?? "10") * 1000,
    authKeysFile: flags.string("auth-keys"),
    apiKeys: env.SESSIOND_API_KEYS || undefined,
    insecure: flags.boolean("insecure"),
    tlsCertFile: flags.string("tls-cert"),
    tlsKeyFile: flags.string("tls-key"),
    metrics: !flags.boolean("no-metrics"),
    logLevel: oneOf(flags, "log-level", [...LOG_LEVELS, "silent"]) ?? "info",
    logLevelKey: (oneOf(flags, "log-level-key", LOG_LEVEL_KEYS) ?? "level") as LogLevelKey,
    compressResponses: flags.boolean("compress-responses"),
    grpcFastPath: !flags.boolean("no-grpc-fast-path"),
    pollIntervalMs: pollIntervalOf(flags),
    uiDir: flags.boolean("no-ui") ? undefined : (flags.string("ui-dir") ?? defaultUiRoot()),
    retention: retentionOf(flags),
    otlpEndpoint: httpUrlOf(flags, "otlp-endpoint"),
    connectionLimits: connectionLimitsOf(flags),
  };
  if (!config.tlsCertFile !== !config.tlsKeyFile) throw new UsageError("--tls-cert and --tls-key must be given together");
  return config;
}

function oneOf(flags: ParsedFlags, name: string, allowed: readonly string[]): string | undefined {
  const value = flags.string(name);
  if (value !== undefined && !allowed.includes(value)) {
    throw new UsageError(`${flags.source(name)} must be one of ${allowed.join(", ")}, not ${JSON.stringify(value)}`);
  }
  return value;
}

function httpUrlOf(flags: ParsedFlags, name: string): string | undefined {
  const text = flags.string(name);
  if (text === undefined) return undefined;
  if (!URL.canParse(text) || !["http:", "https:"].includes(new URL(text).protocol)) {
    throw new UsageError(`${flags.source(name)} must be an http:// or https:// URL, not ${JSON.stringify(text)}`);
  }
  return text;
}

function connectTimeoutOf(flags: ParsedFlags): number {
  const text = flags.string("store-connect-timeout") ?? DEFAULT_CONNECT_TIMEOUT;
  return text.trim() === "0" ? 0 : asUsage(() => parseDuration(flags.source("store-connect-timeout"), text));
}

function connectionLimitsOf(flags: ParsedFlags): Partial<ConnectionLimits> {
  const limits: Partial<ConnectionLimits> = {};
  for (const { name, limit } of CONNECTION_FLAGS) {
    const raw = flags.string(name);
    if (raw === undefined) continue;
    const n = integerOption(flags.source(name), raw);
    if (n === 0) throw new UsageError(`${flags.source(name)} must be at least 1`);
    limits[limit] = n;
  }
  return limits;
}

function pollIntervalOf(flags: ParsedFlags): number | undefined {
  const raw = flags.string("poll-interval-ms");
  if (raw === undefined) return undefined;
  const ms = integerOption(flags.source("poll-interval-ms"), raw);
  // 0 would re-read the store in a busy loop.
  if (ms === 0) throw new UsageError(`${flags.source("poll-interval-ms")} must be at least 1`);
  return ms;
}

/** The retention settings: a purge rule and how often to apply it, or undefined without --retention. */
function retentionOf(flags: ParsedFlags): ServeConfig["retention"] {
  const [olderThan, status, interval] = ["retention", "retention-status", "retention-interval"].map((n) => flags.string(n));
  if (olderThan === undefined) {
    if (status !== undefined || interval !== undefined) throw new UsageError("--retention-status and --retention-interval need --retention");
    return undefined;
  }
  return asUsage(() => ({
    rule: { olderThanMs: parseDuration(flags.source("retention"), olderThan), status: statusOption(flags.source("retention-status"), status) },
    intervalMs: parseDuration(flags.source("retention-interval"), interval ?? "1h"),
  }));
}
