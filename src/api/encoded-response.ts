import { createContextKey, type HandlerContext } from "@connectrpc/connect";

/**
 * A response message may carry its own binary encoding, made while its
 * events were written to the wire format. A transport that writes binary
 * responses itself (the gRPC fast path) sends those bytes instead of
 * serializing the message again, which would copy every event twice more
 * and frame the copy in a third buffer: for a large GetSession, several
 * megabytes of short-lived buffers per call. The message keeps every field
 * (its events through `$unknown`), so interceptors and other transports see
 * the same response; an encoding is attached only to a message that is not
 * changed afterwards.
 */

const ENCODING = Symbol("sessiond.encoding");

type WithEncoding = { [ENCODING]?: Uint8Array };

/**
 * Context value: the transport of this call sends attached encodings (see
 * {@link attachEncoding}). Handlers attach them only when it is set.
 */
export const kTakesEncodedResponse = createContextKey(false, { description: "transport sends attached response encodings" });

/** Whether the call's transport sends attached encodings. */
export function takesEncodedResponse(ctx: HandlerContext): boolean {
  return ctx.values.get(kTakesEncodedResponse);
}

/** Attaches `bytes`, the message's whole binary encoding. */
export function attachEncoding<T extends object>(message: T, bytes: Uint8Array): T {
  (message as WithEncoding)[ENCODING] = bytes;
  return message;
}

/** The encoding attached to `message`, if any. */
export function attachedEncoding(message: object): Uint8Array | undefined {
  return (message as WithEncoding)[ENCODING];
}
