import { pino, type Logger, type DestinationStream, type Level } from "pino";
import type { ServerLogger } from "../server.js";
import { batchedDestination } from "./log-destination.js";

/** The log levels `--log-level` accepts. */
export const LOG_LEVELS: readonly Level[] = ["fatal", "error", "warn", "info", "debug", "trace"];

/** The fields a log line's level can be written to (`--log-level-key`). */
export const LOG_LEVEL_KEYS = ["level", "severity"] as const;
export type LogLevelKey = (typeof LOG_LEVEL_KEYS)[number];

// Google Cloud Logging reads `severity` with its own names; so do collectors configured for it.
const SEVERITY: Record<string, string> = {
  trace: "DEBUG",
  debug: "DEBUG",
  info: "INFO",
  warn: "WARNING",
  error: "ERROR",
  fatal: "CRITICAL",
};

/** How to log. */
export interface LoggerOptions {
  level?: string;
  /** "level" writes `"level":"info"`; "severity" writes `"severity":"INFO"`. */
  levelKey?: LogLevelKey;
  destination?: DestinationStream;
}

/** A JSON-lines logger (pino) writing to `destination` (stdout, in batches: see log-destination.ts, by default), levels as names. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? "info";
  if (!LOG_LEVELS.includes(level as Level) && level !== "silent") {
    throw new Error(`--log-level must be one of ${[...LOG_LEVELS, "silent"].join(", ")}, not ${JSON.stringify(level)}`);
  }
  const levelField = options.levelKey === "severity"
    ? (label: string) => ({ severity: SEVERITY[label] ?? "DEFAULT" })
    : (label: string) => ({ level: label });
  return pino(
    { level, timestamp: isoTime, base: { pid: process.pid }, formatters: { level: levelField } },
    options.destination ?? batchedDestination(),
  );
}

let stampedSecond = Number.NaN;
let secondPrefix = "";

/**
 * pino's `isoTime` (`,"time":"2026-01-02T03:04:05.678Z"`), with the part up
 * to the second formatted once a second rather than once a line.
 */
function isoTime(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== stampedSecond) {
    stampedSecond = second;
    secondPrefix = `,"time":"${new Date(second * 1000).toISOString().slice(0, -4)}`;
  }
  const ms = now - second * 1000;
  return `${secondPrefix}${ms < 10 ? "00" : ms < 100 ? "0" : ""}${ms}Z"`;
}

/** The server's internal logger interface over pino. */
export function serverLogger(logger: Logger): ServerLogger {
  return {
    info: (message, fields) => logger.info(fields ?? {}, message),
    error: (message, fields) => logger.error(fields ?? {}, message),
  };
}
