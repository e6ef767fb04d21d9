import { AsyncLocalStorage } from "node:async_hooks";

/**
 * The deadline of the RPC a store call serves. Handlers run store calls inside
 * {@link withCallDeadline}; stores read {@link currentCallDeadline} to bound
 * their own work (statement and lock timeouts, command timeouts) and to roll
 * back a write whose deadline passed before commit. Carried in async context
 * rather than as a parameter so that no store method can be called without it.
 */
export interface CallDeadline {
  /** Aborted when the RPC is cancelled or its deadline passes. */
  readonly signal: AbortSignal;
  /** Absolute deadline in epoch milliseconds, or undefined for none. */
  readonly deadlineMs: number | undefined;
}

const storage = new AsyncLocalStorage<CallDeadline>();

/** Runs `work` with `deadline` visible to every store call it makes. */
export function withCallDeadline<T>(deadline: CallDeadline, work: () => T): T {
  return storage.run(deadline, work);
}

/** The deadline of the RPC this store call serves, if any. */
export function currentCallDeadline(): CallDeadline | undefined {
  return storage.getStore();
}

/**
 * Milliseconds left before the current deadline (at least 1 while it has not
 * passed, 0 once it has), or undefined when there is no deadline.
 */
export function remainingCallMs(now: number = Date.now()): number | undefined {
  const deadline = storage.getStore()?.deadlineMs;
  if (deadline === undefined) return undefined;
  const left = deadline - now;
  return left > 0 ? Math.max(1, Math.floor(left)) : 0;
}
