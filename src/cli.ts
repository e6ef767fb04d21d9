import { migrateCommand } from "./commands/migrate.js";
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
            --poll-interval-ms N how often follow streams re-read the store without a
                                 wake-up (default 250, or 2000 for stores that notify;
                                 env SESSIOND_POLL_INTERVAL_MS)
  migrate   Create or upgrade the schema of --store, then exit
`;

const commands: Record<string, (argv: string[]) => Promise<void>> = {
  serve: serveCommand,
  migrate: migrateCommand,
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
