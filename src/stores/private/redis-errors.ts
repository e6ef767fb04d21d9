import { SessiondError } from "../../core/errors.js";
import { isSocketFailure, storeUnavailable } from "./driver-errors.js";

/** Replies that mean "the cluster or node cannot serve right now", not "the request is wrong". */
const TRANSIENT_REPLY = /^(CLUSTERDOWN|LOADING|TRYAGAIN|MASTERDOWN|BUSY|READONLY|OOM|NOREPLICAS)\b/;
/** ioredis failures without a reply: lost or refused connections, exhausted retries, a cluster that is down. */
const CONNECTION_FAILURE =
  /Connection is closed|isn't ready|isn't writeable|Command timed out|Cluster is ended|None of startup nodes|Failed to refresh slots cache/;

/**
 * Classifies an ioredis error: lost or refused connections, exhausted
 * retries, command timeouts and replies of a node that cannot serve now
 * (loading, read-only replica, cluster down, out of memory) are UNAVAILABLE.
 * Anything else stays unclassified.
 */
export function classifyRedisError(error: unknown): SessiondError | undefined {
  if (error instanceof SessiondError) return error;
  if (!(error instanceof Error)) return undefined;
  const reply = error.name === "ReplyError" ? TRANSIENT_REPLY.exec(error.message)?.[1] : undefined;
  if (reply) return storeUnavailable("Redis", reply, error);
  if (
    error.name === "MaxRetriesPerRequestError" ||
    error.name === "ClusterAllFailedError" ||
    (error.name !== "ReplyError" && CONNECTION_FAILURE.test(error.message)) ||
    isSocketFailure(error)
  ) {
    return storeUnavailable("Redis", error.name === "Error" ? "connection" : error.name, error);
  }
  return undefined;
}
