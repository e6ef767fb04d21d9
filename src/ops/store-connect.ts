import { setTimeout as sleep } from "node:timers/promises";
import { SessiondError } from "../core/errors.js";
import { openStore, type OpenStoreOptions } from "../stores/open.js";
import type { Store } from "../stores/store.js";

/** How long and how to keep trying to open a store at start. */
export interface ConnectOptions extends OpenStoreOptions {
  /** Give up after this long; 0 tries once. */
  timeoutMs: number;
  /** Stops waiting (e.g. on SIGTERM); the pending attempt's error is thrown as an AbortError. */
  signal?: AbortSignal;
  /** Told about each failed attempt that will be retried. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

const FIRST_DELAY_MS = 200;
const MAX_DELAY_MS = 5000;

/**
 * Opens the store a URL names, retrying with exponential backoff while the
 * backend is unreachable: a container often starts before its database
 * accepts connections. Errors that waiting cannot fix (a bad URL, a schema
 * that needs `sessiond migrate`) are thrown at once.
 */
export async function connectStore(url: string, options: ConnectOptions): Promise<Store> {
  const deadline = Date.now() + options.timeoutMs;
  let delay = FIRST_DELAY_MS;
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await openStore(url, { autoMigrate: options.autoMigrate });
    } catch (error) {
      const left = deadline - Date.now();
      if (!isTransient(error) || left <= 0) throw error;
      const wait = Math.min(delay, left);
      options.onRetry?.(error, attempt, wait);
      await sleep(wait, undefined, { signal: options.signal });
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
  }
}

/** Whether an open failed because the backend is not reachable yet. */
function isTransient(error: unknown): boolean {
  // Stores report schema version mismatches as unavailable too; those need an operator.
  return error instanceof SessiondError && error.kind === "unavailable" && !error.message.includes("sessiond migrate");
}
