import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { EchoKind } from "./echo-servers.js";

/** How to start a server process. */
export interface ServerSpec {
  /** Store URL for SessionService; ignored with `echo`. */
  storeUrl?: string;
  /** Serve the echo service on this kind of server instead of SessionService. */
  echo?: EchoKind;
  /** Write a CPU profile of the server to this directory when it exits. */
  profileDir?: string;
  /** Names the profile file. */
  label: string;
  /** Flags of `sessiond serve` beyond the store's; ignored with `echo`. */
  serveFlags?: readonly string[];
}

/** A running server process with its memory and CPU figures. */
export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  /** Resident memory now, in MB. */
  rssMb(): number;
  /** CPU time the process (all its threads) has used so far, in milliseconds; 0 when it is gone. */
  cpuMs(): number;
  /** Highest resident memory since start or the last {@link resetPeak}, in MB. */
  peakMb(): number;
  /** Starts a new peak window (kernel high-water mark where allowed, plus sampling). */
  resetPeak(): void;
  /** Sends SIGTERM and waits for the exit (SIGKILL after a grace period). */
  stop(): Promise<void>;
}

const MAIN = fileURLToPath(new URL("./server-main.js", import.meta.url));
const SAMPLE_MS = 50;

/** Every process started and not yet stopped, for cleanup on errors and signals. */
const running = new Set<ServerProcess>();

/** Starts `server-main.js` on a free loopback port and waits until it listens. */
export async function startServerProcess(spec: ServerSpec): Promise<ServerProcess> {
  const nodeArgs = spec.profileDir ? ["--cpu-prof", "--cpu-prof-dir", spec.profileDir, "--cpu-prof-name", `${spec.label}.cpuprofile`] : [];
  const serverArgs = spec.echo ? ["--echo", spec.echo] : ["--store", spec.storeUrl ?? "memory:", ...(spec.serveFlags ?? []).map((flag) => `--serve-flag=${flag}`)];
  const args = [...nodeArgs, MAIN, "--port", "0", ...serverArgs];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe", "ipc"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const url = await readyUrl(child, () => stderr);
  const pid = child.pid!;
  let peak = 0;
  const sample = () => {
    const rss = readStatus(pid, "VmRSS");
    if (rss > peak) peak = rss;
    return rss;
  };
  const timer = setInterval(sample, SAMPLE_MS);
  timer.unref();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const proc: ServerProcess = {
    url,
    pid,
    rssMb: sample,
    cpuMs: () => processCpuMs(pid),
    peakMb() {
      sample();
      return Math.max(peak, readStatus(pid, "VmHWM"));
    },
    resetPeak() {
      try {
        // "5" resets VmHWM to the current RSS (Linux); without it, sampling alone bounds the peak.
        writeFileSync(`/proc/${pid}/clear_refs`, "5");
      } catch {}
      peak = 0;
      sample();
    },
    async stop() {
      running.delete(proc);
      clearInterval(timer);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
  running.add(proc);
  return proc;
}

/** Stops every server process still running. */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

/** A /proc/<pid>/status figure in MB, or 0 when the process is gone. */
function readStatus(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const match = readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU time of a process, all threads: utime + stime from /proc/<pid>/stat, which counts in USER_HZ ticks (100 a second); 0 when it is gone. */
export function processCpuMs(pid: number): number {
  try {
    // The command name (field 2) is parenthesized and may hold spaces; utime and stime are fields 14 and 15.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

function readyUrl(child: ChildProcess, stderr: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => fail(new Error("server did not start within 30 s")), 30_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`${error.message}\n${stderr()}`));
    };
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (!line) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once("exit", (code, signal) => fail(new Error(`server exited early (code ${code}, signal ${signal})`)));
  });
}
