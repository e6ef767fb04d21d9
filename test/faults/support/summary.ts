import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const dir = join(process.cwd(), "test-results", "faults");

/** Clears the figures of an earlier run. */
export function setup(): () => void {
  rmSync(dir, { recursive: true, force: true });
  const started = Date.now();
  // Printed after every file ran: the figures per scenario and the suite's duration.
  return () => {
    const lines = existsSync(dir) ? readdirSync(dir).sort().map((file) => `  ${file.replace(/\.json$/, "")}: ${readFileSync(join(dir, file), "utf8")}`) : [];
    console.log(`\nfault suite figures (${((Date.now() - started) / 1000).toFixed(1)} s):\n${lines.join("\n")}`);
  };
}
