import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { DestinationStream, Logger } from "pino";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ServerReflection as ReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import { loadApiKeys } from "../auth/api-keys.js";
import { authInterceptor } from "../auth/auth-interceptor.js";
import { checkBindPolicy, isLoopback } from "../auth/bind-policy.js";
import { HealthMonitor, healthService } from "../ops/health.js";
import { createLogger, serverLogger } from "../ops/logger.js";
import { ServerMetrics } from "../ops/metrics.js";
import { reflectionServices } from "../ops/reflection.js";
import { rejectedCallLog, requestIdContext, requestLogInterceptor } from "../ops/request-log.js";
import { type ConnectionLimits, type RejectedCall, type SessiondServer, startServer } from "../server.js";
import { DEFAULT_STORE_URL, openStore } from "../stores/open.js";
import { parseDuration } from "../transfer/duration.js";
import type { PurgeRule } from "../transfer/purge.js";
import { startRetention } from "../transfer/retention.js";
import { defaultUiRoot, isBuilt, staticRoutes } from "../ui/static-route.js";
import { statusOption } from "./io.js";

/** Everything `sessiond serve` is told by flags and environment. */
export interface ServeConfig {
  storeUrl: string;
  host: string;
  port: number;
  corsOrigins: string[];
  autoMigrate: boolean;
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
  /** Compress responses for clients that accept it (--compress-responses). */
  compressResponses: boolean;
  /** Follow streams' re-read interval without a wake-up (--poll-interval-ms); undefined for the default. */
  pollIntervalMs?: number;
  /** Directory of the built session viewer served at /ui, or undefined for none (--no-ui). */
  uiDir?: string;
  /** Connection timeouts and caps (--handshake-timeout-ms, …); defaults where absent. */
  connectionLimits: Partial<ConnectionLimits>;
  /** Periodic purge (--retention): what to delete and how often. */
  retention?: { rule: PurgeRule; intervalMs: number };
}

/** The connection flags: flag, environment variable, the limit it sets. Each takes a positive integer. */
const CONNECTION_FLAGS: readonly [string, string, keyof ConnectionLimits][] = [
  ["handshake-timeout-ms", "SESSIOND_HANDSHAKE_TIMEOUT_MS", "handshakeTimeoutMs"],
  ["headers-timeout-ms", "SESSIOND_HEADERS_TIMEOUT_MS", "headersTimeoutMs"],
  ["keep-alive-timeout-ms", "SESSIOND_KEEP_ALIVE_TIMEOUT_MS", "keepAliveTimeoutMs"],
  ["idle-timeout-ms", "SESSIOND_IDLE_TIMEOUT_MS", "idleTimeoutMs"],
  ["max-concurrent-streams", "SESSIOND_MAX_CONCURRENT_STREAMS", "maxConcurrentStreams"],
  ["max-connections", "SESSIOND_MAX_CONNECTIONS", "maxConnections"],
  ["max-resets-per-10s", "SESSIOND_MAX_RESETS_PER_10S", "maxResetsPer10s"],
];

/** Services anyone may call, with or without a key: probes and tooling need them. */
const OPEN_SERVICES = [Health.typeName, ReflectionV1.typeName, ReflectionV1alpha.typeName];

