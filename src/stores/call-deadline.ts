import { AsyncLocalStorage } from "node:async_hooks";
import { SessiondError } from "../core/errors.js";

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

/**
 * Throws DEADLINE_EXCEEDED when the current call's deadline has passed or
 * the call was cancelled: a store calls it before work whose result nobody
 * will read, above all before a write, which must not run once the caller
 * was told it failed.
 */
export function throwIfCallExpired(now: number = Date.now()): void {
  if (callExpired(now)) {
    throw new SessiondError("deadline_exceeded", "store: the call's deadline passed before the store began its work");
  }
}

/** True when the current call's deadline has passed or the call was cancelled; false outside a call. */
export function callExpired(now: number = Date.now()): boolean {
  const call = storage.getStore();
  return call !== undefined && (call.signal.aborted || (call.deadlineMs !== undefined && now >= call.deadlineMs));
}

/**
 * Settles with `work`, or rejects with DEADLINE_EXCEEDED when the current
 * call's deadline passes (or the call is cancelled) first. For drivers that
 * cannot bound one command themselves; the command is not run when the
 * deadline has already passed.
 */
export async function withinCallDeadline<T>(work: () => Promise<T>): Promise<T> {
  throwIfCallExpired();
  const call = storage.getStore();
  const left = remainingCallMs();
  if (call === undefined) return work();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const expired = new Promise<never>((_, reject) => {
    const fail = () => reject(new SessiondError("deadline_exceeded", "store: the call's deadline passed before the store finished"));
    onAbort = fail;
    call.signal.addEventListener("abort", fail, { once: true });
    // Timers take at most 2^31 - 1 ms; a longer deadline is bounded by the signal alone.
    if (left !== undefined && left < 2 ** 31) timer = setTimeout(fail, left);
  });
  try {
    return await Promise.race([work(), expired]);
  } finally {
    clearTimeout(timer);
    if (onAbort) call.signal.removeEventListener("abort", onAbort);
  }
}
