import { parseArgs } from "node:util";
import { DEFAULT_STORE_URL, openStore } from "../stores/open.js";
import type { Store } from "../stores/store.js";
import { copyStore } from "../transfer/copy.js";
import { progressFor } from "../transfer/progress.js";
import { integerOption } from "./serve.js";
import { type CommandIo, processIo, redactUrl } from "./io.js";

/**
 * `sessiond migrate`: with `--store`, creates or upgrades that store's
 * schema; with `--from` and `--to`, also copies every session, event and
 * shared state from one store to the other (resumable).
 */
export async function migrateCommand(argv: string[], io: CommandIo = processIo()): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      store: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      checkpoint: { type: "string" },
      limit: { type: "string" },
    },
    strict: true,
  });
  if (values.from === undefined && values.to === undefined) {
    if (values.checkpoint !== undefined || values.limit !== undefined) throw new Error("--checkpoint and --limit need --from and --to");
    const store = await openStore(values.store ?? process.env.SESSIOND_STORE ?? DEFAULT_STORE_URL, { autoMigrate: true });
    await store.close();
    io.stdout.write(`schema of ${store.kind} store is up to date\n`);
    return;
  }
  if (values.store !== undefined) throw new Error("use --store alone (schema only), or --from and --to (copy)");
  if (values.from === undefined || values.to === undefined) throw new Error("--from and --to go together");
  if (values.from === values.to) throw new Error("--from and --to name the same store");
  const limit = values.limit === undefined ? undefined : integerOption("--limit", values.limit);

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
