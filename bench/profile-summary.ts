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

/**
 * Where a profile's busy samples went, by area: Node's own JavaScript
 * (HTTP/2, streams, timers), each dependency package, sessiond's layers
 * (`src/api`, `src/stores`, ...), garbage collection and `(program)` (native
 * code outside JavaScript: nghttp2, syscalls, the compiler). Shares of the
 * busy samples, largest first.
 */
export function busyAreas(path: string): { area: string; percent: number }[] {
  const profile = JSON.parse(readFileSync(path, "utf8")) as { nodes: ProfileNode[] };
  const hits = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const count = node.hitCount ?? 0;
    if (count === 0 || node.callFrame.functionName === "(idle)") continue;
    total += count;
    const area = areaOf(node.callFrame);
    hits.set(area, (hits.get(area) ?? 0) + count);
  }
  return [...hits]
    .map(([area, count]) => ({ area, percent: (100 * count) / (total || 1) }))
    .sort((a, b) => b.percent - a.percent);
}

function areaOf({ functionName, url }: ProfileNode["callFrame"]): string {
  if (!url) return functionName.startsWith("(") ? functionName : "native";
  if (url.startsWith("node:")) return "node";
  const path = url.startsWith("file://") ? new URL(url).pathname : url;
  const modules = path.lastIndexOf("/node_modules/");
  if (modules >= 0) {
    const rest = path.slice(modules + "/node_modules/".length).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  // dist/src/<layer>/... or dist/bench/...
  const parts = relative(process.cwd(), path).split("/");
  const at = parts.indexOf("src");
  if (at >= 0) return parts.length > at + 2 ? `src/${parts[at + 1]}` : "src";
  return parts.slice(0, 2).join("/");
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
      const areas = busyAreas(join(dir, file))
        .filter((a) => a.percent >= 0.5)
        .map((a) => `${a.area} ${a.percent.toFixed(1)}%`);
      return `${file}: idle ${idlePercent.toFixed(0)}%; busy samples by area: ${areas.join(", ")}; self time of the busy samples:\n${lines.join("\n")}`;
    })
    .join("\n\n");
}

function shortUrl(url: string): string {
  const path = url.startsWith("file://") ? new URL(url).pathname : url;
  const modules = path.lastIndexOf("/node_modules/");
  return modules >= 0 ? path.slice(modules + "/node_modules/".length) : relative(process.cwd(), path);
}
