/**
 * A follower's "something may have changed" flag. Notifications only set the
 * flag, so a follower that falls behind costs one boolean however many
 * appends happen; it then re-reads the store at its own pace.
 */
export class WakeSignal {
  private dirty = false;
  private wakeUp: (() => void) | undefined;

  /** Marks the follower dirty and ends a pending {@link wait}. Safe to call from any listener. */
  readonly notify = (): void => {
    this.dirty = true;
    this.wakeUp?.();
  };

  /** Forgets earlier notifications; called right before reading, so one arriving during the read is kept. */
  clear(): void {
    this.dirty = false;
  }

  /**
   * Resolves at once when dirty, otherwise on the next notification or after
   * `timeoutMs` (the poll). Rejects with the signal's reason when it aborts.
   * Leaves no timer or listener behind either way.
   */
  wait(timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.dirty) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        this.wakeUp = undefined;
      };
      const onAbort = () => {
        finish();
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        finish();
        resolve();
      }, timeoutMs);
      this.wakeUp = () => {
        finish();
        resolve();
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/**
 * One signal that aborts with the caller's reason when `call` aborts, or with
 * `onSecond()` when `other` aborts. `dispose` removes the listeners, which
 * matters because `other` (the server's draining signal) outlives every call.
 */
export function linkSignals(
  call: AbortSignal,
  other: AbortSignal | undefined,
  onSecond: () => unknown,
): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const fromCall = () => controller.abort(call.reason);
  const fromOther = () => controller.abort(onSecond());
  if (call.aborted) fromCall();
  else if (other?.aborted) fromOther();
  call.addEventListener("abort", fromCall, { once: true });
  other?.addEventListener("abort", fromOther, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      call.removeEventListener("abort", fromCall);
      other?.removeEventListener("abort", fromOther);
    },
  };
}
