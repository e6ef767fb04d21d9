import { DEFAULT_STORE_URL, openStore } from "../stores/open.js";
import type { Store } from "../stores/store.js";
import { copyStore } from "../transfer/copy.js";
import { progressFor } from "../transfer/progress.js";
import { type Flag, integerOption, parseFlags, UsageError, withCommandEnv } from "./flags.js";
import { type CommandIo, processIo, redactUrl, STORE_FLAG } from "./io.js";

/** The flags of `sessiond migrate`. */
export const MIGRATE_FLAGS: readonly Flag[] = withCommandEnv("migrate", [
  { ...STORE_FLAG, help: `create or upgrade this store's schema (default ${DEFAULT_STORE_URL})` },
  { name: "from", value: "URL", help: "copy sessions, events and shared state from this store…" },
  { name: "to", value: "URL", help: "…into this one; rerun to resume after an interruption" },
  { name: "checkpoint", value: "FILE", help: "remember the last copied session in FILE" },
  { name: "limit", value: "N", help: "stop after N sessions (continue with the next run)" },
]);

/**
 * `sessiond migrate`: with `--store`, creates or upgrades that store's
 * schema; with `--from` and `--to`, also copies every session, event and
 * shared state from one store to the other (resumable).
 */
export async function migrateCommand(argv: string[], io: CommandIo = processIo(), env = process.env): Promise<void> {
  const flags = parseFlags(MIGRATE_FLAGS, argv, env);
  const values = Object.fromEntries(["from", "to", "checkpoint", "limit"].map((n) => [n, flags.string(n)]));
  if (values.from === undefined && values.to === undefined) {
    if (values.checkpoint !== undefined || values.limit !== undefined) throw new UsageError("--checkpoint and --limit need --from and --to");
    const store = await openStore(flags.string("store") ?? DEFAULT_STORE_URL, { autoMigrate: true });
    await store.close();
    io.stdout.write(`schema of ${store.kind} store is up to date\n`);
    return;
  }
  // SESSIOND_STORE may be set for the server beside a copy; only the flag conflicts.
  if (flags.string("store") !== undefined && flags.source("store") === "--store") throw new UsageError("use --store alone (schema only), or --from and --to (copy)");
  if (values.from === undefined || values.to === undefined) throw new UsageError("--from and --to go together");
  if (values.from === values.to) throw new UsageError("--from and --to name the same store");
  const limit = values.limit === undefined ? undefined : integerOption(flags.source("limit"), values.limit);

  const stores: Store[] = [];
  const interrupted = new AbortController();
  const onSignal = () => interrupted.abort();
  process.once("SIGINT", onSignal);
  try {
    const from = await openStore(values.from, { mustExist: true });
    stores.push(from);
    const to = await openStore(values.to, { autoMigrate: true });
    stores.push(to);
    const result = await copyStore(from, to, {
      limit,
      checkpointFile: values.checkpoint,
      job: `${redactUrl(values.from)} -> ${redactUrl(values.to)}`,
      progress: progressFor(io.stdout, "migrate"),
      signal: interrupted.signal,
    });
    io.stdout.write(
      result.complete
        ? `copied ${result.sessions} sessions and ${result.events} events from ${from.kind} to ${to.kind}\n`
        : `stopped after ${result.sessions} sessions and ${result.events} events; run the same command again to continue\n`,
    );
  } finally {
    process.off("SIGINT", onSignal);
    await Promise.all(stores.map((s) => s.close()));
  }
}
