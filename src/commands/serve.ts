import { readFile } from "node:fs/promises";
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
import { type RejectedCall, type SessiondServer, startServer } from "../server.js";
import { startOtlpExport } from "../ops/otlp.js";
import { probeRoutes } from "../ops/probes.js";
import { connectStore } from "../ops/store-connect.js";
import { tracingInterceptor } from "../ops/tracing.js";
import type { Store } from "../stores/store.js";
import { tracedStore } from "../stores/traced-store.js";
import { startRetention } from "../transfer/retention.js";
import { isBuilt, staticRoutes } from "../ui/static-route.js";
import type { ServeConfig } from "./serve-config.js";

export { parseServeArgs, type ServeConfig, SERVE_FLAGS } from "./serve-config.js";

/** Services anyone may call, with or without a key: probes and tooling need them. */
const OPEN_SERVICES = [Health.typeName, ReflectionV1.typeName, ReflectionV1alpha.typeName];

/** A running sessiond: the server and what runs beside it. */
export interface Sessiond {
  readonly server: SessiondServer;
  readonly logger: Logger;
  /** Reports NOT_SERVING, then drains the server and closes the store. */
  close(graceMs?: number): Promise<void>;
}

/** What the caller of startSessiond may supply besides the config. */
export interface StartOptions {
  /** Where log lines go when no logger is given (default stdout). */
  logDestination?: DestinationStream;
  logger?: Logger;
  /** Aborts a start that is still waiting for the store. */
  signal?: AbortSignal;
}

/**
 * Starts the server with health, reflection, auth, metrics and request logs.
 * Refuses (before opening anything) to serve a non-loopback address without
 * API keys unless `insecure` is set.
 */
export async function startSessiond(config: ServeConfig, options: StartOptions = {}): Promise<Sessiond> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, levelKey: config.logLevelKey, destination: options.logDestination });
  const keys = await loadApiKeys({ file: config.authKeysFile, env: config.apiKeys });
  checkBindPolicy({ host: config.host, keyCount: keys.size, insecure: config.insecure });
  const tls = config.tlsCertFile && config.tlsKeyFile
    ? { cert: await readFile(config.tlsCertFile), key: await readFile(config.tlsKeyFile) }
    : undefined;

  const tracing = config.otlpEndpoint === undefined ? undefined : await startOtlpExport(config.otlpEndpoint);
  const metrics = config.metrics ? new ServerMetrics() : undefined;
  // Without --no-auto-migrate the URL's own auto_migrate (default true) decides.
  let opened: Store;
  try {
    opened = await connectStore(config.storeUrl, {
      autoMigrate: config.autoMigrate ? undefined : false,
      timeoutMs: config.storeConnectTimeoutMs,
      signal: options.signal,
      onRetry: (error, attempt, delayMs) => logger.warn({ attempt, retry_in_ms: delayMs, error: errorMessage(error) }, "store unreachable at start; retrying"),
    });
  } catch (error) {
    await tracing?.shutdown();
    throw error;
  }
  const store = tracedStore(metrics ? metrics.instrumentStore(opened) : opened);
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
      grpcFastPath: config.grpcFastPath,
      connectionLimits: config.connectionLimits,
      tls,
      contextValues: requestIdContext,
      onRejectedCall: rejectedCalls(rejectedCallLog(logger), metrics),
      interceptors: [
        // Outermost: the span covers the whole call, and the request log reads its trace id.
        tracingInterceptor(),
        requestLogInterceptor(logger),
        ...(metrics ? [metrics.interceptor()] : []),
        ...(keys.size > 0 ? [authInterceptor(keys, OPEN_SERVICES)] : []),
      ],
      services(router) {
        router.service(Health, healthService(health));
        reflectionServices([SessionService, Health])(router);
      },
      httpRoutes: [...probeRoutes(health), ...(metrics ? [metrics.route()] : []), ...(config.uiDir ? staticRoutes({ root: config.uiDir }) : [])],
    });
  } catch (error) {
    health.stop();
    await store.close();
    await tracing?.shutdown();
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
      await tracing?.shutdown();
    },
  };
}

/** `sessiond serve`: runs the server until SIGINT or SIGTERM, then drains. */
export async function serve(config: ServeConfig): Promise<void> {
  const logger = createLogger({ level: config.logLevel, levelKey: config.logLevelKey });
  // Signal handlers go in before anything opens: a signal that arrives during
  // start-up must still lead to an orderly stop, not Node's default exit.
  let sessiond: Sessiond | undefined;
  let signal: string | undefined;
  const starting = new AbortController();
  const drain = (running: Sessiond) => {
    logger.info({ signal }, "draining");
    const exit = (code: number) => process.exit(code);
    running.close(config.drainMs).then(
      () => {
        logger.info("stopped");
        exit(0);
      },
      (error) => {
        logger.error({ error: String(error) }, "shutdown failed");
        exit(1);
      },
    );
  };
  const onSignal = (name: string) => {
    if (signal) return;
    signal = name;
    if (sessiond) drain(sessiond);
    else starting.abort();
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  try {
    sessiond = await startSessiond(config, { logger, signal: starting.signal });
  } catch (error) {
    if (starting.signal.aborted) {
      logger.info({ signal }, "stopped before the store was reachable");
      return;
    }
    // Start-up failures are log lines like the rest, so collectors keep them.
    logger.fatal({ error: errorMessage(error) }, "start-up failed");
    process.exitCode = 1;
    return;
  }
  if (signal) drain(sessiond);
}

function rejectedCalls(log: (call: RejectedCall) => void, metrics: ServerMetrics | undefined) {
  return (call: RejectedCall) => {
    log(call);
    metrics?.countRejected(call);
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
