/**
 * The server under test, run as its own process so its memory is measured
 * alone: `server-main.js --store URL` serves SessionService like
 * `sessiond serve`; with `--echo` the same server (over an empty memory
 * store) also serves the echo service. Prints one JSON line with the URL once
 * listening, and drains on SIGTERM.
 */
import { parseArgs } from "node:util";
import { startServer } from "../src/server.js";
import { openStore } from "../src/stores/open.js";
import { registerEcho } from "./echo-service.js";

const { values } = parseArgs({
  options: { store: { type: "string" }, echo: { type: "boolean" }, port: { type: "string" } },
  strict: true,
});
const store = await openStore(values.echo ? "memory:" : (values.store ?? "memory:"));
const server = await startServer({
  store,
  host: "127.0.0.1",
  port: Number(values.port ?? 0),
  services: values.echo ? registerEcho : undefined,
  logger: { info() {}, error: (message, fields) => process.stderr.write(`${message} ${JSON.stringify(fields)}\n`) },
});
process.stdout.write(`${JSON.stringify({ url: server.url, store: store.kind })}\n`);

const stop = () => {
  server.close(2000).then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// The parent's death must not leave this process behind.
process.on("disconnect", stop);
