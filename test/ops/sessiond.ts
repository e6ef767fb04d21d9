import { Writable } from "node:stream";
import { parseServeArgs, type ServeConfig, type Sessiond, startSessiond } from "../../src/commands/serve.js";

/** Log lines written by a server, parsed. */
export class LogCapture extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  readonly raw: string[] = [];

  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) {
      this.raw.push(line);
      this.lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    done();
  }

  /** The per-RPC lines. */
  rpcs(): Record<string, unknown>[] {
    return this.lines.filter((l) => l.msg === "rpc");
  }
}

/** The config `sessiond serve` makes of `argv` with an empty environment, on a free loopback port by default. */
export function serveConfig(argv: string[] = [], env: NodeJS.ProcessEnv = {}): ServeConfig {
  return parseServeArgs(["--store", "memory:", "--port", "0", ...argv], env);
}

/** Starts sessiond the way the serve command does, logging into a capture. */
export async function startCaptured(config: ServeConfig): Promise<{ sessiond: Sessiond; logs: LogCapture }> {
  const logs = new LogCapture();
  const sessiond = await startSessiond(config, { logDestination: logs });
  return { sessiond, logs };
}
