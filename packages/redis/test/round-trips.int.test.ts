import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type IORedis from 'ioredis';
import type { Cluster } from 'ioredis';
import { KeyLayout, RedisStore } from '@agent-sessions/redis';
import { clientAddress, clusterClient, clusterNodes, randomPrefix, watchServer, type SeenCommand } from './helpers.js';

type Watcher = Awaited<ReturnType<typeof watchServer>>;

const names = (cmds: SeenCommand[]): string[] => cmds.map((c) => c.name);

describe('round trips on a standalone server (counted with MONITOR)', () => {
  let store: RedisStore;
  let watch: Watcher;
  let addr: string;
  /** What the store's connection sent, and what the scripts it ran did, since the last call. */
  const observe = async () => {
    const all = await watch.take();
    return { sent: all.filter((c) => c.source === addr), lua: all.filter((c) => c.source === 'lua') };
  };

  beforeAll(async () => {
    store = RedisStore.fromConnectionString(inject('redisUrl'), { prefix: randomPrefix('rt'), ttl: '1h' });
    watch = await watchServer(inject('redisUrl'));
    addr = await clientAddress(store.client as IORedis);
    // Loads the scripts (the first call of each is EVALSHA, NOSCRIPT, EVAL).
    await store.appendRun({ agentId: 'warm', sessionId: 'up', userId: 'u', format: 'plain', items: ['x'] });
    await store.listRuns({ agentId: 'warm', sessionId: 'up', userId: 'u', limit: 1 });
    await store.appendRun({ agentId: 'warm', sessionId: 'up', format: 'plain', items: ['y'] });
    await observe();
  });

  afterAll(async () => {
    await watch?.close();
    await store?.close();
  });

  it('an append that creates a session, with its user and agent indexes, is one EVALSHA', async () => {
    await store.appendRun({ agentId: 'rt', sessionId: 'new', userId: 'alice', format: 'plain', items: ['a', 'b'] });
    const { sent, lua } = await observe();
    expect(names(sent)).toEqual(['evalsha']);
    // Inside the script: the session's four keys plus both listing indexes, all with a TTL.
    expect(names(lua)).toContain('zadd');
    expect(lua.filter((c) => c.name === 'pexpire').length).toBeGreaterThanOrEqual(4);
  });

  it('an append to an existing session is one EVALSHA', async () => {
    await store.appendRun({ agentId: 'rt', sessionId: 'new', userId: 'alice', format: 'plain', items: ['c'] });
    expect(names((await observe()).sent)).toEqual(['evalsha']);
  });

  it('a retried append (same runId) is one EVALSHA and writes nothing', async () => {
    const ref = { agentId: 'rt', sessionId: 'retry', format: 'plain', items: ['x'], runId: 'r-1' };
    await store.appendRun(ref);
    await observe();
    await store.appendRun(ref);
    const { sent, lua } = await observe();
    expect(names(sent)).toEqual(['evalsha']);
    expect(names(lua).filter((n) => !['hmget', 'hget'].includes(n))).toEqual([]);
  });

  it('loading the last 5 of 200 runs is one HMGET of the data hash: the header copy, those 5 runs and 4 seqs of slack', async () => {
    const ref = { agentId: 'rt', sessionId: 'long', userId: 'bob' };
    for (let i = 1; i <= 200; i++) await store.appendRun({ ...ref, format: 'plain', items: [`turn-${i}`] });
    await observe();
    const runs = await store.listRuns({ ...ref, limit: 5 });
    expect(runs.map((r) => r.seq)).toEqual([196, 197, 198, 199, 200]);
    expect(runs.map((r) => r.items[0])).toEqual(['turn-196', 'turn-197', 'turn-198', 'turn-199', 'turn-200']);
    const { sent, lua } = await observe();
    expect(names(sent)).toEqual(['hmget']);
    expect(lua).toEqual([]);
    const [, d] = new KeyLayout(store.prefix).session(ref.agentId, ref.sessionId);
    expect(sent[0]?.args).toEqual([d, 'h', 's204', 's203', 's202', 's201', 's200', 's199', 's198', 's197', 's196']);
  });

  it('a store that has not seen the session loads its window with one EVALSHA that reads exactly those runs', async () => {
    const other = RedisStore.fromConnectionString(inject('redisUrl'), { prefix: store.prefix });
    try {
      const otherAddr = await clientAddress(other.client as IORedis);
      await other.getSession({ agentId: 'warm', sessionId: 'up' }); // connected, scripts known
      await watch.take();
      const runs = await other.listRuns({ agentId: 'rt', sessionId: 'long', userId: 'bob', limit: 5 });
      expect(runs.map((r) => r.seq)).toEqual([196, 197, 198, 199, 200]);
      const all = await watch.take();
      expect(names(all.filter((c) => c.source === otherAddr))).toEqual(['evalsha']);
      // Header check, then one HMGET of just those runs (seqs are gapless up to lastSeq).
      const lua = all.filter((c) => c.source === 'lua');
      expect(names(lua)).toEqual(['hmget', 'hmget']);
      expect(lua[1]?.args.slice(1).sort()).toEqual(['s196', 's197', 's198', 's199', 's200']);
      // Now it knows the newest seq: the next window load is one HMGET.
      await other.listRuns({ agentId: 'rt', sessionId: 'long', userId: 'bob', limit: 5 });
      expect(names((await watch.take()).filter((c) => c.source === otherAddr))).toEqual(['hmget']);
    } finally {
      await other.close();
    }
  });

  it('paging further back (beforeSeq) is also one EVALSHA', async () => {
    const runs = await store.listRuns({ agentId: 'rt', sessionId: 'long', userId: 'bob', limit: 3, beforeSeq: 100 });
    expect(runs.map((r) => r.seq)).toEqual([97, 98, 99]);
    expect(names((await observe()).sent)).toEqual(['evalsha']);
  });

  it('readHistory (header and window together) is one HMGET reading only the header copy and those runs', async () => {
    const res = await store.readHistory({ agentId: 'rt', sessionId: 'long', userId: 'bob', limit: 3 });
    expect(res.session?.lastSeq).toBe(200);
    expect(res.session?.userId).toBe('bob');
    expect(res.runs.map((r) => r.seq)).toEqual([198, 199, 200]);
    const { sent, lua } = await observe();
    expect(names(sent)).toEqual(['hmget']);
    expect(lua).toEqual([]);
    expect(sent[0]?.args.slice(1)).toEqual(['h', 's204', 's203', 's202', 's201', 's200', 's199', 's198']);
  });

  it('a window over a gap left by prune reads the seq index, then exactly the runs there', async () => {
    const ref = { agentId: 'rt', sessionId: 'gap', userId: 'bob' };
    for (let i = 1; i <= 6; i++) await store.appendRun({ ...ref, format: 'plain', items: [`turn-${i}`] });
    const [, d, q, c] = new KeyLayout(store.prefix).session(ref.agentId, ref.sessionId);
    const raw = store.client as IORedis;
    // As prune leaves it when run 5 was created before the cut (clocks of two writers apart).
    const blob = (await raw.hget(d, 's5')) as string;
    await raw.hdel(d, 's5', `i${blob.slice(0, blob.indexOf('\n'))}`);
    await raw.zrem(q, '5');
    await raw.zrem(c, '5');
    await observe();
    const runs = await store.listRuns({ ...ref, limit: 3 });
    expect(runs.map((r) => r.seq)).toEqual([3, 4, 6]);
    // The HMGET finds s5 missing; the read script then asks the seq index.
    const { sent, lua } = await observe();
    expect(names(sent)).toEqual(['hmget', 'evalsha']);
    expect(names(lua)).toEqual(['hmget', 'hmget', 'zrevrangebyscore', 'hmget']);
    expect(lua[3]?.args.slice(1).sort()).toEqual(['s3', 's4', 's6']);
    // For the next reads of this session the script answers at once: one round trip each.
    for (let i = 0; i < 8; i++) {
      expect((await store.listRuns({ ...ref, limit: 3 })).map((r) => r.seq)).toEqual([3, 4, 6]);
      expect(names((await observe()).sent)).toEqual(['evalsha']);
    }
  });

  it('a window read after another instance appended past the slack is still whole (the script answers)', async () => {
    const ref = { agentId: 'rt', sessionId: 'shared', userId: 'bob' };
    const other = RedisStore.fromConnectionString(inject('redisUrl'), { prefix: store.prefix });
    try {
      await store.appendRun({ ...ref, format: 'plain', items: ['mine'] });
      for (let i = 2; i <= 7; i++) await other.appendRun({ ...ref, format: 'plain', items: [`theirs-${i}`] });
      await observe();
      const runs = await store.listRuns({ ...ref, limit: 3 });
      expect(runs.map((r) => [r.seq, r.items[0]])).toEqual([[5, 'theirs-5'], [6, 'theirs-6'], [7, 'theirs-7']]);
      expect(names((await observe()).sent)).toEqual(['hmget', 'evalsha']);
      // Within the slack, the HMGET alone answers (after the reads that go to the script).
      for (let i = 0; i < 8; i++) await store.listRuns({ ...ref, limit: 3 });
      await other.appendRun({ ...ref, format: 'plain', items: ['theirs-8'] });
      await observe();
      expect((await store.listRuns({ ...ref, limit: 3 })).map((r) => r.seq)).toEqual([6, 7, 8]);
      expect(names((await observe()).sent)).toEqual(['hmget']);
    } finally {
      await other.close();
    }
  });

  it('a session another instance deleted: the HMGET finds no header copy, the script says absent, and later loads are the script alone', async () => {
    const ref = { agentId: 'rt', sessionId: 'gone', userId: 'bob' };
    const other = RedisStore.fromConnectionString(inject('redisUrl'), { prefix: store.prefix });
    try {
      await store.appendRun({ ...ref, format: 'plain', items: ['x'] });
      await other.deleteSession(ref);
      await observe();
      expect(await store.listRuns({ ...ref, limit: 3 })).toEqual([]);
      expect(names((await observe()).sent)).toEqual(['hmget', 'evalsha']);
      expect((await store.readHistory({ ...ref, limit: 3 })).session).toBeNull();
      expect(names((await observe()).sent)).toEqual(['evalsha']);
      // Appended again: known again, one HMGET.
      await store.appendRun({ ...ref, format: 'plain', items: ['y'] });
      await observe();
      expect((await store.listRuns({ ...ref, limit: 3 })).map((r) => r.items)).toEqual([['y']]);
      expect(names((await observe()).sent)).toEqual(['hmget']);
    } finally {
      await other.close();
    }
  });

  it('an append with expectedLastSeq is still one EVALSHA; a stale one writes nothing', async () => {
    const ref = { agentId: 'rt', sessionId: 'long', userId: 'bob', format: 'plain' };
    await store.appendRun({ ...ref, items: ['next'], expectedLastSeq: 200 });
    expect(names((await observe()).sent)).toEqual(['evalsha']);
    await expect(store.appendRun({ ...ref, items: ['stale'], expectedLastSeq: 200 })).rejects.toMatchObject({ code: 'conflict' });
    const { sent, lua } = await observe();
    expect(names(sent)).toEqual(['evalsha']);
    expect(names(lua).filter((n) => !['hmget', 'hget'].includes(n))).toEqual([]);
  });

  it('getSession is one HMGET', async () => {
    await store.getSession({ agentId: 'rt', sessionId: 'long' });
    expect(names((await observe()).sent)).toEqual(['hmget']);
  });

  it('a call naming no user on a user\'s session needs a second call for that user\'s indexes', async () => {
    // The script cannot name the owner's index keys before it has read the owner; it reports
    // the indexes as not done and the store updates them: one EVALSHA on the agent's indexes and,
    // sent at the same time, one on the user's index across agents (contract v2).
    await store.appendRun({ agentId: 'rt', sessionId: 'new', format: 'plain', items: ['d'] });
    const { sent } = await observe();
    expect(names(sent)).toEqual(['evalsha', 'evalsha', 'evalsha']);
    expect(sent.slice(1).map((c) => (c.args[2] ?? '').replace(/^.*\}:/, '')).sort()).toEqual(['all', 's']);
  });
});

