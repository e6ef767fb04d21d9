// Smoke test on the oldest Node the package declares (`engines.node`): serves
// on SQLite from the built package, makes one call over the Connect protocol
// and one through the client loaded with require(), then drains the server.
// Run by .ci/run with that Node (scripts/install-node.sh installs it).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const root = new URL("../..", import.meta.url).pathname;
const minimum = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).engines.node.replace(/^>=/, "");
if (!`${process.versions.node}.`.startsWith(`${minimum}.`)) {
  throw new Error(`run this with Node ${minimum}.x, the declared minimum, not ${process.versions.node}`);
}

const dir = mkdtempSync(join(tmpdir(), "sessiond-smoke-"));
const child = spawn(process.execPath, [join(root, "bin/sessiond.js"), "serve", "--port", "0", "--store", `sqlite:${join(dir, "smoke.db")}`], {
  stdio: ["ignore", "pipe", "inherit"],
});
try {
  const url = await new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`sessiond exited with ${code}`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const entry = JSON.parse(line);
      if (entry.msg === "serving") resolve(entry.url);
    });
  });
  const created = await fetch(`${url}/sessiond.v1.SessionService/CreateSession`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ appName: "smoke", userId: "u1", state: { "user:lang": "en" } }),
  });
  if (!created.ok) throw new Error(`CreateSession answered ${created.status}: ${await created.text()}`);
  const { session } = await created.json();
  const { createSessiondClient } = createRequire(import.meta.url)(join(root, "clients/typescript/dist/src/client/index.js"));
  const client = createSessiondClient({ baseUrl: url });
  const ref = { appName: "smoke", userId: "u1", sessionId: session.id };
  await client.appendEvent(ref, { author: "user", actions: { stateDelta: { turns: 1 } } });
  const read = await client.getSession(ref);
  if (read.events.length !== 1 || read.state.turns !== 1 || read.state["user:lang"] !== "en") {
    throw new Error(`unexpected session: ${JSON.stringify(read.state)}, ${read.events.length} events`);
  }
  console.log(`smoke test on Node ${process.versions.node}: serve on SQLite, CreateSession, AppendEvent, GetSession passed`);
} finally {
  // A server that failed at start has exited already; its error is the one to report.
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
}
