import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";

/** A server running in a separate OS process, with a client for it. */
export interface ChildServer {
  url: string;
  client: Client<typeof SessionService>;
  /** Drains it with SIGTERM and waits for the process to exit (SIGKILL after 5 s). */
  close(): Promise<void>;
}

const entry = fileURLToPath(new URL("./serve-child.ts", import.meta.url));
const resolver = fileURLToPath(new URL("./ts-resolve.mjs", import.meta.url));

/**
 * Starts `test/support/serve-child.ts` under this Node binary, which runs
 * the TypeScript sources directly: no build step, about a second to start.
 */
export async function startChildServer(storeUrl: string, pollIntervalMs?: number): Promise<ChildServer> {
  const args = ["--experimental-transform-types", "--no-warnings", "--import", resolver, entry, storeUrl];
  if (pollIntervalMs !== undefined) args.push(String(pollIntervalMs));
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(() => fail(new Error("child server did not start within 20 s")), 20_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`${error.message}\n${stderr}`));
    };
    child.stdout!.on("data", (chunk) => {
      stdout += chunk;
      const line = stdout.split("\n")[0];
      if (stdout.includes("\n")) {
        clearTimeout(timer);
        resolve((JSON.parse(line!) as { url: string }).url);
      }
    });
    child.once("exit", (code) => fail(new Error(`child server exited with ${code}`)));
  });
  return {
    url,
    client: createClient(SessionService, createGrpcTransport({ baseUrl: url })),
    close: () => stop(child),
  };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}
