import { join } from "node:path";
import { parseArgs } from "node:util";

/** Every workload, in run order. */
export const WORKLOADS = ["append-batch", "append-one", "get-session", "replay", "live-tail", "unary-floor", "throughput", "session-ops"] as const;
/** One of {@link WORKLOADS}. */
export type WorkloadName = (typeof WORKLOADS)[number];

/** What a run measures and how much. */
export interface BenchOptions {
  /** Store names (entries of test/support/stores.ts) or URLs for the sessiond side. */
  stores: string[];
  /** PostgreSQL for the raw-driver and ADK baselines. */
  postgresUrl: string;
  workloads: WorkloadName[];
  quick: boolean;
  /** Events per AppendEvents call (workload 1). */
  batchEvents: number;
  /** Measured calls per latency loop (workloads 1, 2, 3). */
  iterations: number;
  /** Measured ADK calls (slower, so fewer). */
  adkIterations: number;
  /** Events in the GetSession session (workload 3). */
  sessionEvents: number;
  /** Events in the replayed session (workload 4). */
  replayEvents: number;
  /** Concurrent AppendEvents streams while seeding the replay session. */
  seedStreams: number;
  /** Appends observed by the live-tail follower (workload 5). */
  tailEvents: number;
  /** Concurrent clients (workload 6). */
  clients: number;
  /** Duration of each throughput phase, seconds (workload 6). */
  seconds: number;
  /** Upper bound of each measured loop, seconds. */
  maxSeconds: number;
  /** The whole run is abandoned (and cleaned up) after this many seconds. */
  timeoutSeconds: number;
  /**
   * "gzip": clients accept gzip and brotli as connect-node clients do by
   * default, so the server compresses larger responses; "none": they accept
   * only identity.
   */
  /** Directory of the result files. */
  outDir: string;
  /** Write CPU profiles of the server processes into this directory. */
  profileDir?: string;
  /** Flags of `sessiond serve` for the sessiond server processes (`--no-grpc-fast-path`, `--no-metrics`, ...), to compare with the defaults. */
  serveFlags: string[];
}

/** Help text of `npm run bench -- --help`. */
export const USAGE = `Usage: npm run bench -- [options]

  --store S, --stores S,S   sessiond store(s): names from test/support/stores.ts
                            (postgres, sqlite, memory, ...) or URLs (sqlite:/tmp/x.db);
                            "sqlite:" alone means a fresh temporary file. Default postgres
  --postgres URL            PostgreSQL for the raw-driver and ADK baselines
                            (default $SESSIOND_TEST_POSTGRES or postgres://postgres@127.0.0.1:5432/test)
  --workloads W,W           subset of ${WORKLOADS.join(", ")}
  --quick                   small sizes, finishes in under a minute
  --batch-events N          events per AppendEvents call (100)
  --iterations N            measured calls per latency loop (300; quick 30)
  --adk-iterations N        measured ADK calls (100; quick 10)
  --session-events N        events in the GetSession session (2000; quick 1000)
  --replay-events N         events in the GetEvents session (1000000; quick 10000)
  --seed-streams N          concurrent AppendEvents streams while seeding (4)
  --tail-events N           live-tail appends (300; quick 30)
  --clients N               concurrent clients of the throughput workload (64)
  --seconds N               duration of each throughput phase (10; quick 1)
  --max-seconds N           upper bound of each measured loop (60; quick 8)
  --timeout N               abandon the run after N seconds, cleaning up (3600; quick 180)
  --out DIR                 where results go (bench/results)
  --profile                 CPU profiles of the server processes into <out>/profiles
  --no-grpc-fast-path       sessiond servers run with --no-grpc-fast-path (all calls
                            through connect-node), to compare with the default
  --serve-flag=F            sessiond servers run with this sessiond serve flag too
                            (repeatable), e.g. --serve-flag=--no-metrics
                            --serve-flag=--log-level=silent
`;

/** Parses the command line; throws with a message naming the bad flag. */
export function parseOptions(argv: string[]): BenchOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      help: { type: "boolean", short: "h" },
      store: { type: "string", multiple: true },
      stores: { type: "string", multiple: true },
      postgres: { type: "string" },
      workloads: { type: "string" },
      quick: { type: "boolean" },
      "batch-events": { type: "string" },
      iterations: { type: "string" },
      "adk-iterations": { type: "string" },
      "session-events": { type: "string" },
      "replay-events": { type: "string" },
      "seed-streams": { type: "string" },
      "tail-events": { type: "string" },
      clients: { type: "string" },
      seconds: { type: "string" },
      "max-seconds": { type: "string" },
      timeout: { type: "string" },
      out: { type: "string" },
      profile: { type: "boolean" },
      "no-grpc-fast-path": { type: "boolean" },
      "serve-flag": { type: "string", multiple: true },
    },
  });
  if (values.help) return "help";
  const quick = values.quick ?? false;
  const int = (name: keyof typeof values, normal: number, small: number, min = 1) => {
    const raw = values[name];
    const n = raw === undefined ? (quick ? small : normal) : Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer of at least ${min}, not ${JSON.stringify(raw)}`);
    return n;
  };
  const list = (s: string[] | undefined) => (s ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
  const stores = [...list(values.store), ...list(values.stores)];
  const workloads = values.workloads ? list([values.workloads]) : [...WORKLOADS];
  for (const w of workloads) {
    if (!(WORKLOADS as readonly string[]).includes(w)) throw new Error(`--workloads: unknown workload ${JSON.stringify(w)}; use ${WORKLOADS.join(", ")}`);
  }
  const batchEvents = int("batch-events", 100, 100);
  if (batchEvents > 1000) throw new Error("--batch-events must be at most 1000 (the AppendEvents limit)");
  return {
    stores: stores.length > 0 ? stores : ["postgres"],
    postgresUrl: values.postgres ?? process.env.SESSIOND_TEST_POSTGRES ?? "postgres://postgres@127.0.0.1:5432/test",
    workloads: workloads as WorkloadName[],
    quick,
    batchEvents,
    iterations: int("iterations", 300, 30),
    adkIterations: int("adk-iterations", 100, 10),
    sessionEvents: int("session-events", 2000, 1000, 2),
    replayEvents: int("replay-events", 1_000_000, 10_000),
    seedStreams: int("seed-streams", 4, 4),
    tailEvents: int("tail-events", 300, 30),
    clients: int("clients", 64, 64),
    seconds: int("seconds", 10, 1),
    maxSeconds: int("max-seconds", 60, 8),
    timeoutSeconds: int("timeout", 3600, 180),
    outDir: values.out ?? "bench/results",
    profileDir: values.profile ? join(values.out ?? "bench/results", "profiles") : undefined,
    serveFlags: [...(values["no-grpc-fast-path"] ? ["--no-grpc-fast-path"] : []), ...(values["serve-flag"] ?? [])],
  };
}
