import type { ServiceImpl } from "@connectrpc/connect";
import type { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import type { Store } from "../stores/store.js";
import { appHandlers } from "./app-handlers.js";
import { withCallDeadlines } from "./call-deadlines.js";
import { eventHandlers } from "./event-handlers.js";
import { defaultPollIntervalMs, getEventsHandler } from "./event-stream.js";
import { FollowHub } from "./follow-hub.js";
import { rewindHandlers } from "./rewind-handlers.js";
import { sessionHandlers } from "./session-handlers.js";

/** What the SessionService implementation needs. */
export interface SessionServiceOptions {
  store: Store;
  /** Aborted when the server drains; open follow streams end on it with UNAVAILABLE. */
  draining?: AbortSignal;
  /** Wakes followers in this process; one is made when not given. */
  hub?: FollowHub;
  /**
   * How long a follower waits for a wake-up before re-reading the store:
   * default 250 ms, or 2000 ms for stores with `subscribe`.
   */
  pollIntervalMs?: number;
}

/** The SessionService implementation over one store; store calls see their RPC's deadline. */
export function sessionService(options: SessionServiceOptions): ServiceImpl<typeof SessionService> {
  const { store } = options;
  const hub = options.hub ?? new FollowHub(store);
  const pollIntervalMs = options.pollIntervalMs ?? defaultPollIntervalMs(store);
  // Timers take at most 2^31 - 1 ms; 0 would turn following into a busy loop.
  if (!Number.isInteger(pollIntervalMs) || pollIntervalMs < 1 || pollIntervalMs > 2 ** 31 - 1) {
    throw new RangeError(`pollIntervalMs must be an integer from 1 to ${2 ** 31 - 1}, not ${pollIntervalMs}`);
  }
  return withCallDeadlines<typeof SessionService>({
    ...sessionHandlers(store, (scope) => hub.notifyScope(scope)),
    ...appHandlers(store),
    ...eventHandlers(store, (key) => hub.notify(key)),
    ...rewindHandlers(store, (key) => hub.notify(key)),
    getEvents: getEventsHandler({
      store,
      hub,
      pollIntervalMs,
      draining: options.draining,
    }),
  });
}
