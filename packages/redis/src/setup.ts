import { AgentSessionsError, classifyError } from '@agent-sessions/core/store';
import { REDIS_ERRORS } from './errors.js';
import type IORedis from 'ioredis';
import { isCluster, type RedisClient } from './client.js';
import { loadScripts } from './scripts.js';

/** What the store does on a server that may evict keys: fail (the default) or warn. */
export type EvictionPolicyCheck = 'error' | 'warn';

/**
 * The server's `maxmemory-policy`: CONFIG GET, else the `maxmemory_policy` line of INFO memory
 * (managed services often refuse CONFIG but answer INFO); undefined when both are refused.
 */
async function readPolicy(node: IORedis): Promise<string | undefined> {
  // Only a refusal (renamed, disabled, not allowed by ACL) moves on: a server that does not
  // answer fails setup, so the call fails as unavailable instead of waiting twice.
  const refused = (err: unknown) => {
    if (classifyError(err, REDIS_ERRORS) === 'unavailable' || /^(WRONGPASS|NOAUTH)\b/.test((err as Error).message)) throw err;
  };
  try {
    const reply = (await node.call('CONFIG', 'GET', 'maxmemory-policy')) as string[];
    if (Array.isArray(reply) && typeof reply[1] === 'string') return reply[1];
  } catch (err) {
    refused(err);
  }
  try {
    const info = String(await node.call('INFO', 'memory'));
    return /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
  } catch (err) {
    refused(err);
    return undefined;
  }
}

/**
 * Refuses a server that may evict keys: under any `maxmemory-policy` but `noeviction`, Redis
 * drops keys when memory runs out, and a dropped run key or header silently loses acknowledged
 * history (1,568 of 4,000 acknowledged runs were lost under `volatile-lru`). `'warn'` logs instead.
 * A server that answers neither CONFIG GET nor INFO cannot be checked: a warning says so.
 */
export async function checkEviction(node: IORedis, where: string, mode: EvictionPolicyCheck): Promise<void> {
  const policy = await readPolicy(node);
  if (policy === 'noeviction') return;
  if (policy === undefined) {
    console.warn(
      `[agent-sessions] [redis] could not read maxmemory-policy on ${where} (CONFIG GET and INFO were refused): make sure it is noeviction, or Redis may drop sessions and runs when memory runs out`,
    );
    return;
  }
  const why = `${where} has maxmemory-policy '${policy}': when memory runs out Redis evicts keys, and an evicted run or header silently loses acknowledged history. Set maxmemory-policy noeviction (writes then fail with an OOM error instead)`;
  if (mode === 'warn') {
    console.warn(`[agent-sessions] [redis] ${why}.`);
    return;
  }
  throw new AgentSessionsError('invalid_input', `${why}, or pass evictionPolicy: 'warn' to accept the risk.`, { source: 'redis' });
}

/**
 * The store's one-time setup: on every server it writes to (each master of a cluster), check the
 * eviction policy and load the scripts. Core runs it before the first call and again after a
 * failure.
 */
export async function setupServers(client: RedisClient, mode: EvictionPolicyCheck): Promise<void> {
  let nodes: IORedis[];
  if (isCluster(client)) {
    // The slot map is known once the cluster client is ready; a keyless command waits for it.
    if (client.status !== 'ready') await client.ping();
    nodes = client.nodes('master');
  } else {
    nodes = [client];
  }
  await Promise.all(
    nodes.map(async (node) => {
      const where = `the Redis server at ${node.options.host ?? 'localhost'}:${node.options.port ?? 6379}`;
      await checkEviction(node, where, mode);
      await loadScripts(node);
    }),
  );
}
