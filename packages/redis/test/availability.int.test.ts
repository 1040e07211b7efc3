import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejectsWith } from '@agent-sessions/conformance';
import { RedisStore } from '@agent-sessions/redis';
import { startRedisServer, type RedisServer } from '../../../test/services/redis.js';
import { freePort, waitFor } from '../../../test/services/util.js';
import { randomPrefix } from './helpers.js';

// fromConnectionString's defaults: calls fail fast while the server is down and work again
// once it is back, without a new store. Runs on a server of its own, which it stops.
describe('availability (a server of its own, stopped and restarted)', () => {
  let server: RedisServer;
  const prefix = randomPrefix('availability');
  const ref = { agentId: 'agent', sessionId: 'session' };

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.destroy();
  });

  const timed = async (fn: () => Promise<unknown>): Promise<number> => {
    const t0 = Date.now();
    await rejectsWith(fn, 'unavailable');
    return Date.now() - t0;
  };

  it('while the server is down every call fails with unavailable within seconds, then works again once it is back', async () => {
    const store = RedisStore.fromConnectionString(server.url, { prefix });
    try {
      await store.appendRun({ ...ref, format: 'plain', items: ['before'] });
      await server.stop();
      const took = [
        await timed(() => store.appendRun({ ...ref, format: 'plain', items: ['during'] })),
        await timed(() => store.listRuns({ ...ref, limit: 10 })),
        await timed(() => store.getSession(ref)),
        await timed(() => store.listSessions({ agentId: ref.agentId })),
      ];
      for (const ms of took) expect(ms).toBeLessThan(5000);
      await server.restart();
      // The client reconnects by itself; the same store serves again.
      await waitFor('the store after the restart', async () => (await store.getSession(ref)) === null, {
        timeoutMs: 15_000,
      });
      const res = await store.appendRun({ ...ref, format: 'plain', items: ['after'] });
      // No persistence on this server: the restart lost the session, so this starts it again.
      expect(res.run.seq).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('a server that is not there: the first call fails with unavailable within seconds', async () => {
    const store = RedisStore.fromConnectionString(`redis://127.0.0.1:${await freePort()}`, { prefix });
    try {
      expect(await timed(() => store.appendRun({ ...ref, format: 'plain', items: ['x'] }))).toBeLessThan(5000);
    } finally {
      await store.close();
    }
  });

  it('a call that gets no reply within commandTimeout fails with unavailable', async () => {
    const store = RedisStore.fromConnectionString(server.url, { prefix, redis: { commandTimeout: 300 } });
    const admin = RedisStore.fromConnectionString(server.url, { prefix });
    try {
      await store.getSession(ref);
      // CLIENT PAUSE holds every other client's commands on the server: a hung server, for a while.
      await admin.client.call('CLIENT', 'PAUSE', '1500', 'ALL');
      expect(await timed(() => store.getSession(ref))).toBeLessThan(1500);
    } finally {
      await admin.client.call('CLIENT', 'UNPAUSE').catch(() => {});
      await admin.close();
      await store.close();
    }
  });
});
