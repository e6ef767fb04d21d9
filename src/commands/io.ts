import type { Readable, Writable } from "node:stream";
import type { SessionStatus } from "../core/types.js";
import { DEFAULT_STORE_URL } from "../stores/open.js";
import { type Flag, UsageError } from "./flags.js";

/** The --store flag the one-shot commands share. */
export const STORE_FLAG: Flag = { name: "store", value: "URL", env: "SESSIOND_STORE", help: `the store (default ${DEFAULT_STORE_URL})` };

/** The streams a command talks through; tests pass their own. */
export interface CommandIo {
  stdin: Readable;
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable;
}

/** The process's own streams. */
export function processIo(): CommandIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
}

/** A store URL without its password, for messages and checkpoint files. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^/@:]*):[^/@]*@/, "//$1:***@");
}

const STATUSES: readonly SessionStatus[] = ["active", "completed", "failed"];

/** A session status flag value, or an error naming the flag. */
export function statusOption(flag: string, value: string | undefined): SessionStatus | undefined {
  if (value === undefined) return undefined;
  if (!STATUSES.includes(value as SessionStatus)) throw new UsageError(`${flag} must be one of ${STATUSES.join(", ")}, not ${JSON.stringify(value)}`);
  return value as SessionStatus;
}

/** Resolves when a writable stream has flushed everything after end(). */
export function endStream(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once("error", reject);
    stream.end(() => resolve());
  });
}
