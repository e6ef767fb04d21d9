import { createReadStream } from "node:fs";
import { parseArgs } from "node:util";
import { DEFAULT_STORE_URL, openStore } from "../stores/open.js";
import { importStream } from "../transfer/ndjson.js";
import { type CommandIo, processIo } from "./io.js";

/** `sessiond import`: reads an NDJSON export from a file or stdin into a store. */
export async function importCommand(argv: string[], io: CommandIo = processIo()): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { store: { type: "string" }, in: { type: "string" } },
    strict: true,
  });
  const source = values.in ?? "-";
  const store = await openStore(values.store ?? process.env.SESSIOND_STORE ?? DEFAULT_STORE_URL, { autoMigrate: true });
  try {
    const input = source === "-" ? io.stdin : createReadStream(source);
    const counts = await importStream(store, input);
    io.stdout.write(`imported ${counts.sessions} sessions and ${counts.events} events into ${store.kind}\n`);
  } finally {
    await store.close();
  }
}
