import { DEFAULT_STORE_URL, openStore } from "../stores/open.js";
import { parseDuration } from "../transfer/duration.js";
import { countPurge, purge, type PurgeRule } from "../transfer/purge.js";
import { asUsage, type Flag, parseFlags, UsageError, withCommandEnv } from "./flags.js";
import { type CommandIo, processIo, STORE_FLAG, statusOption } from "./io.js";

/** The flags of `sessiond purge`. */
export const PURGE_FLAGS: readonly Flag[] = withCommandEnv("purge", [
  STORE_FLAG,
  { name: "older-than", value: "D", help: "delete sessions not updated for D (30d, 12h, 90m; required)" },
  { name: "status", value: "S", help: "only sessions in status S (active, completed, failed)" },
  { name: "app", value: "A", help: "only sessions of app A" },
  { name: "dry-run", help: "count only" },
]);

/** `sessiond purge`: deletes sessions not updated for a while, optionally by status and app. */
export async function purgeCommand(argv: string[], io: CommandIo = processIo(), env = process.env): Promise<void> {
  const flags = parseFlags(PURGE_FLAGS, argv, env);
  const olderThan = flags.string("older-than");
  if (olderThan === undefined) throw new UsageError("--older-than is required, e.g. --older-than 30d");
  const rule: PurgeRule = {
    olderThanMs: asUsage(() => parseDuration(flags.source("older-than"), olderThan)),
    status: statusOption(flags.source("status"), flags.string("status")),
    appName: flags.string("app"),
  };
  const store = await openStore(flags.string("store") ?? DEFAULT_STORE_URL, { mustExist: true });
  try {
    const scope = `not updated for ${olderThan}${rule.status ? `, status ${rule.status}` : ""}${rule.appName ? `, app ${rule.appName}` : ""}`;
    if (flags.boolean("dry-run")) io.stdout.write(`would delete ${await countPurge(store, rule)} sessions (${scope})\n`);
    else io.stdout.write(`deleted ${await purge(store, rule)} sessions (${scope})\n`);
  } finally {
    await store.close();
  }
}
