import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import IORedis, { type Cluster } from 'ioredis';
import { isAgentSessionsError } from '@agent-sessions/core';
import { KeyLayout, RedisStore, encodeId } from '@agent-sessions/redis';
import { clusterClient, randomPrefix } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function keysUnder(client: IORedis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out.sort();
}

// Reads the database directly to check what the store really wrote.
describe('key layout and TTLs (standalone)', () => {
  const prefix = randomPrefix('layout');
  let raw: IORedis;
  let store: RedisStore;

  beforeAll(() => {
    raw = new IORedis(inject('redisUrl'));
    store = RedisStore.fromConnectionString(inject('redisUrl'), { prefix });
  });
  afterAll(async () => {
    await store?.close();
    raw?.disconnect();
  });

  it('ids of any shape are encoded: six keys per user\'s session, each under the prefix, with the TTL', async () => {
    const ref = { agentId: 'a:{b}* c', sessionId: '* ä{x}\\?[', userId: 'u:*} 日本' };
    await store.appendRun({ ...ref, format: 'plain', items: ['x'], ttl: 60_000 });
    const a = encodeId(ref.agentId);
    const s = encodeId(ref.sessionId);
    const session = `${prefix}{s.${a}.${s}}`;
    expect(await keysUnder(raw, `${prefix}{?.${a}`)).toEqual(
      [
        `${session}:c`,
        `${session}:d`,
        `${session}:h`,
        `${session}:q`,
        `${prefix}{a.${a}}:all`,
        `${prefix}{a.${a}}:u.${encodeId(ref.userId)}`,
      ].sort(),
    );
    for (const key of await keysUnder(raw, `${prefix}{?.${a}`)) {
      expect(key.slice(prefix.length)).toMatch(/^\{[as]\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)?\}:(all|[cdhq]|u\.[A-Za-z0-9_-]+)$/);
      const ttl = await raw.pttl(key);
      expect(ttl).toBeGreaterThan(55_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
    expect(await raw.zscore(`${prefix}{a.${a}}:all`, ref.sessionId)).not.toBeNull();
  });

  it('a session without a TTL has keys without one, and so has its index', async () => {
    const ref = { agentId: 'no-ttl', sessionId: 's' };
    await store.appendRun({ ...ref, format: 'plain', items: ['x'] });
    for (const key of await keysUnder(raw, `${prefix}{?.${encodeId(ref.agentId)}`)) expect(await raw.pttl(key)).toBe(-1);
  });

  it('an index whose sessions all have a TTL expires with them', async () => {
    const agentId = 'short-lived';
    await store.appendRun({ agentId, sessionId: 's1', userId: 'u', format: 'plain', items: ['x'], ttl: 300 });
    await store.appendRun({ agentId, sessionId: 's2', format: 'plain', items: ['x'], ttl: 400 });
    expect((await keysUnder(raw, `${prefix}{?.${encodeId(agentId)}`)).length).toBe(10);
    await sleep(600);
    expect(await keysUnder(raw, `${prefix}{?.${encodeId(agentId)}`)).toEqual([]);
  });

  it('an expired session\'s entry in an index that outlives it is removed by the next listing', async () => {
    const agentId = 'mixed';
    const index = `${prefix}{a.${encodeId(agentId)}}:all`;
    await store.appendRun({ agentId, sessionId: 'forever', format: 'plain', items: ['x'] });
    await store.appendRun({ agentId, sessionId: 'brief', format: 'plain', items: ['x'], ttl: 200 });
    await sleep(400);
    expect(await raw.zscore(index, 'brief')).not.toBeNull();
    const page = await store.listSessions({ agentId });
    expect(page.sessions.map((x) => x.sessionId)).toEqual(['forever']);
    expect(await raw.zscore(index, 'brief')).toBeNull();
  });

  it('a listing puts a session whose index entry lags behind its header back in its place', async () => {
    const agentId = 'lagging';
    const index = `${prefix}{a.${encodeId(agentId)}}:all`;
    const { session } = await store.appendRun({ agentId, sessionId: 's', format: 'plain', items: ['x'] });
    // What a cluster client that died between the session write and the index write leaves behind.
    await raw.zadd(index, 1, 's');
    const page = await store.listSessions({ agentId });
    expect(page.sessions.map((x) => x.updatedAt)).toEqual([session.updatedAt]);
    expect(Number(await raw.zscore(index, 's'))).toBe(session.updatedAt);
  });

  it('touchOnRead: reading a session restarts the TTL of all its keys and of its indexes', async () => {
    const touching = RedisStore.fromConnectionString(inject('redisUrl'), { prefix, touchOnRead: true });
    try {
      const ref = { agentId: 'touch', sessionId: 's', userId: 'u' };
      const first = await touching.appendRun({ ...ref, format: 'plain', items: ['x'], ttl: 2000 });
      await sleep(700);
      const h = await touching.getSession(ref);
      expect(h?.expiresAt).toBeGreaterThan(first.session.expiresAt as number);
      expect(h?.version).toBe(first.session.version);
      for (const key of await keysUnder(raw, `${prefix}{?.${encodeId(ref.agentId)}`)) {
        expect(await raw.pttl(key)).toBeGreaterThan(1700);
      }
      await sleep(700);
      await touching.listRuns({ ...ref, limit: 1 });
      await sleep(1000);
      // 2.4 s after the append, alive thanks to the reads.
      expect((await store.listSessions({ agentId: ref.agentId, userId: 'u' })).sessions).toHaveLength(1);
      expect(await store.listRuns({ ...ref, limit: 5 })).toHaveLength(1);
    } finally {
      await touching.close();
    }
  });

  it('prune without an agentId finds every agent under the prefix (SCAN) and removes old runs', async () => {
    const own = randomPrefix('prune-all');
    const pruning = RedisStore.fromConnectionString(inject('redisUrl'), { prefix: own });
    try {
      for (const agentId of ['p1', 'p2']) await pruning.appendRun({ agentId, sessionId: 's', format: 'plain', items: ['old'] });
      await sleep(300);
      for (const agentId of ['p1', 'p2']) await pruning.appendRun({ agentId, sessionId: 's', format: 'plain', items: ['new'] });
      expect(await pruning.prune({ runsOlderThan: 150 })).toEqual({ sessions: 0, runs: 2 });
      for (const agentId of ['p1', 'p2']) {
        expect((await pruning.listRuns({ agentId, sessionId: 's', limit: 5 })).map((r) => r.items)).toEqual([['new']]);
      }
    } finally {
      await pruning.close();
    }
  });

  it('a client with an ioredis keyPrefix works: every key gets it, prune without agentId still finds them', async () => {
    const keyPrefix = `${randomPrefix('kp')}`;
    const prefixed = new IORedis(inject('redisUrl'), { keyPrefix });
    const kp = new RedisStore({ client: prefixed, prefix: 'as:' });
    try {
      const ref = { agentId: 'kp', sessionId: 's', userId: 'u' };
      await kp.appendRun({ ...ref, format: 'plain', items: ['old'] });
      await sleep(200);
      await kp.appendRun({ ...ref, format: 'plain', items: ['new'] });
      // The session's four keys, the agent's two indexes, and the user's index across agents.
      expect((await keysUnder(raw, keyPrefix)).length).toBe(7);
      expect(await raw.exists(`${keyPrefix}as:{u.${encodeId('u')}}:s`)).toBe(1);
      expect((await kp.listSessions({ agentId: 'kp', userId: 'u' })).sessions.map((x) => x.sessionId)).toEqual(['s']);
      // The window load without a script names the prefixed data hash too: one HMGET, whole window.
      const sent: string[] = [];
      const send = prefixed.sendCommand.bind(prefixed);
      prefixed.sendCommand = ((cmd: { name: string }, ...rest: unknown[]) => {
        sent.push(cmd.name);
        return (send as (...a: unknown[]) => unknown)(cmd, ...rest);
      }) as typeof prefixed.sendCommand;
      expect((await kp.listRuns({ ...ref, limit: 5 })).map((r) => r.items)).toEqual([['old'], ['new']]);
      expect(sent).toEqual(['hmget']);
      expect(await kp.prune({ runsOlderThan: 100 })).toEqual({ sessions: 0, runs: 1 });
      expect((await kp.listRuns({ ...ref, limit: 5 })).map((r) => r.items)).toEqual([['new']]);
    } finally {
      prefixed.disconnect();
    }
  });

  it('a user\'s index across agents: one `agent\\0session` member per session, with the longest TTL, dropped on delete', async () => {
    const userId = 'erase-me';
    const key = `${prefix}{u.${encodeId(userId)}}:s`;
    await store.appendRun({ agentId: 'ua', sessionId: 's1', userId, format: 'plain', items: ['x'], ttl: 60_000 });
    await store.appendRun({ agentId: 'ua', sessionId: 's1', userId, format: 'plain', items: ['y'] });
    await store.appendRun({ agentId: 'ub', sessionId: 's2', userId, format: 'plain', items: ['x'], ttl: 30_000 });
    expect(await raw.zrange(key, '0', '-1', 'WITHSCORES')).toEqual(['ua\0s1', '0', 'ub\0s2', '0']);
    const ttl = await raw.pttl(key);
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    // A session without a TTL makes the index permanent.
    await store.appendRun({ agentId: 'uc', sessionId: 's3', userId, format: 'plain', items: ['x'], ttl: null });
    expect(await raw.pttl(key)).toBe(-1);
    expect(await store.deleteSession({ agentId: 'ub', sessionId: 's2', userId })).toBe(true);
    expect(await raw.zrange(key, '0', '-1')).toEqual(['ua\0s1', 'uc\0s3']);
    expect((await store.listUserSessions({ userId })).map((h) => `${h.agentId}/${h.sessionId}`)).toEqual(['ua/s1', 'uc/s3']);
  });

  it('a header written before contract v2 (no title, preview, usage or summarySeq) reads with the defaults and takes appends', async () => {
    const ref = { agentId: 'old', sessionId: 'v1' };
    await store.appendRun({ ...ref, format: 'plain', items: ['x'] });
    const [h] = new KeyLayout(prefix).session(ref.agentId, ref.sessionId);
    await raw.hdel(h, 'title', 'preview', 'usage', 'summarySeq');
    const got = await store.getSession(ref);
    expect(got).toMatchObject({ title: null, preview: null, summarySeq: 0, runCount: 1, usage: { requests: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0 } });
    const next = await store.appendRun({ ...ref, format: 'plain', items: ['y'], title: 'T', usage: { requests: 1, totalTokens: 9 } });
    expect(next.session).toMatchObject({ title: 'T', runCount: 2, usage: { requests: 1, inputTokens: 0, outputTokens: 0, totalTokens: 9 } });
    expect(await raw.hget(h, 'usage')).toBe('1,0,0,9');
  });

  it('a session written record by record as stored so far (header hash, run blobs, id map, seq indexes) loads, retries and takes appends', async () => {
    // The layout and run encoding the scripts read, written here with plain commands rather
    // than through the store, so a script change that stops reading existing data fails here.
    const ref = { agentId: 'raw', sessionId: 'written-by-hand', userId: 'ann' };
    const [h, d, q, c] = new KeyLayout(prefix).session(ref.agentId, ref.sessionId);
    const t0 = Date.now() - 60_000;
    const blob = (seq: number) =>
      [`run-${seq}`, JSON.stringify({ createdAt: t0 + seq, status: 'completed', format: 'plain', usage: null, metadata: { n: seq } }), JSON.stringify(`item ${seq}`), JSON.stringify({ k: [seq, 1.5, []] })].join('\n');
    await raw.hset(h, { agentId: ref.agentId, sessionId: ref.sessionId, userId: ref.userId, createdAt: t0, updatedAt: t0 + 3, metadata: '{"m":1}', state: '{}', version: 3, lastSeq: 3, title: 'T', usage: '3,10,20,30' });
    for (let seq = 1; seq <= 3; seq++) {
      await raw.hset(d, `s${seq}`, blob(seq), `irun-${seq}`, seq);
      await raw.zadd(q, seq, String(seq));
      await raw.zadd(c, t0 + seq, String(seq));
    }
    const history = await store.readHistory({ ...ref, limit: 2 });
    expect(history.session).toMatchObject({ version: 3, lastSeq: 3, title: 'T', metadata: { m: 1 }, usage: { requests: 3, totalTokens: 30 } });
    expect(history.runs).toEqual([2, 3].map((seq) => ({ runId: `run-${seq}`, seq, createdAt: t0 + seq, status: 'completed', format: 'plain', usage: null, metadata: { n: seq }, items: [`item ${seq}`, { k: [seq, 1.5, []] }] })));
    const retried = await store.appendRun({ ...ref, runId: 'run-2', format: 'plain', items: ['ignored'] });
    expect(retried.created).toBe(false);
    expect(retried.run).toMatchObject({ seq: 2, items: ['item 2', { k: [2, 1.5, []] }] });
    const next = await store.appendRun({ ...ref, format: 'plain', items: ['new'], usage: { requests: 1, totalTokens: 5 } });
    expect(next).toMatchObject({ created: true, run: { seq: 4 }, session: { version: 4, lastSeq: 4, title: 'T', usage: { requests: 4, inputTokens: 10, outputTokens: 20, totalTokens: 35 } } });
    expect((await store.listRuns({ ...ref, limit: 10 })).map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(await raw.zscore(q, '4')).toBe('4');
    expect(await raw.hget(d, `i${next.run.runId}`)).toBe('4');
    expect(await raw.hget(h, 'usage')).toBe('4,10,20,35');
    // New runs are stored in the array layout; the older runs stay as they were, and popItem
    // cuts items off either.
    expect(await raw.hget(d, 's4')).toBe(`${next.run.runId}\n[${JSON.stringify({ createdAt: next.run.createdAt, status: 'completed', format: 'plain', usage: { requests: 1, totalTokens: 5 }, metadata: null })}\n,"new"]`);
    expect(await raw.hget(d, 's3')).toBe(blob(3));
    expect((await store.popItem(ref))?.item).toBe('new');
    expect((await store.popItem(ref))?.item).toEqual({ k: [3, 1.5, []] });
    expect(await raw.hget(d, 's3')).toBe(blob(3).slice(0, blob(3).lastIndexOf('\n')));
    expect((await store.readHistory({ ...ref, limit: 1 })).runs[0]).toMatchObject({ seq: 3, items: ['item 3'] });
    expect((await store.popItem(ref))?.item).toBe('item 3');
    expect((await store.getSession(ref))?.lastSeq).toBe(2);
  });

  it('header text the read and append scripts send back as JSON (cjson) comes back exactly', async () => {
    const ref = { agentId: 'raw', sessionId: 'escapes', userId: 'u/"\\' };
    const text = 'a/b "q" \\ \n\t\r \u0001 \u007f \u2028\u2029 é 😀 \ud83d\ude00 </script>';
    const metadata = { k: text, n: 1e21, f: 0.1, nested: { '': [] } };
    // Titles and previews are kept on one line (whitespace runs become one space).
    const line = text.replace(/\s+/g, ' ');
    const created = await store.appendRun({ ...ref, format: 'plain', items: ['x'], title: text, preview: text, sessionMetadata: metadata });
    expect(created.session).toMatchObject({ title: line, preview: line, metadata, userId: ref.userId });
    const h = created.session;
    const updated = await store.updateSession({ ...ref, expectedVersion: h.version, state: { s: text }, summary: text });
    const next = await store.appendRun({ ...ref, format: 'plain', items: ['y'] });
    expect(next.session).toEqual({ ...updated, version: updated.version + 1, lastSeq: 2, runCount: 2, updatedAt: next.session.updatedAt });
    const read = await store.readHistory({ ...ref, limit: 1 });
    expect(read.session).toEqual(next.session);
    expect(read.session).toMatchObject({ title: line, preview: line, summary: text, state: { s: text }, metadata });
  });

  it('a run stored in the array layout pops item by item down to nothing, and a damaged one is refused untouched', async () => {
    const ref = { agentId: 'raw', sessionId: 'array-pop' };
    const d = new KeyLayout(prefix).session(ref.agentId, ref.sessionId)[1];
    await store.appendRun({ ...ref, format: 'plain', items: ['keep'] });
    const run = await store.appendRun({ ...ref, format: 'plain', items: [{ a: [] }, 'two', 3] });
    expect((await store.popItem(ref))?.item).toBe(3);
    expect(await raw.hget(d, 's2')).toMatch(/\n\[\{.*\}\n,\{"a":\[\]\}\n,"two"\]$/);
    expect((await store.listRuns({ ...ref, limit: 1 }))[0]?.items).toEqual([{ a: [] }, 'two']);
    expect((await store.popItem(ref))?.item).toBe('two');
    expect((await store.popItem(ref))?.item).toEqual({ a: [] });
    expect(await raw.hget(d, 's2')).toBeNull();
    expect(await raw.hget(d, `i${run.run.runId}`)).toBeNull();
    expect((await store.getSession(ref))?.lastSeq).toBe(1);
    const good = (await raw.hget(d, 's1')) as string;
    for (const damaged of [good.slice(0, -1), good.replace('\n,', '\n')]) {
      await raw.hset(d, 's1', damaged);
      await expect(store.popItem(ref)).rejects.toMatchObject({ code: 'internal' });
      expect(await raw.hget(d, 's1')).toBe(damaged);
    }
    await raw.hset(d, 's1', good);
    expect((await store.popItem(ref))?.item).toBe('keep');
  });

  it('a large session is restored in batches, its header last, and reads back whole', async () => {
    const ref = { agentId: 'big', sessionId: 'src' };
    for (let i = 1; i <= 1100; i++) await store.appendRun({ ...ref, format: 'plain', items: [`r${i}`] });
    const src = await store.getSession(ref);
    const runs = (await store.listRuns({ ...ref, limit: 1000 })).concat();
    const older = await store.listRuns({ ...ref, limit: 1000, beforeSeq: runs[0]?.seq });
    const all = [...older, ...runs];
    expect(all.length).toBe(1100);
    const { createdAt, updatedAt, ttlMs, expiresAt, metadata, state, summary } = src!;
    const restored = await store.restoreSession({ agentId: 'big', sessionId: 'copy', header: { createdAt, updatedAt, ttlMs, expiresAt, metadata, state, summary }, runs: all });
    expect(restored.lastSeq).toBe(1100);
    const back = await store.listRuns({ agentId: 'big', sessionId: 'copy', limit: 1000, beforeSeq: 101 });
    expect(back.map((r) => r.items[0])).toEqual(Array.from({ length: 100 }, (_, i) => `r${i + 1}`));
    const [, d, q, c] = new KeyLayout(prefix).session('big', 'copy');
    expect(await raw.zcard(q)).toBe(1100);
    expect(await raw.zcard(c)).toBe(1100);
    // Each run and its run id, and the header as written (field 'h', read by window loads).
    expect(await raw.hlen(d)).toBe(2201);
    expect(JSON.parse((await raw.hget(d, 'h')) as string)[11]).toBe('1100');
    // The batches' 1-hour safety TTL is gone once the header is written (no TTL here).
    expect(await raw.pttl(d)).toBe(-1);
  });

  it('the header copy in the data hash (what window loads read) equals the header hash after every kind of write', async () => {
    const FIELDS = ['agentId', 'sessionId', 'userId', 'createdAt', 'updatedAt', 'expiresAt', 'ttlMs', 'metadata', 'state', 'summary', 'version', 'lastSeq', 'title', 'preview', 'usage', 'summarySeq'];
    const ref = { agentId: 'mirror', sessionId: 'm1', userId: 'ann' };
    const [h, d] = new KeyLayout(prefix).session(ref.agentId, ref.sessionId);
    const steps: string[] = [];
    const same = async (step: string) => {
      steps.push(step);
      const header = (await raw.hmget(h, ...FIELDS)).map((v) => v ?? false);
      expect(header[10], step).not.toBe(false);
      expect(JSON.parse((await raw.hget(d, 'h')) as string), step).toEqual(header);
      // Both keys expire together (or neither does).
      const [th, td] = [await raw.pttl(h), await raw.pttl(d)];
      expect(td === -1, step).toBe(th === -1);
      if (th !== -1) expect(Math.abs(th - td), step).toBeLessThan(1000);
    };
    await store.createSession({ ...ref, metadata: { a: 1 }, state: { s: 'x' }, ttl: '1h' });
    await same('create with a TTL');
    await store.appendRun({ ...ref, format: 'plain', items: ['one', 'two'], title: 'first title', preview: 'p1', usage: { requests: 1, inputTokens: 2, outputTokens: 3, totalTokens: 5 } });
    await same('append with title, preview and usage');
    await store.appendRun({ ...ref, format: 'plain', items: ['three'], ttl: null });
    await same('append removing the TTL');
    await store.appendRun({ ...ref, format: 'plain', items: ['four'], ttl: '2h' });
    await same('append giving a TTL again');
    let v = (await store.getSession(ref))!.version;
    await store.updateSession({ ...ref, expectedVersion: v, metadata: { b: '"quoted" \u2028 \u{1F600}' }, state: {}, summary: 'so far', summarySeq: 2 });
    await same('update: metadata, state, summary');
    v = (await store.getSession(ref))!.version;
    await store.updateSession({ ...ref, expectedVersion: v, summary: null });
    await same('update: summary cleared');
    await store.renameSession({ ...ref, title: 'renamed' });
    await same('rename');
    await store.renameSession({ ...ref, title: null });
    await same('title cleared');
    await store.touchSession(ref);
    await same('touch');
    await store.popItem(ref);
    await same('pop an item of the last run (one left)');
    await store.popItem(ref);
    await same('pop the last item of a run (the run goes)');
    const touching = RedisStore.fromConnectionString(inject('redisUrl'), { prefix, touchOnRead: true });
    try {
      await new Promise((r) => setTimeout(r, 5));
      await touching.listRuns({ ...ref, limit: 2 });
      await same('read with touchOnRead');
    } finally {
      await touching.close();
    }
    const src = (await store.getSession(ref))!;
    const runs = await store.listRuns({ ...ref, limit: 100 });
    const copy = { agentId: 'mirror', sessionId: 'm2', userId: 'ann' };
    await store.restoreSession({ ...copy, header: { createdAt: src.createdAt, updatedAt: src.updatedAt, ttlMs: src.ttlMs, expiresAt: src.expiresAt, metadata: src.metadata, state: src.state, summary: src.summary }, runs });
    const [h2, d2] = new KeyLayout(prefix).session(copy.agentId, copy.sessionId);
    expect(JSON.parse((await raw.hget(d2, 'h')) as string)).toEqual((await raw.hmget(h2, ...FIELDS)).map((x) => x ?? false));
    expect(steps.length).toBe(12);
    // A window read from those copies gives what the scripts give.
    const fresh = RedisStore.fromConnectionString(inject('redisUrl'), { prefix });
    try {
      expect(await store.readHistory({ ...ref, limit: 3 })).toEqual(await fresh.readHistory({ ...ref, limit: 3 }));
    } finally {
      await fresh.close();
    }
  });

  it('a prefix that would change the hash tag is refused, and a missing client is named', () => {
    for (const bad of [() => new RedisStore({ client: raw, prefix: 'a{b' }), () => new RedisStore({} as never)]) {
      try {
        bad();
        expect.unreachable();
      } catch (err) {
        expect(isAgentSessionsError(err, 'invalid_input')).toBe(true);
        expect((err as Error).message).toMatch(/^\[agent-sessions\] \[redis\] /);
      }
    }
  });
});

describe('key layout in a cluster', () => {
  const prefix = randomPrefix('layout-cluster');
  let client: Cluster;
  let store: RedisStore;

  beforeAll(() => {
    client = clusterClient();
    store = new RedisStore({ client, prefix });
  });
  afterAll(async () => {
    await client?.quit();
  });

  it('every key of a session hashes to one slot, and an agent\'s indexes to one other', async () => {
    const slot = async (key: string) => Number(await client.cluster('KEYSLOT', key));
    for (let i = 0; i < 20; i++) {
      const ref = { agentId: `agent-${i}`, sessionId: `session-${i}`, userId: `user-${i}` };
      await store.appendRun({ ...ref, format: 'plain', items: ['x'] });
      const a = encodeId(ref.agentId);
      const base = `${prefix}{s.${a}.${encodeId(ref.sessionId)}}`;
      const sessionSlots = new Set(await Promise.all(['h', 'd', 'q', 'c'].map((k) => slot(`${base}:${k}`))));
      expect(sessionSlots.size).toBe(1);
      const indexSlots = new Set(
        await Promise.all([`${prefix}{a.${a}}:all`, `${prefix}{a.${a}}:u.${encodeId(ref.userId)}`].map(slot)),
      );
      expect(indexSlots.size).toBe(1);
      // The data is really there, on whichever nodes own those slots.
      expect(await client.exists(`${base}:h`, `${base}:d`, `${base}:q`, `${base}:c`)).toBe(4);
      expect(await client.zscore(`${prefix}{a.${a}}:u.${encodeId(ref.userId)}`, ref.sessionId)).not.toBeNull();
    }
  });

  it('prune without an agentId scans every master', async () => {
    const agents = Array.from({ length: 12 }, (_, i) => `prune-${i}`);
    for (const agentId of agents) await store.appendRun({ agentId, sessionId: 's', format: 'plain', items: ['old'] });
    await sleep(300);
    const res = await store.prune({ runsOlderThan: 150 });
    // Also the 20 sessions of the test above: each had one run, older than 150 ms by now.
    expect(res.runs).toBe(agents.length + 20);
    for (const agentId of agents) expect(await store.listRuns({ agentId, sessionId: 's', limit: 5 })).toEqual([]);
  });
});
