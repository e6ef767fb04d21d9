import { ConnectError } from "@connectrpc/connect";
import type { Event, SessionRef, SessiondClient } from "../src/client/web.js";

/** What a live tail reports. */
export interface LiveTailHandlers {
  onEvent(event: Event): void;
  onStatus(text: string): void;
  onError(error: unknown): void;
}

/** Milliseconds before a stream that ended is reopened. */
const RECONNECT_DELAY_MS = 1000;

/**
 * Follows a session's new events. The client reopens the stream after the
 * last event seen whenever the server ends it (a restart, a drain, or a
 * server that sends only the history), so nothing is missed or repeated.
 */
export class LiveTail {
  private readonly abort = new AbortController();

  constructor(client: SessiondClient, ref: SessionRef, afterSequence: bigint, handlers: LiveTailHandlers) {
    handlers.onStatus("connecting…");
    void (async () => {
      try {
        const items = client.follow(ref, { filter: { afterSequence }, signal: this.abort.signal, reconnectDelayMs: RECONNECT_DELAY_MS });
        for await (const item of items) {
          if (item.kind === "caught-up") handlers.onStatus("live");
          else handlers.onEvent(item.event);
        }
      } catch (error) {
        if (this.abort.signal.aborted) return;
        handlers.onStatus(`stopped: ${ConnectError.from(error).rawMessage}`);
        handlers.onError(error);
      }
    })();
  }

  /** Closes the stream. */
  stop(): void {
    this.abort.abort();
  }
}
