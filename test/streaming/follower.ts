import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Client, ConnectError } from "@connectrpc/connect";
import type { GetEventsRequestSchema, GetEventsResponse, SessionService } from "../../gen/sessiond/v1/session_service_pb.js";

/** A GetEvents request as a client writes it. */
export type GetEventsInit = MessageInitShape<typeof GetEventsRequestSchema>;

/**
 * Reads a GetEvents stream in the background and records what arrives, so
 * a test can wait for a condition, append meanwhile, then cancel.
 */
export class Follower {
  /** Every message, in order. */
  readonly messages: GetEventsResponse[] = [];
  /** Sequences of every event received, in order. */
  readonly sequences: number[] = [];
  /** How the stream ended: undefined while open or after a clean end. */
  error: ConnectError | undefined;
  ended = false;
  readonly done: Promise<void>;
  private readonly controller = new AbortController();

  constructor(client: Client<typeof SessionService>, request: GetEventsInit, options: { timeoutMs?: number } = {}) {
    const stream = client.getEvents(request, { signal: this.controller.signal, timeoutMs: options.timeoutMs });
    this.done = (async () => {
      try {
        for await (const message of stream) {
          this.messages.push(message);
          for (const e of message.events) this.sequences.push(Number(e.sequence));
        }
      } catch (error) {
        this.error = ConnectError.from(error);
      } finally {
        this.ended = true;
      }
    })();
  }

  /** Index of the caught_up message in {@link messages}, or -1. */
  get caughtUpAt(): number {
    return this.messages.findIndex((m) => m.caughtUp);
  }

  /** Waits until `condition` holds, failing with `what` and the state after `timeoutMs`. */
  async until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.sequences)}, ended ${this.ended}, error ${this.error?.message}`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Waits for the caught_up message. */
  caughtUp(): Promise<void> {
    return this.until(() => this.caughtUpAt >= 0 || this.ended, "caught_up");
  }

  /** Waits until `count` events arrived. */
  received(count: number, timeoutMs?: number): Promise<void> {
    return this.until(() => this.sequences.length >= count || this.ended, `${count} events`, timeoutMs);
  }

  /** Cancels the call and waits for the reader to stop. */
  async cancel(): Promise<void> {
    this.controller.abort();
    await this.done;
  }
}

/** Waits until `condition` holds or fails after `timeoutMs`. */
export async function eventually(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** 1, 2, … n shifted to start after `from`. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Sequences of a message's events. */
export function sequencesOf(message: GetEventsResponse): number[] {
  return message.events.map((e) => Number(e.sequence));
}