describe('round trips in a cluster (MONITOR on every master)', () => {
  let store: RedisStore;
  let watchers: Watcher[];
  let addrs: Set<string>;
  const observe = async () => {
    const all = (await Promise.all(watchers.map((w) => w.take()))).flat();
    return all.filter((c) => addrs.has(c.source));
  };

  beforeAll(async () => {
    const client: Cluster = clusterClient();
    store = new RedisStore({ client, prefix: randomPrefix('rt-cluster') });
    // Enough sessions and agents that every node has run every script once (EVALSHA, NOSCRIPT, EVAL).
    // This runs before MONITOR starts: the cluster client's connections are all open by then, so
    // no connection handshake (HELLO) reaches a monitor while it is still entering monitor mode,
    // which ioredis 6 reports as a "Command queue state error".
    for (let i = 0; i < 30; i++) {
      const ref = { agentId: `warm-${i}`, sessionId: `up-${i}`, userId: 'u' };
      await store.appendRun({ ...ref, format: 'plain', items: ['x'] });
      await store.listRuns({ ...ref, limit: 1 });
    }
    watchers = await Promise.all(clusterNodes().map((n) => watchServer(n)));
    addrs = new Set(await Promise.all(client.nodes('master').map((n) => clientAddress(n))));
    await observe();
  });

  afterAll(async () => {
    await Promise.all((watchers ?? []).map((w) => w.close()));
    await store?.client.quit();
  });

  it('an append is one EVALSHA on the session\'s node, then one on the agent index\'s node', async () => {
    await store.appendRun({ agentId: 'rt', sessionId: 's0', format: 'plain', items: ['a'] });
    expect(names(await observe())).toEqual(['evalsha', 'evalsha']);
  });

  it('an append to a user\'s session adds one EVALSHA on the user index\'s node, sent with the agent index\'s', async () => {
    await store.appendRun({ agentId: 'rt', sessionId: 's1', userId: 'alice', format: 'plain', items: ['a'] });
    const seen = await observe();
    expect(names(seen)).toEqual(['evalsha', 'evalsha', 'evalsha']);
    expect(seen.slice(1).map((c) => (c.args[2] ?? '').replace(/^.*\}:/, '')).sort()).toEqual(['all', 's']);
  });

  it('a window load is one HMGET on the session\'s node', async () => {
    await store.listRuns({ agentId: 'rt', sessionId: 's1', userId: 'alice', limit: 10 });
    expect(names(await observe())).toEqual(['hmget']);
  });
});
