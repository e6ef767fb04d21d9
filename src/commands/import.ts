import { createReadStream } from "node:fs";
import { DEFAULT_STORE_URL, openStore } from "../stores/open.js";
import { importStream } from "../transfer/ndjson.js";
import { type Flag, parseFlags, withCommandEnv } from "./flags.js";
import { type CommandIo, processIo, STORE_FLAG } from "./io.js";

/** The flags of `sessiond import`. */
export const IMPORT_FLAGS: readonly Flag[] = withCommandEnv("import", [STORE_FLAG, { name: "in", value: "FILE", help: "read from here; - is stdin (default)" }]);

/** `sessiond import`: reads an NDJSON export from a file or stdin into a store. */
export async function importCommand(argv: string[], io: CommandIo = processIo(), env = process.env): Promise<void> {
  const flags = parseFlags(IMPORT_FLAGS, argv, env);
  const source = flags.string("in") ?? "-";
  const store = await openStore(flags.string("store") ?? DEFAULT_STORE_URL, { autoMigrate: true });
  try {
    const input = source === "-" ? io.stdin : createReadStream(source);
    const counts = await importStream(store, input);
    io.stdout.write(`imported ${counts.sessions} sessions and ${counts.events} events into ${store.kind}\n`);
  } finally {
    await store.close();
  }
}
