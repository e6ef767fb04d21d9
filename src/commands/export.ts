import { createWriteStream } from "node:fs";
import { parseArgs } from "node:util";
import { DEFAULT_STORE_URL, openStore } from "../stores/open.js";
import { exportStore } from "../transfer/ndjson.js";
import { type CommandIo, endStream, processIo } from "./io.js";

/** `sessiond export`: writes a store, or one app of it, as NDJSON to a file or stdout. */
export async function exportCommand(argv: string[], io: CommandIo = processIo()): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { store: { type: "string" }, app: { type: "string" }, out: { type: "string" } },
    strict: true,
  });
  const target = values.out ?? "-";
  const store = await openStore(values.store ?? process.env.SESSIOND_STORE ?? DEFAULT_STORE_URL, { mustExist: true });
  try {
    const out = target === "-" ? io.stdout : createWriteStream(target);
    const counts = await exportStore(store, out, { appName: values.app });
    if (out !== io.stdout) await endStream(out);
    // The summary goes to stderr: stdout may be the export itself.
    io.stderr.write(`exported ${counts.sessions} sessions and ${counts.events} events${target === "-" ? "" : ` to ${target}`}\n`);
  } finally {
    await store.close();
  }
}
