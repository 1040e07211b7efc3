import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import { inject } from 'vitest';

/** A key prefix of its own for each test file, so files never see each other's data. */
export function randomPrefix(tag: string): string {
  return `test:${tag}:${randomBytes(4).toString('hex')}:`;
}

/** The seed nodes of the harness's three-master cluster. */
export function clusterNodes(): { host: string; port: number }[] {
  return inject('redisClusterNodes').map((n) => {
    const i = n.lastIndexOf(':');
    return { host: n.slice(0, i), port: Number(n.slice(i + 1)) };
  });
}

/** A Cluster client with the same fail-fast settings fromConnectionString uses. */
export function clusterClient(): Cluster {
  const client = new Cluster(clusterNodes(), {
    redisOptions: { maxRetriesPerRequest: 1, commandTimeout: 5000, connectTimeout: 5000 },
  });
  client.on('error', () => {});
  return client;
}
