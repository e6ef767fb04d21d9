import { parseArgs } from "node:util";
import { startServer } from "../server.js";
import { DEFAULT_STORE_URL, openStore } from "../stores/open.js";
import { jsonLogger } from "./logger.js";

/** `sessiond serve`: runs the server until SIGINT or SIGTERM, then drains. */
export async function serveCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      store: { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      "cors-origin": { type: "string", multiple: true },
      "no-auto-migrate": { type: "boolean" },
      "drain-seconds": { type: "string" },
      "poll-interval-ms": { type: "string" },
    },
    strict: true,
  });
  const env = process.env;
  const storeUrl = values.store ?? env.SESSIOND_STORE ?? DEFAULT_STORE_URL;
  const port = integerOption("--port", values.port ?? env.SESSIOND_PORT ?? "50051");
  const host = values.host ?? env.SESSIOND_HOST ?? "127.0.0.1";
  const corsOrigins = values["cors-origin"] ?? splitList(env.SESSIOND_CORS_ORIGIN);
  const drainMs = integerOption("--drain-seconds", values["drain-seconds"] ?? "10") * 1000;
  const pollRaw = values["poll-interval-ms"] ?? env.SESSIOND_POLL_INTERVAL_MS;
  const pollIntervalMs = pollRaw === undefined ? undefined : integerOption("--poll-interval-ms", pollRaw);
  if (pollIntervalMs === 0) throw new Error("--poll-interval-ms must be at least 1");
  const logger = jsonLogger();

  const store = await openStore(storeUrl, { autoMigrate: !values["no-auto-migrate"] });
  const server = await startServer({ store, host, port, corsOrigins, logger, pollIntervalMs });
  logger.info("serving", { url: server.url, store: store.kind });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("draining", { signal });
    server.close(drainMs).then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (error) => {
        logger.error("shutdown failed", { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

/** Parses a non-negative integer flag or exits with a message naming it. */
export function integerOption(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, not ${JSON.stringify(value)}`);
  return n;
}

function splitList(value: string | undefined): string[] {
  return value ? value.split(",").map((s) => s.trim()).filter(Boolean) : [];
}
