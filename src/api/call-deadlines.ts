import type { DescService } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { type CallDeadline, withCallDeadline } from "../stores/call-deadline.js";

/** The deadline and cancellation of one RPC, as stores see them. */
export function callDeadlineOf(ctx: HandlerContext): CallDeadline {
  const left = ctx.timeoutMs();
  return { signal: ctx.signal, deadlineMs: left === undefined ? undefined : Date.now() + left };
}

/**
 * Runs every handler of `impl` inside {@link withCallDeadline}, so each store
 * call it makes sees the RPC's deadline. A streaming handler's body runs in
 * the context of whoever pulls its next message, so each pull of the stream
 * enters the deadline's context again.
 */
export function withCallDeadlines<S extends DescService>(impl: ServiceImpl<S>): ServiceImpl<S> {
  const wrapped: Record<string, unknown> = {};
  for (const [name, handler] of Object.entries(impl as Record<string, (req: unknown, ctx: HandlerContext) => unknown>)) {
    wrapped[name] = (req: unknown, ctx: HandlerContext) => {
      const deadline = callDeadlineOf(ctx);
      const result = withCallDeadline(deadline, () => handler(req, ctx));
      return isAsyncIterable(result) && typeof (result as { then?: unknown }).then !== "function"
        ? streamWithin(deadline, result)
        : result;
    };
  }
  return wrapped as ServiceImpl<S>;
}

function streamWithin<T>(deadline: CallDeadline, stream: AsyncIterable<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const inner = withCallDeadline(deadline, () => stream[Symbol.asyncIterator]());
      return {
        next: (...args: [] | [unknown]) => withCallDeadline(deadline, () => inner.next(...args)),
        return: (value?: unknown) =>
          withCallDeadline(deadline, () => inner.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined })),
        throw: (error?: unknown) => withCallDeadline(deadline, () => inner.throw?.(error) ?? Promise.reject(error)),
      } as AsyncIterator<T>;
    },
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}
