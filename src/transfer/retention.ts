import type { ServerLogger } from "../server.js";
import type { Store } from "../stores/store.js";
import { purge, type PurgeRule } from "./purge.js";

/** A running retention job. */
export interface RetentionJob {
  /** Stops the timer and waits for a purge in progress. */
  stop(): Promise<void>;
}

/**
 * Purges by `rule` now and then every `intervalMs`, logging each run. The
 * timer is unref'd so it never keeps the process alive; failures are logged
 * and retried on the next tick.
 */
export function startRetention(store: Store, rule: PurgeRule, intervalMs: number, logger: ServerLogger): RetentionJob {
  let running: Promise<void> | undefined;
  let stopped = false;
  const run = () => {
    if (running || stopped) return;
    const started = Date.now();
    running = purge(store, rule)
      .then(
        (deleted) => logger.info("retention purge", { deleted, olderThanMs: rule.olderThanMs, status: rule.status ?? null, ms: Date.now() - started }),
        (error) => logger.error("retention purge failed", { error: String(error) }),
      )
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(run, intervalMs);
  timer.unref();
  run();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
