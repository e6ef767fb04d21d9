import { parseArgs } from "node:util";
import { DEFAULT_STORE_URL, openStore } from "../stores/open.js";

/** `sessiond migrate`: creates or upgrades the schema of a store, then exits. */
export async function migrateCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { store: { type: "string" } }, strict: true });
  const url = values.store ?? process.env.SESSIOND_STORE ?? DEFAULT_STORE_URL;
  const store = await openStore(url, { autoMigrate: true });
  await store.close();
  console.log(`schema of ${store.kind} store is up to date`);
}
