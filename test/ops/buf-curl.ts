import { execFile } from "node:child_process";
import { resolve } from "node:path";

const BUF = resolve("node_modules/.bin/buf");

/** Output of one `buf curl` run. */
export interface BufCurlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `buf curl` with `args`; never throws on a non-zero exit. */
export function bufCurl(args: string[]): Promise<BufCurlResult> {
  return new Promise((done) => {
    execFile(BUF, ["curl", ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/** `buf curl` flags for a cleartext gRPC call with server reflection. */
export const grpcReflect = ["--protocol", "grpc", "--http2-prior-knowledge", "--reflect"];
