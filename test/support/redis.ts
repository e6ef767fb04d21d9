import { Cluster, Redis } from "ioredis";

/**
 * Deletes every key under a store prefix with SCAN and UNLINK (on every
 * master of a cluster), never FLUSHDB, so other data on the server survives.
 */
export async function deleteRedisPrefix(client: Redis | Cluster, prefix: string): Promise<number> {
  const nodes = client instanceof Cluster ? client.nodes("master") : [client];
  let deleted = 0;
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", `{${prefix}[:}]*`, "COUNT", 1000);
      cursor = next;
      // One key per UNLINK: keys of different slots must not share a command in a cluster.
      deleted += (await Promise.all(keys.map((key) => node.unlink(key)))).reduce((a, b) => a + b, 0);
    } while (cursor !== "0");
  }
  return deleted;
}

/** A client for a plain Redis URL, failing fast when the server is unreachable. */
export async function connectTestRedis(url: string): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  return client;
}