/** Reads flags, falling back to environment variables and defaults. */
export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      store: { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      "cors-origin": { type: "string", multiple: true },
      "no-auto-migrate": { type: "boolean" },
      "drain-seconds": { type: "string" },
      "auth-keys": { type: "string" },
      insecure: { type: "boolean" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "no-metrics": { type: "boolean" },
      "log-level": { type: "string" },
      "ui-dir": { type: "string" },
      "no-ui": { type: "boolean" },
      "poll-interval-ms": { type: "string" },
      "compress-responses": { type: "boolean" },
      retention: { type: "string" },
      "retention-status": { type: "string" },
      "retention-interval": { type: "string" },
      ...Object.fromEntries(CONNECTION_FLAGS.map(([flag]) => [flag, { type: "string" as const }])),
    },
    strict: true,
  });
  return {
    storeUrl: values.store ?? env.SESSIOND_STORE ?? DEFAULT_STORE_URL,
    host: values.host ?? env.SESSIOND_HOST ?? "127.0.0.1",
    port: integerOption("--port", values.port ?? env.SESSIOND_PORT ?? "50051"),
    corsOrigins: values["cors-origin"] ?? splitList(env.SESSIOND_CORS_ORIGIN),
    autoMigrate: !values["no-auto-migrate"],
    drainMs: integerOption("--drain-seconds", values["drain-seconds"] ?? "10") * 1000,
    authKeysFile: values["auth-keys"] ?? (env.SESSIOND_AUTH_KEYS_FILE || undefined),
    apiKeys: env.SESSIOND_API_KEYS || undefined,
    insecure: values.insecure ?? false,
    tlsCertFile: values["tls-cert"] ?? (env.SESSIOND_TLS_CERT || undefined),
    tlsKeyFile: values["tls-key"] ?? (env.SESSIOND_TLS_KEY || undefined),
    metrics: !values["no-metrics"] && env.SESSIOND_METRICS !== "false",
    logLevel: values["log-level"] ?? env.SESSIOND_LOG_LEVEL ?? "info",
    compressResponses: values["compress-responses"] ?? env.SESSIOND_COMPRESS_RESPONSES === "true",
    pollIntervalMs: pollIntervalOf(values["poll-interval-ms"] ?? env.SESSIOND_POLL_INTERVAL_MS),
    uiDir: values["no-ui"] ? undefined : (values["ui-dir"] ?? env.SESSIOND_UI_DIR ?? defaultUiRoot()),
    retention: retentionOf(values),
    connectionLimits: connectionLimitsOf(values as Record<string, string | undefined>, env),
  };
}

