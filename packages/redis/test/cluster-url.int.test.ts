import { describe, expect, inject, it } from 'vitest';
import { createStore } from '@agent-sessions/core';
import { RedisStore } from '@agent-sessions/redis';
import { randomPrefix } from './helpers.js';

// Issue 14 item 12: a Redis Cluster by URL, against the harness's three-master cluster.
describe('redis+cluster:// URLs', () => {
  it('createStore builds a Cluster store over the listed seed nodes, with the fail-fast defaults', async () => {
    const nodes = inject('redisClusterNodes');
    const store = (await createStore(`redis+cluster://${nodes.join(',')}?ttl=1h`, { prefix: randomPrefix('cluster-url') })) as RedisStore;
    try {
      expect(store).toBeInstanceOf(RedisStore);
      expect((store.client as { isCluster?: boolean }).isCluster).toBe(true);
      const ref = { agentId: 'a', sessionId: 's', userId: 'u' };
      for (let i = 1; i <= 3; i++) {
        const res = await store.appendRun({ ...ref, format: 'plain', items: [i] });
        expect(res.run.seq).toBe(i);
        expect(res.session.ttlMs).toBe(3_600_000);
      }
      expect((await store.readHistory({ ...ref, limit: 2 })).runs.map((r) => r.items)).toEqual([[2], [3]]);
      expect((await store.listSessions({ agentId: 'a', userId: 'u' })).sessions.map((s) => s.sessionId)).toEqual(['s']);
      // The nodes got the driver bound.
      const node = (store.client as unknown as { nodes(role: string): { options: { commandTimeout?: number; maxRetriesPerRequest?: number } }[] }).nodes('master')[0];
      expect(node?.options.commandTimeout).toBe(5000);
      expect(node?.options.maxRetriesPerRequest).toBe(1);
    } finally {
      await store.close();
    }
    expect(store.client.status).toBe('end');
  });

  it('one seed node is enough: the client discovers the others', async () => {
    const [first] = inject('redisClusterNodes');
    const store = await createStore(`redis+cluster://${first}`, { prefix: randomPrefix('cluster-url-one') });
    try {
      for (let i = 0; i < 10; i++) await store.appendRun({ agentId: `agent-${i}`, sessionId: `s-${i}`, format: 'plain', items: ['x'] });
      for (let i = 0; i < 10; i++) expect(await store.getSession({ agentId: `agent-${i}`, sessionId: `s-${i}` })).not.toBeNull();
    } finally {
      await store.close();
    }
  });
});
