import { readFileSync } from "node:fs";

let cached: string | undefined;

/** The version in sessiond's package.json, found from this file in src/ or dist/src/. */
export function packageVersion(): string {
  if (cached) return cached;
  for (let url = new URL("../../package.json", import.meta.url); ; url = new URL("../package.json", url)) {
    try {
      const pkg = JSON.parse(readFileSync(url, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "sessiond" && pkg.version) return (cached = pkg.version);
    } catch {
      // Not here; look one folder up.
    }
    if (url.pathname === "/package.json") return "unknown";
  }
}