/** A running sessiond: the server and what runs beside it. */
export interface Sessiond {
  readonly server: SessiondServer;
  readonly logger: Logger;
  /** Reports NOT_SERVING, then drains the server and closes the store. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Starts the server with health, reflection, auth, metrics and request logs.
 * Refuses (before opening anything) to serve a non-loopback address without
 * API keys unless `insecure` is set.
 */
export async function startSessiond(config: ServeConfig, options: { logDestination?: DestinationStream } = {}): Promise<Sessiond> {
  const logger = createLogger({ level: config.logLevel, destination: options.logDestination });
  const keys = await loadApiKeys({ file: config.authKeysFile, env: config.apiKeys });
  checkBindPolicy({ host: config.host, keyCount: keys.size, insecure: config.insecure });
  if (!config.tlsCertFile !== !config.tlsKeyFile) throw new Error("--tls-cert and --tls-key must be given together");
  const tls = config.tlsCertFile && config.tlsKeyFile
    ? { cert: await readFile(config.tlsCertFile), key: await readFile(config.tlsKeyFile) }
    : undefined;

  const metrics = config.metrics ? new ServerMetrics() : undefined;
  // Without --no-auto-migrate the URL's own auto_migrate (default true) decides.
  const opened = await openStore(config.storeUrl, { autoMigrate: config.autoMigrate ? undefined : false });
  const store = metrics ? metrics.instrumentStore(opened) : opened;
  const health = new HealthMonitor({
    store,
    services: [SessionService.typeName],
    onChange: (serving, error) => {
      if (serving) logger.info({ store: store.kind }, "store reachable");
      else if (error !== undefined) logger.error({ store: store.kind, error: String(error) }, "store unreachable");
    },
  });
  metrics?.reportStoreUp(() => health.isServing);
  let server: SessiondServer;
  try {
    await health.start();
    server = await startServer({
      store,
      host: config.host,
      port: config.port,
      corsOrigins: config.corsOrigins,
      logger: serverLogger(logger),
      pollIntervalMs: config.pollIntervalMs,
      compressResponses: config.compressResponses,
      connectionLimits: config.connectionLimits,
      tls,
      contextValues: requestIdContext,
      onRejectedCall: rejectedCalls(rejectedCallLog(logger), metrics),
      interceptors: [
        requestLogInterceptor(logger),
        ...(metrics ? [metrics.interceptor()] : []),
        ...(keys.size > 0 ? [authInterceptor(keys, OPEN_SERVICES)] : []),
      ],
      services(router) {
        router.service(Health, healthService(health));
        reflectionServices([SessionService, Health])(router);
      },
      httpRoutes: [...(metrics ? [metrics.route()] : []), ...(config.uiDir ? staticRoutes({ root: config.uiDir }) : [])],
    });
  } catch (error) {
    health.stop();
    await store.close();
    throw error;
  }
  if (keys.size === 0 && !isLoopback(config.host)) logger.warn({ host: config.host }, "serving without authentication (--insecure)");
  logger.info({ url: server.url, store: store.kind, auth: keys.size > 0, metrics: Boolean(metrics) }, "serving");
  metrics?.reportFollowers(() => server.followStats().followers);
  if (config.uiDir) {
    if (isBuilt(config.uiDir)) logger.info({ url: `${server.url}/ui/` }, "session viewer");
    else logger.info({ dir: config.uiDir }, "session viewer not built; /ui answers 404");
  }
  const retention = config.retention && startRetention(store, config.retention.rule, config.retention.intervalMs, serverLogger(logger));
  return {
    server,
    logger,
    async close(graceMs) {
      // A retention purge in progress finishes before the store closes.
      await retention?.stop();
      health.stop();
      await server.close(graceMs);
    },
  };
}

/** `sessiond serve`: runs the server until SIGINT or SIGTERM, then drains. */
export async function serveCommand(argv: string[]): Promise<void> {
  const config = parseServeArgs(argv);
  // Signal handlers go in before anything opens: a signal that arrives during
  // start-up must still lead to an orderly stop, not Node's default exit.
  let sessiond: Sessiond | undefined;
  let signal: string | undefined;
  const drain = (running: Sessiond) => {
    running.logger.info({ signal }, "draining");
    const exit = (code: number) => process.exit(code);
    running.close(config.drainMs).then(
      () => {
        running.logger.info("stopped");
        exit(0);
      },
      (error) => {
        running.logger.error({ error: String(error) }, "shutdown failed");
        exit(1);
      },
    );
  };
  const onSignal = (name: string) => {
    if (signal) return;
    signal = name;
    if (sessiond) drain(sessiond);
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  sessiond = await startSessiond(config);
  if (signal) drain(sessiond);
}

function rejectedCalls(log: (call: RejectedCall) => void, metrics: ServerMetrics | undefined) {
  return (call: RejectedCall) => {
    log(call);
    metrics?.countRejected(call);
  };
}

/** Parses a non-negative integer flag or exits with a message naming it. */
export function integerOption(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, not ${JSON.stringify(value)}`);
  return n;
}

function connectionLimitsOf(values: Record<string, string | undefined>, env: NodeJS.ProcessEnv): Partial<ConnectionLimits> {
  const limits: Partial<ConnectionLimits> = {};
  for (const [flag, variable, limit] of CONNECTION_FLAGS) {
    const raw = values[flag] ?? env[variable];
    if (raw === undefined) continue;
    const n = integerOption(`--${flag}`, raw);
    if (n === 0) throw new Error(`--${flag} must be at least 1`);
    limits[limit] = n;
  }
  return limits;
}

function pollIntervalOf(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const ms = integerOption("--poll-interval-ms", raw);
  // 0 would re-read the store in a busy loop.
  if (ms === 0) throw new Error("--poll-interval-ms must be at least 1");
  return ms;
}

/** The retention flags: a purge rule and how often to apply it, or undefined without --retention. */
function retentionOf(values: { retention?: string; "retention-status"?: string; "retention-interval"?: string }) {
  if (values.retention === undefined) {
    if (values["retention-status"] !== undefined || values["retention-interval"] !== undefined) {
      throw new Error("--retention-status and --retention-interval need --retention");
    }
    return undefined;
  }
  const rule: PurgeRule = {
    olderThanMs: parseDuration("--retention", values.retention),
    status: statusOption("--retention-status", values["retention-status"]),
  };
  return { rule, intervalMs: parseDuration("--retention-interval", values["retention-interval"] ?? "1h") };
}

function splitList(value: string | undefined): string[] {
  return value ? value.split(",").map((s) => s.trim()).filter(Boolean) : [];
}
