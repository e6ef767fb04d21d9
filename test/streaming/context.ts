import type { Client } from "@connectrpc/connect";
import type { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import type { SessiondServer } from "../../src/server.js";
import type { Store } from "../../src/stores/store.js";
import type { StoreCounters } from "../support/instrumented-store.js";

/** What every streaming test gets. */
export interface StreamContext {
  /** Client of a server whose followers wake only through the in-process hub (the poll is a minute). */
  readonly client: Client<typeof SessionService>;
  readonly server: SessiondServer;
  /** The instrumented store behind {@link server}. */
  readonly store: Store;
  readonly counters: StoreCounters;
  /** The store itself, not instrumented; shared with further servers the tests start. */
  readonly inner: Store;
  /** The URL the store was opened from; other processes can open it when `shared`. */
  readonly storeUrl: string;
}

/** A poll so long that a test passing within it proves another wake-up path. */
export const NO_POLL_MS = 60_000;
