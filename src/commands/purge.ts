import { parseArgs } from "node:util";
import { DEFAULT_STORE_URL, openStore } from "../stores/open.js";
import { parseDuration } from "../transfer/duration.js";
import { countPurge, purge, type PurgeRule } from "../transfer/purge.js";
import { type CommandIo, processIo, statusOption } from "./io.js";

/** `sessiond purge`: deletes sessions not updated for a while, optionally by status and app. */
export async function purgeCommand(argv: string[], io: CommandIo = processIo()): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      store: { type: "string" },
      "older-than": { type: "string" },
      status: { type: "string" },
      app: { type: "string" },
      "dry-run": { type: "boolean" },
    },
    strict: true,
  });
  if (values["older-than"] === undefined) throw new Error("--older-than is required, e.g. --older-than 30d");
  const rule: PurgeRule = {
    olderThanMs: parseDuration("--older-than", values["older-than"]),
    status: statusOption("--status", values.status),
    appName: values.app,
  };
  const store = await openStore(values.store ?? process.env.SESSIOND_STORE ?? DEFAULT_STORE_URL, { mustExist: true });
  try {
    const scope = `not updated for ${values["older-than"]}${rule.status ? `, status ${rule.status}` : ""}${rule.appName ? `, app ${rule.appName}` : ""}`;
    if (values["dry-run"]) io.stdout.write(`would delete ${await countPurge(store, rule)} sessions (${scope})\n`);
    else io.stdout.write(`deleted ${await purge(store, rule)} sessions (${scope})\n`);
  } finally {
    await store.close();
  }
}
