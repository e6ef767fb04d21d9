import { SessiondError } from "../../core/errors.js";

/** Replies that mean "the cluster or node cannot serve right now", not "the request is wrong". */
const TRANSIENT_REPLY = /^(CLUSTERDOWN|LOADING|TRYAGAIN|MASTERDOWN|BUSY|READONLY)\b/;
/** ioredis failures without a reply: lost or refused connections, exhausted retries, a cluster that is down. */
const CONNECTION_FAILURE =
  /Connection is closed|isn't ready|isn't writeable|Command timed out|Cluster is ended|None of startup nodes|Failed to refresh slots cache/;
const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENOTFOUND"]);

/**
 * A store error for a failed Redis call: connection-level failures become
 * UNAVAILABLE (clients retry those), everything else is passed on unchanged.
 */
export function redisFailure(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof SessiondError) return error;
  const code = (error as { code?: unknown }).code;
  const transient =
    error.name === "MaxRetriesPerRequestError" ||
    error.name === "ClusterAllFailedError" ||
    (error.name === "ReplyError" && TRANSIENT_REPLY.test(error.message)) ||
    (error.name !== "ReplyError" && CONNECTION_FAILURE.test(error.message)) ||
    (typeof code === "string" && CONNECTION_CODES.has(code));
  return transient ? new SessiondError("unavailable", `store: Redis is unavailable: ${error.message}`) : error;
}

/**
 * Routes the rejections of the named async methods of a class through
 * {@link redisFailure}, so every public store call reports outages the same way.
 */
export function mapRedisFailures<T extends object>(prototype: T, names: readonly (keyof T & string)[]): void {
  for (const name of names) {
    const method = prototype[name] as unknown as (...args: unknown[]) => Promise<unknown>;
    Object.defineProperty(prototype, name, {
      value: async function (this: T, ...args: unknown[]) {
        try {
          return await method.apply(this, args);
        } catch (error) {
          throw redisFailure(error);
        }
      },
      writable: true,
      configurable: true,
    });
  }
}
