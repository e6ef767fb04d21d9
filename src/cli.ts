import { exportCommand } from "./commands/export.js";
import { importCommand } from "./commands/import.js";
import { migrateCommand } from "./commands/migrate.js";
import { purgeCommand } from "./commands/purge.js";
import { serveCommand } from "./commands/serve.js";

const USAGE = `Usage: sessiond <command> [options]

Commands:
  serve     Serve the API (gRPC, gRPC-Web, Connect) on one port
            --store URL          memory:, sqlite:<path> (default sqlite:./sessiond.db),
                                 postgres://…, mysql://…, redis://… (env SESSIOND_STORE)
            --host HOST          bind address (default 127.0.0.1; env SESSIOND_HOST)
            --port N             port (default 50051; env SESSIOND_PORT)
            --cors-origin O      allow browser calls from origin O, or * (repeatable;
                                 env SESSIOND_CORS_ORIGIN, comma-separated)
            --no-auto-migrate    fail instead of creating or upgrading the schema
            --drain-seconds N    grace period for in-flight calls on SIGTERM (default 10)
            --auth-keys FILE     API keys (JSON); also env SESSIOND_AUTH_KEYS_FILE and
                                 SESSIOND_API_KEYS ("KEY:APP1,APP2:ROLE;…")
            --insecure           serve a non-loopback address without API keys
            --tls-cert FILE      serve HTTPS with this PEM certificate (env SESSIOND_TLS_CERT)
            --tls-key FILE       and this PEM private key (env SESSIOND_TLS_KEY)
            --no-metrics         do not serve /metrics (env SESSIOND_METRICS=false)
            --log-level LEVEL    fatal, error, warn, info (default), debug, trace, silent
                                 (env SESSIOND_LOG_LEVEL)
            --retention D        purge sessions not updated for D (30d, 12h, 90m) periodically
            --retention-status S only purge sessions in status S (active, completed, failed)
            --retention-interval D  how often the retention purge runs (default 1h)
            --ui-dir DIR         built session viewer served at /ui (default dist/ui;
                                 env SESSIOND_UI_DIR)
            --no-ui              do not serve /ui
            --compress-responses gzip or brotli responses of 1 KiB and more for clients
                                 that accept it (env SESSIOND_COMPRESS_RESPONSES=true)
            --poll-interval-ms N how often follow streams re-read the store without a
                                 wake-up (default 250, or 2000 for stores that notify;
                                 env SESSIOND_POLL_INTERVAL_MS)
  migrate   Create or upgrade the schema of --store, then exit
            --from URL --to URL  also copy sessions, events and shared state between stores;
                                 rerun to resume after an interruption
            --checkpoint FILE    remember the last copied session in FILE
            --limit N            stop after N sessions (continue with the next run)
  export    Write a store as NDJSON
            --store URL  --app A (only this app)  --out FILE|- (default -: stdout)
  import    Read an NDJSON export into a store (skips what it already holds)
            --store URL  --in FILE|- (default -: stdin)
  purge     Delete sessions (and their events) not updated for a while
            --store URL  --older-than D (30d, 12h, 90m; required)
            --status S  --app A  --dry-run (count only)
`;

const commands: Record<string, (argv: string[]) => Promise<void>> = {
  serve: serveCommand,
  migrate: migrateCommand,
  export: exportCommand,
  import: importCommand,
  purge: purgeCommand,
};

/** Runs the command line; resolves when a one-shot command finished. */
export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(USAGE);
    return;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`sessiond: unknown command ${JSON.stringify(name)}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  try {
    await command(rest);
  } catch (error) {
    process.stderr.write(`sessiond ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
