import { type ExecFileOptions, execFile } from "node:child_process";

/** What a finished command printed and how it exited. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `file args…` and resolves with its exit code and output whether it
 * succeeded or not, so a test can assert on a failing command's output.
 * Rejects only when the command could not run to an exit code (not found,
 * killed at its timeout).
 */
export function runCommand(file: string, args: string[], options: ExecFileOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...options, encoding: "utf8" }, (error, stdout, stderr) => {
      if (!error) return resolve({ code: 0, stdout, stderr });
      if (typeof error.code !== "number") return reject(error);
      resolve({ code: error.code, stdout, stderr });
    });
  });
}
