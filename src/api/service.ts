import type { ServiceImpl } from "@connectrpc/connect";
import type { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import type { Store } from "../stores/store.js";
import { type AppendListener, eventHandlers } from "./event-handlers.js";
import { getEventsHandler } from "./event-stream.js";
import { sessionHandlers } from "./session-handlers.js";

/** What the SessionService implementation needs. */
export interface SessionServiceOptions {
  store: Store;
  /** Aborted when the server drains; open follow streams end on it. */
  draining?: AbortSignal;
  /** Told about every successful append. */
  onAppended?: AppendListener;
}

/** The SessionService implementation over one store. */
export function sessionService(options: SessionServiceOptions): ServiceImpl<typeof SessionService> {
  const { store } = options;
  return {
    ...sessionHandlers(store),
    ...eventHandlers(store, options.onAppended ?? (() => {})),
    getEvents: getEventsHandler(store),
  };
}
