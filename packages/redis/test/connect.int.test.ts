import { describe, expect, inject, it } from 'vitest';
import type IORedis from 'ioredis';
import { createStoreFromUrl, REDIS_CONNECTION_DEFAULTS, RedisStore } from '@agent-sessions/redis';
import { randomPrefix } from './helpers.js';

describe('createStoreFromUrl and fromConnectionString', () => {
  it('open a client of their own with the defaults, under the caller\'s ioredis options, and close it', async () => {
    const prefix = randomPrefix('connect');
    const store = createStoreFromUrl(inject('redisUrl'), { prefix, ttl: '1h', redis: { connectionName: 'as-connect-test' } });
    expect(store).toBeInstanceOf(RedisStore);
    const client = store.client as IORedis;
    expect(client.options.maxRetriesPerRequest).toBe(REDIS_CONNECTION_DEFAULTS.maxRetriesPerRequest);
    expect(client.options.commandTimeout).toBe(5000);
    const res = await store.appendRun({ agentId: 'a', sessionId: 's', format: 'plain', items: ['x'] });
    expect(res.session.ttlMs).toBe(3_600_000);
    expect(String(await client.call('CLIENT', 'INFO'))).toContain('name=as-connect-test');
    expect(JSON.stringify(store)).toBe('{"store":"redis"}');
    await store.close();
    expect(client.status).toBe('end');
  });

  it('leave an injected client open on close()', async () => {
    const owner = RedisStore.fromConnectionString(inject('redisUrl'));
    const borrowed = new RedisStore({ client: owner.client, prefix: randomPrefix('borrow') });
    await borrowed.getSession({ agentId: 'a', sessionId: 's' });
    await borrowed.close();
    expect(owner.client.status).toBe('ready');
    await owner.close();
  });
});
