import { Cluster, Redis, type RedisOptions } from "ioredis";
import { SessiondError } from "../../core/errors.js";
import { StoreUrlOptions } from "../url-options.js";
import { DEFAULT_PREFIX, checkPrefix, parseTtl } from "./redis-keys.js";

/** What a Redis store URL says. */
export interface RedisTarget {
  cluster: boolean;
  nodes: { host: string; port: number }[];
  db: number;
  tls: boolean;
  username?: string;
  password?: string;
  prefix: string;
  ttlSeconds: number;
}

const SCHEMES: Record<string, { cluster: boolean; tls: boolean }> = {
  "redis:": { cluster: false, tls: false },
  "rediss:": { cluster: false, tls: true },
  "redis+cluster:": { cluster: true, tls: false },
  "rediss+cluster:": { cluster: true, tls: true },
};

/**
 * Parses `redis://[user:pass@]host:port[/db][?prefix=…&ttl=…]`, `rediss://…`
 * and `redis+cluster://host1:7000,host2:7001[?…]` (also `rediss+cluster://`).
 * Parsed by hand because a cluster URL holds several hosts.
 */
export function parseRedisUrl(url: string, defaults: { prefix?: string; ttlSeconds?: number } = {}): RedisTarget {
  const colon = url.indexOf(":");
  const scheme = SCHEMES[url.slice(0, colon + 1)];
  if (!scheme || url.slice(colon + 1, colon + 3) !== "//") throw bad(url, "must start with redis://, rediss://, redis+cluster:// or rediss+cluster://");
  let rest = url.slice(colon + 3);
  let query = "";
  const q = rest.indexOf("?");
  if (q >= 0) [rest, query] = [rest.slice(0, q), rest.slice(q + 1)];
  let path = "";
  const slash = rest.indexOf("/");
  if (slash >= 0) [rest, path] = [rest.slice(0, slash), rest.slice(slash + 1)];
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    const info = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const sep = info.indexOf(":");
    username = decodeURIComponent(sep >= 0 ? info.slice(0, sep) : info) || undefined;
    password = sep >= 0 ? decodeURIComponent(info.slice(sep + 1)) : undefined;
  }
  const nodes = (rest === "" ? ["127.0.0.1"] : rest.split(",")).map((hostPort) => parseHost(url, hostPort));
  if (!scheme.cluster && nodes.length > 1) throw bad(url, "lists several hosts; use redis+cluster:// for a cluster");
  const db = path === "" ? 0 : Number(path);
  if (!Number.isInteger(db) || db < 0) throw bad(url, `database must be a non-negative integer, not ${JSON.stringify(path)}`);
  if (scheme.cluster && db !== 0) throw bad(url, "a cluster has only database 0");
  const params = new StoreUrlOptions(query, ["prefix", "ttl", "password", "username"]);
  const ttl = params.string("ttl");
  return {
    ...scheme,
    nodes,
    db,
    username: params.string("username") ?? username,
    password: params.string("password") ?? password,
    prefix: checkPrefix(params.string("prefix") ?? defaults.prefix ?? DEFAULT_PREFIX),
    ttlSeconds: ttl !== undefined ? parseTtl(ttl) : (defaults.ttlSeconds ?? 0),
  };
}

function parseHost(url: string, hostPort: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostPort);
  if (!match) throw bad(url, `bad host ${JSON.stringify(hostPort)}`);
  const host = match[1]!.replace(/^\[(.*)\]$/, "$1");
  const port = match[2] === undefined ? 6379 : Number(match[2]);
  if (port < 1 || port > 65535) throw bad(url, `bad port in ${JSON.stringify(hostPort)}`);
  return { host, port };
}

function bad(url: string, problem: string): SessiondError {
  const shown = url.replace(/\/\/[^@/?]*@/, "//***@");
  return new SessiondError("invalid_argument", `store: Redis URL ${shown} ${problem}`);
}

/** A command client for the target: one multiplexed connection, or a cluster client with one per master. */
export function connectRedis(target: RedisTarget, subscriber = false): Redis | Cluster {
  const options: RedisOptions = {
    username: target.username,
    password: target.password,
    tls: target.tls ? {} : undefined,
    maxRetriesPerRequest: 2,
    connectTimeout: 5000,
    lazyConnect: true,
  };
  // Commands fail at once while the connection is down instead of waiting in
  // ioredis's offline queue, from which a write would run after its caller
  // was told it failed; the subscriber keeps the queue to re-subscribe.
  const client = target.cluster
    ? cluster(target, options, subscriber)
    : new Redis({ ...options, ...target.nodes[0]!, db: target.db, enableAutoPipelining: !subscriber, enableOfflineQueue: subscriber });
  // Failures reach callers through their commands; the event is only noise.
  client.on("error", () => {});
  return client;
}

function cluster(target: RedisTarget, options: RedisOptions, subscriber: boolean): Cluster {
  return new Cluster(target.nodes, {
    redisOptions: options,
    lazyConnect: true,
    // Fail fast while the cluster is down instead of queueing without limit.
    enableOfflineQueue: false,
    enableAutoPipelining: !subscriber,
    shardedSubscribers: subscriber,
    scaleReads: "master",
    clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
  });
}
