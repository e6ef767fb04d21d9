import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type CommandResult, runCommand } from "../support/run-command.js";

const execFileAsync = promisify(execFile);

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** One file of a packed tarball, as `npm pack --json` lists it. */
export interface PackedFile {
  path: string;
  size: number;
}

/** A tarball made by `npm pack`. */
export interface Packed {
  tarball: string;
  files: PackedFile[];
  unpackedSize: number;
}

/**
 * Packs the server package (or a workspace) into `dest` without running the
 * build again: the test command builds before the suite runs.
 */
export async function pack(dest: string, workspace?: string): Promise<Packed> {
  for (const built of ["dist/src/cli.js", "dist/ui/index.html", "clients/typescript/dist/src/client/index.js"]) {
    if (!existsSync(join(ROOT, built))) throw new Error(`${built} is missing: run \`npm run build\` first`);
  }
  const args = ["pack", "--json", "--ignore-scripts", "--pack-destination", dest, ...(workspace ? ["-w", workspace] : [])];
  const [info] = JSON.parse(await npm(args, ROOT)) as { filename: string; files: PackedFile[]; unpackedSize: number }[];
  return { tarball: join(dest, info!.filename), files: info!.files, unpackedSize: info!.unpackedSize };
}

/** Runs npm with the test's own Node first on PATH and returns its stdout. */
export async function npm(args: string[], cwd: string): Promise<string> {
  return (await execFileAsync("npm", args, { cwd, encoding: "utf8", env: nodeEnv(), timeout: 240_000, maxBuffer: 64 << 20 })).stdout;
}

/** Runs `npx --no-install args…` in `cwd` (the installed project's own binaries only) and returns stdout. */
export async function npx(cwd: string, args: string[]): Promise<string> {
  return (await execFileAsync("npx", ["--no-install", ...args], { cwd, encoding: "utf8", env: nodeEnv(), timeout: 60_000 })).stdout;
}

/** An empty project in `dir` (`type` sets how .js files load) with `tarballs` installed from the registry's dependencies. */
export async function installInto(dir: string, tarballs: string[], type: "module" | "commonjs" = "commonjs"): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type }));
  await npm(["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", ...tarballs], dir);
}

/** Runs `node args…` in `cwd` and returns stdout. */
export async function node(cwd: string, args: string[]): Promise<string> {
  return (await nodeResult(cwd, args)).stdout;
}

/** Runs `node args…` in `cwd` and returns its exit code and output, failing or not. */
export function nodeResult(cwd: string, args: string[]): Promise<CommandResult> {
  return runCommand(process.execPath, args, { cwd, env: nodeEnv(), timeout: 180_000 });
}

/** Package names under a node_modules folder (scoped ones as `@scope/name`). */
export function installedPackages(nodeModules: string): string[] {
  const names: string[] = [];
  for (const entry of readdirSync(nodeModules)) {
    if (entry.startsWith(".")) continue;
    if (entry.startsWith("@")) for (const sub of readdirSync(join(nodeModules, entry))) names.push(`${entry}/${sub}`);
    else names.push(entry);
  }
  return names.sort();
}

/** Bytes of every file under `dir`. */
export function folderSize(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

/** A `sessiond serve` started from an installed project's binaries. */
export interface InstalledServer {
  url: string;
  stop(): Promise<number | null>;
}

/**
 * `sessiond serve --port 0 …args` in `cwd`, resolved once it logs "serving".
 * It runs the binary npx would run, without npx in between, so signals and
 * the exit code are the server's own.
 */
export async function serveInstalled(cwd: string, args: string[]): Promise<InstalledServer> {
  const child: ChildProcess = spawn(join(cwd, "node_modules/.bin/sessiond"), ["serve", "--port", "0", ...args], {
    cwd,
    env: nodeEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sessiond did not start: ${stderr}`)), 60_000);
    child.once("exit", (code) => reject(new Error(`sessiond exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === "serving") {
        clearTimeout(timer);
        resolve(String(entry.url));
      }
    });
  });
  return {
    url,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      const [code] = await exited;
      clearTimeout(timer);
      return code as number | null;
    },
  };
}

/** The environment with this test's Node first on PATH, so npm and npx run on it. */
function nodeEnv(): NodeJS.ProcessEnv {
  const bin = process.execPath.replace(/\/node$/, "");
  return { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}`, npm_config_update_notifier: "false" };
}
