import { pino, type Logger, type DestinationStream, type Level } from "pino";
import type { ServerLogger } from "../server.js";

/** The log levels `--log-level` accepts. */
export const LOG_LEVELS: readonly Level[] = ["fatal", "error", "warn", "info", "debug", "trace"];

/** A JSON-lines logger (pino) writing to `destination` (stdout by default). */
export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  const level = options.level ?? "info";
  if (!LOG_LEVELS.includes(level as Level) && level !== "silent") {
    throw new Error(`--log-level must be one of ${[...LOG_LEVELS, "silent"].join(", ")}, not ${JSON.stringify(level)}`);
  }
  return pino({ level, timestamp: pino.stdTimeFunctions.isoTime, base: { pid: process.pid } }, options.destination ?? pino.destination({ dest: 1, sync: true }));
}

/** The server's internal logger interface over pino. */
export function serverLogger(logger: Logger): ServerLogger {
  return {
    info: (message, fields) => logger.info(fields ?? {}, message),
    error: (message, fields) => logger.error(fields ?? {}, message),
  };
}
