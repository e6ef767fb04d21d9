import { parseArgs } from "node:util";
import { startServer } from "../server.js";
import { DEFAULT_STORE_URL, openStore } from "../stores/open.js";
import { parseDuration } from "../transfer/duration.js";
import type { PurgeRule } from "../transfer/purge.js";
import { startRetention } from "../transfer/retention.js";
import { statusOption } from "./io.js";
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
      retention: { type: "string" },
      "retention-status": { type: "string" },
      "retention-interval": { type: "string" },
    },
    strict: true,
  });
  const env = process.env;
  const storeUrl = values.store ?? env.SESSIOND_STORE ?? DEFAULT_STORE_URL;
  const port = integerOption("--port", values.port ?? env.SESSIOND_PORT ?? "50051");
  const host = values.host ?? env.SESSIOND_HOST ?? "127.0.0.1";
  const corsOrigins = values["cors-origin"] ?? splitList(env.SESSIOND_CORS_ORIGIN);
  const drainMs = integerOption("--drain-seconds", values["drain-seconds"] ?? "10") * 1000;
  const logger = jsonLogger();
  const retentionRule = retentionOf(values);

  const store = await openStore(storeUrl, { autoMigrate: !values["no-auto-migrate"] });
  const server = await startServer({ store, host, port, corsOrigins, logger });
  logger.info("serving", { url: server.url, store: store.kind });
  const retention = retentionRule && startRetention(store, retentionRule.rule, retentionRule.intervalMs, logger);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("draining", { signal });
    // A retention purge in progress finishes before the store closes.
    const retentionStopped = retention ? retention.stop() : Promise.resolve();
    retentionStopped.then(() => server.close(drainMs)).then(
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
