/**
 * The server under test, run as its own process so its memory is measured
 * alone. `server-main.js --store URL` starts SessionService the way
 * `sessiond serve` does by default (request log at info level, metrics,
 * health, reflection; auth is off on loopback without keys); the request
 * log is written as to stdout (in batches, synchronously), but to /dev/null
 * since stdout carries the ready line. `--serve-flag=F` (repeatable) adds a
 * flag of `sessiond serve`. With `--echo connect` a bare server over an empty
 * memory store also serves the echo service; `--echo grpc-js` and
 * `--echo http2` serve it on those servers instead (bench/echo-servers.ts).
 * Prints one JSON line with the URL once listening, and drains on SIGTERM.
 */
import { parseArgs } from "node:util";
import { parseServeArgs, startSessiond } from "../src/commands/serve.js";
import { batchedDestination } from "../src/ops/log-destination.js";
import { startServer } from "../src/server.js";
import { openStore } from "../src/stores/open.js";
import { startGrpcJsEcho, startHttp2Echo } from "./echo-servers.js";
import { registerEcho } from "./echo-service.js";

const { values } = parseArgs({
  options: { store: { type: "string" }, echo: { type: "string" }, port: { type: "string" }, "serve-flag": { type: "string", multiple: true } },
  strict: true,
});
const port = values.port ?? "0";

async function start(): Promise<{ url: string; store: string; close(graceMs: number): Promise<void> }> {
  if (values.echo === "grpc-js" || values.echo === "http2") {
    const echo = await (values.echo === "grpc-js" ? startGrpcJsEcho : startHttp2Echo)(Number(port));
    return { url: echo.url, store: "none", close: () => echo.close() };
  }
  if (values.echo === "connect") {
    const store = await openStore("memory:");
    // connect-node itself: the gRPC fast path is what sessiond adds on top of it.
    const server = await startServer({ store, host: "127.0.0.1", port: Number(port), services: registerEcho, grpcFastPath: false });
    return { url: server.url, store: store.kind, close: (grace) => server.close(grace) };
  }
  if (values.echo !== undefined) throw new Error(`--echo: unknown kind ${JSON.stringify(values.echo)}`);
  const flags = ["--store", values.store ?? "memory:", "--host", "127.0.0.1", "--port", port, "--no-ui"];
  const config = parseServeArgs([...flags, ...(values["serve-flag"] ?? [])], {});
  const sessiond = await startSessiond(config, { logDestination: batchedDestination("/dev/null") });
  return { url: sessiond.server.url, store: config.storeUrl.slice(0, config.storeUrl.indexOf(":")), close: (grace) => sessiond.close(grace) };
}

const running = await start();
process.stdout.write(`${JSON.stringify({ url: running.url, store: running.store })}\n`);

const stop = () => {
  running.close(2000).then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// The parent's death must not leave this process behind.
process.on("disconnect", stop);
