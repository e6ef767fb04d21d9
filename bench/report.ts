import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LatencySummary } from "./stats.js";

/** A measured figure: latency percentiles, or one value with its unit. */
export type Figure = { kind: "latency"; p50: number; p99: number; count: number } | { kind: "value"; value: number; unit: string };

/** One line of the results table. */
export interface ResultRow {
  workload: string;
  /** Store of the sessiond side. */
  store: string;
  /** Undefined when the workload could not run (see `note`). */
  sessiond?: Figure;
  baseline?: { name: string; figure: Figure };
  /** The ratio the target is stated in (e.g. sessiond/raw p50, or ADK/sessiond). */
  ratio?: number;
  /** The target, in words, e.g. "≤ 1.5× raw (p50)". */
  target: string;
  /** Undefined when nothing could be compared. */
  met?: boolean;
  /** Peak resident memory of the server process(es) during the workload, MB. */
  serverPeakMb?: number;
  /** Extra figures: seeding time, counts, why a row is unavailable. */
  note?: string;
}

/** Everything one run writes. */
export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  node: string;
  host: { cpus: number; loadAverage: number[] };
  options: Record<string, unknown>;
  rows: ResultRow[];
}

/** A latency figure from a summary. */
export const latency = (s: LatencySummary): Figure => ({ kind: "latency", p50: s.p50, p99: s.p99, count: s.count });

/** A single-value figure. */
export const value = (v: number, unit: string): Figure => ({ kind: "value", value: v, unit });

/** Markdown table of the rows. */
export function markdownTable(rows: ResultRow[]): string {
  const header = "| workload | store | sessiond | baseline | ratio | target | met | server peak RSS | notes |";
  const rule = "| --- | --- | --- | --- | --- | --- | --- | --- | --- |";
  const lines = rows.map((r) =>
    [
      r.workload,
      r.store,
      r.sessiond ? formatFigure(r.sessiond) : "unavailable",
      r.baseline ? `${r.baseline.name}: ${formatFigure(r.baseline.figure)}` : "–",
      r.ratio === undefined ? "–" : `${round(r.ratio)}×`,
      r.target,
      r.met === undefined ? "–" : r.met ? "yes" : "no",
      r.serverPeakMb === undefined ? "–" : `${Math.round(r.serverPeakMb)} MB`,
      r.note ?? "",
    ].join(" | "),
  );
  return [header, rule, ...lines.map((l) => `| ${l} |`)].join("\n");
}

/** Writes `<stamp>.json` and `<stamp>.md` into `dir`; returns their paths. */
export function writeReport(dir: string, report: BenchReport): { json: string; markdown: string } {
  mkdirSync(dir, { recursive: true });
  const stamp = report.startedAt.replace(/:/g, "-").replace(/\.\d+Z$/, "Z");
  const json = join(dir, `${stamp}.json`);
  const markdown = join(dir, `${stamp}.md`);
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  const md = [
    `# sessiond benchmark, ${report.startedAt}`,
    "",
    `Node ${report.node}, ${report.host.cpus} CPUs, load average at start ${report.host.loadAverage.map((l) => l.toFixed(2)).join(" ")}.`,
    `Options: \`${JSON.stringify(report.options)}\``,
    "",
    markdownTable(report.rows),
    "",
  ].join("\n");
  writeFileSync(markdown, md);
  return { json, markdown };
}

function formatFigure(f: Figure): string {
  if (f.kind === "latency") return `p50 ${round(f.p50)} ms, p99 ${round(f.p99)} ms (n=${f.count})`;
  return `${f.value >= 1000 ? Math.round(f.value).toLocaleString("en-US") : round(f.value)} ${f.unit}`;
}

function round(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}
