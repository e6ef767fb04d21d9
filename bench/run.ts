/**
 * `npm run bench`: runs every workload against the sessiond store(s) and
 * their baselines in one run, writes bench/results/<time>.json and .md and
 * prints the table. Server processes, the PostgreSQL schema and temporary
 * stores are removed at the end, also on errors and on SIGINT/SIGTERM.
 */
import { mkdirSync } from "node:fs";
import os from "node:os";
import { type BenchAdk, openBenchAdk } from "./adk.js";
import { type BenchStore, benchName, resolveStore, type Workload, type WorkloadContext } from "./context.js";
import { type BenchOptions, parseOptions, USAGE, type WorkloadName } from "./options.js";
import { type BenchPostgres, openBenchPostgres } from "./postgres.js";
import { summarizeProfiles } from "./profile-summary.js";
import { markdownTable, type ResultRow, writeReport } from "./report.js";
import { startServerProcess, stopAllServers } from "./server-process.js";
import { appendBatch } from "./workloads/append-batch.js";
import { appendOne } from "./workloads/append-one.js";
import { getSession } from "./workloads/get-session.js";
import { liveTail } from "./workloads/live-tail.js";
import { replay } from "./workloads/replay.js";
import { sessionOps } from "./workloads/session-ops.js";
import { throughput } from "./workloads/throughput.js";
import { unaryFloor } from "./workloads/unary-floor.js";

const workloads: Record<WorkloadName, Workload> = {
  "append-batch": appendBatch,
  "append-one": appendOne,
  "get-session": getSession,
  replay,
  "live-tail": liveTail,
  "unary-floor": unaryFloor,
  throughput,
  "session-ops": sessionOps,
};

const cleanups: (() => Promise<void>)[] = [];
let cleaning: Promise<void> | undefined;
let interrupted = false;

/** Stops the servers, then undoes the setup in reverse; callers share one run of it. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await stopAllServers();
    for (const step of cleanups.splice(0).reverse()) {
      await step().catch((error) => log(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`));
    }
  })();
  return cleaning;
}

/** Ends the run early (signal or --timeout): cleans up, writes no results. */
function abort(reason: string, code: number): void {
  if (interrupted) return;
  interrupted = true;
  log(`${reason}: cleaning up`);
  cleanup().finally(() => process.exit(code));
}

/** A URL without its password, for files that may be shared. */
function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]*):[^@/]*@/, "$1:***@");
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/** Opens the PostgreSQL baselines once, on first use, in a database of their own. */
function baselineOpener(options: BenchOptions) {
  let opening: Promise<{ pg: BenchPostgres; adk: BenchAdk }> | undefined;
  return () =>
    (opening ??= (async () => {
      const name = benchName("sessiond_bench");
      log(`baselines: PostgreSQL database ${name}`);
      const pg = await openBenchPostgres(options.postgresUrl, name);
      cleanups.push(() => pg.drop());
      const adk = await openBenchAdk(pg);
      cleanups.push(() => adk.close());
      return { pg, adk };
    })());
}

async function runStore(options: BenchOptions, store: BenchStore, baselines: WorkloadContext["baselines"]): Promise<ResultRow[]> {
  const ctx: WorkloadContext = {
    options,
    store,
    baselines,
    server: (label, storeUrl) =>
      startServerProcess({
        storeUrl: storeUrl ?? store.url,
        label: `${store.name}-${label}`,
        profileDir: options.profileDir,
        serveFlags: options.serveFlags,
      }),
    echoServer: (label, kind = "connect") =>
      startServerProcess({ echo: kind, label: `${store.name}-${label}`, profileDir: options.profileDir }),
    log,
  };
  const rows: ResultRow[] = [];
  for (const name of options.workloads) {
    if (interrupted) break;
    log(`${store.name}: ${name}`);
    const start = performance.now();
    try {
      rows.push(...(await workloads[name](ctx)));
    } catch (error) {
      if (interrupted) break;
      log(`${store.name}: ${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      rows.push({ workload: name, store: store.name, target: "–", note: `failed: ${error instanceof Error ? error.message : String(error)}` });
    } finally {
      await stopAllServers();
    }
    log(`${store.name}: ${name} done in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  }
  return rows;
}

async function main(): Promise<number> {
  let options: BenchOptions | "help";
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (options === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  if (options.profileDir) mkdirSync(options.profileDir, { recursive: true });
  const timeoutSeconds = options.timeoutSeconds;
  setTimeout(() => abort(`run exceeded --timeout ${timeoutSeconds} s`, 1), timeoutSeconds * 1000).unref();
  const startedAt = new Date().toISOString();
  const loadAverage = os.loadavg();
  const baselines = baselineOpener(options);
  const rows: ResultRow[] = [];
  for (const spec of options.stores) {
    if (interrupted) break;
    const store = await resolveStore(spec);
    cleanups.push(() => store.cleanup());
    rows.push(...(await runStore(options, store, baselines)));
  }
  if (interrupted) return 130;
  const report = {
    startedAt,
    finishedAt: new Date().toISOString(),
    node: process.version,
    host: { cpus: os.cpus().length, loadAverage },
    options: { ...options, postgresUrl: redact(options.postgresUrl), stores: options.stores.map(redact) },
    rows,
  };
  const files = writeReport(options.outDir, report);
  process.stdout.write(`${markdownTable(rows)}\n\nwritten: ${files.json}, ${files.markdown}\n`);
  if (options.profileDir) {
    // Server processes write their profiles on exit; all have exited by now.
    await stopAllServers();
    process.stdout.write(`\nCPU profiles in ${options.profileDir}:\n${summarizeProfiles(options.profileDir, 15, Date.parse(startedAt))}\n`);
  }
  return rows.some((r) => r.note?.startsWith("failed:")) ? 1 : 0;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => abort(signal, 130));

let code = 1;
try {
  code = await main();
} catch (error) {
  // Errors outside a workload are about the setup (flags, stores, PostgreSQL): the message says enough.
  log(error instanceof Error ? error.message : String(error));
} finally {
  await cleanup();
}
// After an abort, its own exit (with its code) is pending.
if (!interrupted) process.exit(code);
