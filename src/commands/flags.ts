import { parseArgs } from "node:util";

/** A mistake in how a command was called: exits with status 2 and a pointer to `--help`. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** One command-line flag, its environment variable and its help line. */
export interface Flag {
  /** Without dashes, e.g. "port"; boolean flags that turn something off start with "no-". */
  name: string;
  /** Placeholder of the value in help (e.g. "N"); absent for boolean flags. */
  value?: string;
  /** May be given more than once; its environment variable is comma-separated. */
  multiple?: boolean;
  /**
   * The environment variable used when the flag is absent. For a "no-x" flag
   * the variable holds the positive setting: SESSIOND_X=false means --no-x.
   */
  env?: string;
  help: string;
}

/** What a command was told: flag values with environment fallbacks applied. */
export interface ParsedFlags {
  /** The string value of a flag or its environment variable. */
  string(name: string): string | undefined;
  /** The values of a repeatable flag, or its comma-separated environment variable. */
  list(name: string): string[];
  /** Whether a boolean flag is on, by the flag or its environment variable. */
  boolean(name: string): boolean;
  /** How the user set `name`, for messages: "--port" or "SESSIOND_PORT". */
  source(name: string): string;
}

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

/** A boolean setting: true/false, 1/0, yes/no (any case); a UsageError naming `source` otherwise. */
function parseBoolean(source: string, text: string): boolean {
  const value = text.trim().toLowerCase();
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw new UsageError(`${source} must be true or false (also 1/0, yes/no), not ${JSON.stringify(text)}`);
}

/** Whether the arguments ask for help (-h or --help before any "--"). */
export function wantsHelp(argv: string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).some((a) => a === "-h" || a === "--help");
}

/**
 * Parses `argv` against `flags`, taking each absent flag from its
 * environment variable. Unknown flags, stray arguments and bad booleans
 * are UsageErrors.
 */
export function parseFlags(flags: readonly Flag[], argv: string[], env: NodeJS.ProcessEnv): ParsedFlags {
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean }> = {};
  for (const flag of flags) options[flag.name] = flag.multiple ? { type: "string", multiple: true } : { type: flag.value ? "string" : "boolean" };
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const byName = new Map(flags.map((f) => [f.name, f]));
  const envOf = (name: string) => {
    const variable = byName.get(name)?.env;
    const text = variable === undefined ? undefined : env[variable];
    return text === undefined || text === "" ? undefined : text;
  };
  return {
    string: (name) => (values[name] as string | undefined) ?? envOf(name),
    list(name) {
      if (values[name] !== undefined) return values[name] as string[];
      return (envOf(name) ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    },
    boolean(name) {
      if (values[name]) return true;
      const text = envOf(name);
      if (text === undefined) return false;
      const on = parseBoolean(byName.get(name)!.env!, text);
      return name.startsWith("no-") ? !on : on;
    },
    source: (name) => (values[name] !== undefined || envOf(name) === undefined ? `--${name}` : byName.get(name)!.env!),
  };
}

/**
 * Gives every flag of a one-shot command without a variable of its own the
 * variable `SESSIOND_<COMMAND>_<FLAG>` (e.g. SESSIOND_PURGE_OLDER_THAN). The
 * command's name is part of it so that a variable set for one command, or
 * for the server, never changes what another command does.
 */
export function withCommandEnv(command: string, flags: readonly Flag[]): readonly Flag[] {
  const prefix = `SESSIOND_${command.toUpperCase()}_`;
  return flags.map((flag) => (flag.env ? flag : { ...flag, env: prefix + flag.name.toUpperCase().replaceAll("-", "_") }));
}

/** Help text of a command: usage line, summary and one entry per flag with its environment variable. */
export function helpText(usage: string, summary: string, flags: readonly Flag[], footer = ""): string {
  const heads = flags.map((f) => `  --${f.name}${f.value ? ` ${f.value}` : ""}`);
  const width = Math.min(30, Math.max(...heads.map((h) => h.length)) + 2);
  const lines = flags.map((flag, i) => {
    const head = heads[i]!;
    const pad = head.length < width ? head.padEnd(width) : `${head}\n${" ".repeat(width)}`;
    const env = flag.env ? `\n${" ".repeat(width)}(env ${flag.env}${flag.name.startsWith("no-") ? "=false" : ""})` : "";
    return `${pad}${flag.help.replaceAll("\n", `\n${" ".repeat(width)}`)}${env}`;
  });
  return `Usage: ${usage}\n\n${summary}\n\nOptions:\n${lines.join("\n")}\n  -h, --help${" ".repeat(Math.max(1, width - 12))}show this help\n${footer}`;
}

/** A non-negative integer setting, or a UsageError naming where it came from. */
export function integerOption(source: string, value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isSafeInteger(n) || n < 0) {
    throw new UsageError(`${source} must be a non-negative integer, not ${JSON.stringify(value)}`);
  }
  return n;
}

/** A TCP port (0 picks a free one), or a UsageError naming where it came from. */
export function portOption(source: string, value: string): number {
  const port = integerOption(source, value);
  if (port > 65535) throw new UsageError(`${source} must be a port from 0 to 65535, not ${JSON.stringify(value)}`);
  return port;
}

/** Runs `parse` and turns its plain errors (e.g. from shared parsers) into UsageErrors. */
export function asUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}
