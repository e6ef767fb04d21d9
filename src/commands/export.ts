import { createWriteStream } from "node:fs";
import { DEFAULT_STORE_URL, openStore } from "../stores/open.js";
import { exportStore } from "../transfer/ndjson.js";
import { type Flag, parseFlags, withCommandEnv } from "./flags.js";
import { type CommandIo, endStream, processIo, STORE_FLAG } from "./io.js";

/** The flags of `sessiond export`. */
export const EXPORT_FLAGS: readonly Flag[] = withCommandEnv("export", [
  STORE_FLAG,
  { name: "app", value: "A", help: "only this app" },
  { name: "out", value: "FILE", help: "write here; - is stdout (default)" },
]);

/** `sessiond export`: writes a store, or one app of it, as NDJSON to a file or stdout. */
export async function exportCommand(argv: string[], io: CommandIo = processIo(), env = process.env): Promise<void> {
  const flags = parseFlags(EXPORT_FLAGS, argv, env);
  const target = flags.string("out") ?? "-";
  const store = await openStore(flags.string("store") ?? DEFAULT_STORE_URL, { mustExist: true });
  try {
    const out = target === "-" ? io.stdout : createWriteStream(target);
    const counts = await exportStore(store, out, { appName: flags.string("app") });
    if (out !== io.stdout) await endStream(out);
    // The summary goes to stderr: stdout may be the export itself.
    io.stderr.write(`exported ${counts.sessions} sessions and ${counts.events} events${target === "-" ? "" : ` to ${target}`}\n`);
  } finally {
    await store.close();
  }
}
