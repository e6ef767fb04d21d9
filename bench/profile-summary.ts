import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** One function's share of a CPU profile's samples. */
export interface HotSpot {
  percent: number;
  name: string;
  where: string;
}

/**
 * The functions with the most self time in a `.cpuprofile` (V8 format), as
 * shares of the busy (non-idle) samples; `idlePercent` is the idle share.
 */
export function hotSpots(path: string, top = 15): { idlePercent: number; spots: HotSpot[] } {
  const profile = JSON.parse(readFileSync(path, "utf8")) as { nodes: ProfileNode[] };
  const self = new Map<string, { hits: number; name: string; where: string }>();
  let total = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)") {
      idle += hits;
      continue;
    }
    total += hits;
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : "";
    const key = `${functionName}@${where}`;
    const entry = self.get(key) ?? { hits: 0, name: functionName || "(anonymous)", where };
    entry.hits += hits;
    self.set(key, entry);
  }
  const spots = [...self.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, top)
    .map((e) => ({ percent: (100 * e.hits) / (total || 1), name: e.name, where: e.where }));
  return { idlePercent: (100 * idle) / (idle + total || 1), spots };
}

/** A text summary of the profiles in `dir` written at or after `sinceMs`. */
export function summarizeProfiles(dir: string, top = 15, sinceMs = 0): string {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile") && statSync(join(dir, f)).mtimeMs >= sinceMs)
    .sort();
  return files
    .map((file) => {
      const { idlePercent, spots } = hotSpots(join(dir, file), top);
      const lines = spots.map((h) => `  ${h.percent.toFixed(1).padStart(5)}%  ${h.name}  ${h.where}`);
      return `${file}: idle ${idlePercent.toFixed(0)}%; self time of the busy samples:\n${lines.join("\n")}`;
    })
    .join("\n\n");
}

function shortUrl(url: string): string {
  const path = url.startsWith("file://") ? new URL(url).pathname : url;
  const modules = path.lastIndexOf("/node_modules/");
  return modules >= 0 ? path.slice(modules + "/node_modules/".length) : relative(process.cwd(), path);
}
