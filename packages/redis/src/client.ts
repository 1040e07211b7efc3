import type IORedis from 'ioredis';
import type { Cluster } from 'ioredis';

/** What the store runs on: an ioredis standalone client or a Cluster client. */
export type RedisClient = IORedis | Cluster;

/** True for an ioredis Cluster client. */
export function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

/** The ioredis `keyPrefix` option of a client, which it adds to every key it sends. */
export function clientKeyPrefix(client: RedisClient): string {
  const options = client.options as { keyPrefix?: string; redisOptions?: { keyPrefix?: string } };
  return options.keyPrefix ?? options.redisOptions?.keyPrefix ?? '';
}

/** Where a client connects, for error messages: `127.0.0.1:6379`, or a cluster's seed nodes. */
export function describeEndpoint(client: RedisClient): string {
  if (isCluster(client)) {
    const seeds = (client as unknown as { startupNodes?: unknown[] }).startupNodes ?? [];
    const names = seeds.map((n) =>
      typeof n === 'object' && n !== null ? `${(n as { host?: string }).host ?? '127.0.0.1'}:${(n as { port?: number }).port ?? 6379}` : String(n),
    );
    return `the cluster at ${names.join(',') || '(no seed nodes)'}`;
  }
  const o = client.options as { host?: string; port?: number; path?: string | null };
  return o.path ? `the server at ${o.path}` : `the server at ${o.host ?? 'localhost'}:${o.port ?? 6379}`;
}

/**
 * Closes a client the store opened. QUIT resolves on the server's OK, before the socket has
 * closed: wait for 'end' too, so nothing of the store is left open when close() returns
 * (bounded, for a dead server).
 */
export async function quitClient(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  const ended = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2000);
    timer.unref();
    client.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  try {
    await client.quit();
  } catch {
    // Already closed or unreachable: drop the socket and stop reconnecting.
    client.disconnect();
  }
  await ended;
  // Read again: the status changed while awaiting.
  if ((client.status as string) !== 'end') client.disconnect();
}
