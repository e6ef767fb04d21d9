// A sessiond server in its own process, for cross-process tests: serves the
// store URL given as the first argument on a free port, prints its URL as one
// JSON line, and drains on SIGTERM.
import { startServer } from "../../src/server.js";
import { openStore } from "../../src/stores/open.js";

const [storeUrl, poll] = process.argv.slice(2);
const store = await openStore(storeUrl!);
const server = await startServer({ store, port: 0, pollIntervalMs: poll ? Number(poll) : undefined });
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.once("SIGTERM", () => {
  server.close(2000).then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
