import { EXPORT_FLAGS, exportCommand } from "./commands/export.js";
import { type Flag, helpText, UsageError, wantsHelp } from "./commands/flags.js";
import { IMPORT_FLAGS, importCommand } from "./commands/import.js";
import { MIGRATE_FLAGS, migrateCommand } from "./commands/migrate.js";
import { PURGE_FLAGS, purgeCommand } from "./commands/purge.js";
import { parseServeArgs, SERVE_FLAGS } from "./commands/serve-config.js";
import { packageVersion } from "./ops/version.js";

interface Command {
  summary: string;
  flags: readonly Flag[];
  /** Printed after the options in --help. */
  notes?: string;
  run(argv: string[]): Promise<void>;
}

const commands: Record<string, Command> = {
  serve: {
    summary: "Serve the API (gRPC, gRPC-Web, Connect) on one port, with /healthz, /readyz and /metrics.",
    flags: SERVE_FLAGS,
    notes: "\nEvery option can also be set by its environment variable; the flag wins. Booleans accept\ntrue/false, 1/0, yes/no. PORT is read when neither --port nor SESSIOND_PORT is set.\n",
    // The server and its dependencies load only when it runs, so --help and --version answer fast.
    run: async (a) => {
      const config = parseServeArgs(a);
      await (await import("./commands/serve.js")).serve(config);
    },
  },
  migrate: { summary: "Create or upgrade the schema of --store, or copy one store into another, then exit.", flags: MIGRATE_FLAGS, run: (a) => migrateCommand(a) },
  export: { summary: "Write a store as NDJSON.", flags: EXPORT_FLAGS, run: (a) => exportCommand(a) },
  import: { summary: "Read an NDJSON export into a store (skips what it already holds).", flags: IMPORT_FLAGS, run: (a) => importCommand(a) },
  purge: { summary: "Delete sessions (and their events) not updated for a while.", flags: PURGE_FLAGS, run: (a) => purgeCommand(a) },
};

/** Exit statuses of every command. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

const EXIT_CODES = `Exit status: 0 success, 1 runtime failure (e.g. store unreachable), 2 usage error
(unknown command or option, invalid value).
`;

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length)) + 4;
  const list = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`).join("\n");
  return `Usage: sessiond <command> [options]

Commands:
${list}

Run "sessiond <command> --help" for its options; "sessiond --version" prints the version.
${EXIT_CODES}`;
}

/** Runs the command line; resolves when a one-shot command finished, setting process.exitCode. */
export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(usage());
    return;
  }
  if (name === "--version" || name === "-v" || name === "version") {
    process.stdout.write(`sessiond ${packageVersion()}\n`);
    return;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    process.stderr.write(`sessiond: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    process.exitCode = EXIT_USAGE;
    return;
  }
  if (wantsHelp(rest)) {
    process.stdout.write(helpText(`sessiond ${name} [options]`, command.summary, command.flags, (command.notes ?? "") + `\n${EXIT_CODES}`));
    return;
  }
  try {
    await command.run(rest);
  } catch (error) {
    const usageError = error instanceof UsageError;
    process.stderr.write(`sessiond ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    if (usageError) process.stderr.write(`Run "sessiond ${name} --help" for usage.\n`);
    process.exitCode = usageError ? EXIT_USAGE : EXIT_FAILURE;
  }
}
