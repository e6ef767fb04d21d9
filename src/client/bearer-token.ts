import type { Interceptor, Transport } from "@connectrpc/connect";

/** A token, or a function returning the current one (for tokens that rotate). */
export type TokenSource = string | (() => string | Promise<string>);

/**
 * An interceptor sending `Authorization: Bearer <token>` on every call, for
 * transports built by hand. Reading the token per call lets long-lived
 * clients pick up a refreshed token without being rebuilt.
 */
export function bearerToken(token: TokenSource): Interceptor {
  return (next) => async (req) => {
    req.header.set("Authorization", await authorization(token));
    return next(req);
  };
}

/**
 * The same header added around an already built transport, whose
 * interceptors can no longer be changed.
 */
export function withBearerToken(transport: Transport, token: TokenSource): Transport {
  return withHeaders(transport, async (h) => h.set("Authorization", await authorization(token)));
}

/** The transport with `add` run on a copy of every call's request headers. */
export function withHeaders(transport: Transport, add: (headers: Headers) => void | Promise<void>): Transport {
  const headers = async (init: Parameters<Transport["unary"]>[3]) => {
    const h = new Headers(init);
    await add(h);
    return h;
  };
  return {
    async unary(method, signal, timeoutMs, header, input, contextValues) {
      return transport.unary(method, signal, timeoutMs, await headers(header), input, contextValues);
    },
    async stream(method, signal, timeoutMs, header, input, contextValues) {
      return transport.stream(method, signal, timeoutMs, await headers(header), input, contextValues);
    },
  };
}

async function authorization(token: TokenSource): Promise<string> {
  return `Bearer ${typeof token === "string" ? token : await token()}`;
}
