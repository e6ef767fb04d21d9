import { ConnectError, Code } from "@connectrpc/connect";

/** The status name of a finished call, as the Connect protocol spells it: "ok", "not_found", … */
export function outcomeCode(error?: unknown): string {
  if (error === undefined) return "ok";
  return Code[ConnectError.from(error).code]!.replace(/[A-Z]/g, (c, i: number) => (i > 0 ? "_" : "") + c.toLowerCase());
}

/**
 * Wraps a response stream so `done` runs exactly once when it ends: with no
 * error on completion, with the error on failure, and with a Canceled error
 * when the client stops reading early.
 */
export async function* observeStream<T>(messages: AsyncIterable<T>, done: (error?: unknown, sent?: number) => void): AsyncIterable<T> {
  let sent = 0;
  let error: unknown = new ConnectError("the client cancelled the stream", Code.Canceled);
  try {
    for await (const message of messages) {
      sent++;
      yield message;
    }
    error = undefined;
  } catch (e) {
    error = e;
    throw e;
  } finally {
    done(error, sent);
  }
}
