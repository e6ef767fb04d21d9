import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import { callContext, type CallContextInit } from "../../src/private/call-context.js";

const init = (over: Partial<CallContextInit> = {}): CallContextInit => ({
  method: SessionService.method.appendEvent,
  service: SessionService,
  protocolName: "grpc",
  requestMethod: "POST",
  url: "http://127.0.0.1/sessiond.v1.SessionService/AppendEvent",
  timeoutMs: undefined,
  shutdownSignal: undefined,
  requestHeader: new Headers({ "x-a": "1" }),
  responseHeader: new Headers(),
  responseTrailer: new Headers(),
  values: createContextValues(),
  ...over,
});

describe("fast-path call context", () => {
  it("ends with the call's reason, once, and leaves the shutdown signal without a listener", () => {
    const shutdown = new AbortController();
    const ctx = callContext(init({ shutdownSignal: shutdown.signal }));
    expect(ctx.timeoutMs()).toBeUndefined();
    expect(ctx.requestHeader.get("x-a")).toBe("1");
    const done = new Error("done");
    ctx.abort(done);
    ctx.abort(new Error("later"));
    shutdown.abort(new Error("shutdown"));
    expect(ctx.signal.reason).toBe(done);
  });

  it("aborts with DEADLINE_EXCEEDED when the deadline passes, at once when none is left", async () => {
    const ctx = callContext(init({ timeoutMs: 20 }));
    expect(ctx.timeoutMs()).toBeGreaterThan(0);
    expect(ctx.timeoutMs()).toBeLessThanOrEqual(20);
    await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
    expect(ConnectError.from(ctx.signal.reason)).toMatchObject({ code: Code.DeadlineExceeded, rawMessage: "the operation timed out" });
    expect(callContext(init({ timeoutMs: 0 })).signal.aborted).toBe(true);
  });

  it("aborts with the shutdown's reason, also when the server was already stopping", () => {
    const shutdown = new AbortController();
    const ctx = callContext(init({ shutdownSignal: shutdown.signal, timeoutMs: 60_000 }));
    const reason = new ConnectError("the server is shutting down", Code.Unavailable);
    shutdown.abort(reason);
    expect(ctx.signal.reason).toBe(reason);
    expect(callContext(init({ shutdownSignal: shutdown.signal })).signal.reason).toBe(reason);
  });
});
