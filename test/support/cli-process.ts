import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** Path of the built command line, as `npx sessiond` runs it. */
export const SESSIOND_BIN = fileURLToPath(new URL("../../bin/sessiond.js", import.meta.url));

/** A `sessiond serve` child process and the JSON log lines it printed. */
export interface ServeProcess {
  child: ChildProcess;
  url: string;
  logs: Record<string, unknown>[];
  /** Sends a signal and resolves with the exit code (SIGKILL after 10 s). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `sessiond serve <args> --port 0` and waits for its "serving" log line. */
export async function spawnServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [SESSIOND_BIN, "serve", "--port", "0", ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    // Generous: on a loaded machine a cold start takes a while; exits are reported at once.
    const timer = setTimeout(() => reject(new Error(`sessiond did not start: ${stderr}`)), 60_000);
    child.once("exit", (code) => reject(new Error(`sessiond exited with ${code}: ${stderr}`)));
    lines.on("line", (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry.msg === "serving") {
        clearTimeout(timer);
        resolve(String(entry.url));
      }
    });
  });
  return {
    child,
    url,
    logs,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, "exit");
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      const [code] = await exited;
      clearTimeout(timer);
      return code as number | null;
    },
  };
}
