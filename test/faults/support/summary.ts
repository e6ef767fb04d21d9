import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = join(process.cwd(), "test-results", "faults");

/** Clears the figures of an earlier run. */
export function setup(): () => void {
  rmSync(dir, { recursive: true, force: true });
  const started = Date.now();
  // Printed after every file ran: the figures per scenario and the suite's duration, which is kept too.
  return () => {
    const seconds = Number(((Date.now() - started) / 1000).toFixed(1));
    mkdirSync(dir, { recursive: true });
    const lines = readdirSync(dir)
      .filter((file) => file.endsWith(".json") && file !== "suite.json" && !file.endsWith("-rejected.json"))
      .sort()
      .map((file) => `  ${file.replace(/\.json$/, "")}: ${readFileSync(join(dir, file), "utf8")}`);
    writeFileSync(join(dir, "suite.json"), JSON.stringify({ durationSeconds: seconds, scenarios: lines.length }));
    console.log(`\nfault suite figures (${seconds} s):\n${lines.join("\n")}`);
  };
}
