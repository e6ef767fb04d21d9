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

/** Bytes free in front of an attached encoding, for the gRPC envelope's flags and length. */
export const FRAME_ROOM = 5;

const FRAME = Symbol("sessiond.frame");

type WithFrame = { [FRAME]?: Uint8Array };

/**
 * Context value: the transport of this call takes attached encodings (see
 * {@link attachFrame}). Handlers build one only when it is set.
 */
export const kTakesEncodedResponse = createContextKey(false, { description: "transport sends attached response encodings" });

/** Whether the call's transport takes attached encodings. */
export function takesEncodedResponse(ctx: HandlerContext): boolean {
  return ctx.values.get(kTakesEncodedResponse);
}

/**
 * Attaches the message's whole binary encoding as `frame`: {@link FRAME_ROOM}
 * free bytes, then the encoding.
 */
export function attachFrame<T extends object>(message: T, frame: Uint8Array): T {
  (message as WithFrame)[FRAME] = frame;
  return message;
}

/** The frame attached to `message` (see {@link attachFrame}), if any. */
export function attachedFrame(message: object): Uint8Array | undefined {
  return (message as WithFrame)[FRAME];
}
