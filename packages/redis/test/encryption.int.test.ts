import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isAgentSessionsError, type SessionStore } from '@agent-sessions/core';
import { runConformanceSuite } from '@agent-sessions/conformance';
import { KeyLayout, RedisStore } from '@agent-sessions/redis';
import { randomPrefix } from './helpers.js';

// Encryption at rest on Redis: the whole conformance suite with encryption on, then what is
// really in the hashes, read and tampered with over a plain connection.

const key = randomBytes(32);
const prefix = randomPrefix('enc');

runConformanceSuite({
  name: 'redis (standalone, encrypted)',
  createStore: () => RedisStore.fromConnectionString(inject('redisUrl'), { prefix, encryption: key }),
  test: { describe, it, beforeAll, afterAll },
});

const SECRET = 'the launch code is 0000';

async function rejectsInternal(p: Promise<unknown>, pattern = /does not decrypt|not in the key ring|unencrypted/): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isAgentSessionsError(err, 'internal'), `expected an internal error, got ${String(err)}`).toBe(true);
  expect((err as Error).message).toMatch(pattern);
}

/** A stored run: `runId`, its fields as JSON, then one line per item. */
function lines(blob: string): string[] {
  return blob.split('\n');
}

describe('redis: what encryption leaves in the keys', () => {
  const tamperPrefix = randomPrefix('tamper');
  const layout = new KeyLayout(tamperPrefix);
  let store: SessionStore;
  let raw: Redis;

  beforeAll(async () => {
    store = RedisStore.fromConnectionString(inject('redisUrl'), { prefix: tamperPrefix, encryption: key });
    raw = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    await store.close();
    raw.disconnect();
  });

  const ref = () => ({ agentId: 'agent', sessionId: `s-${randomBytes(4).toString('hex')}` });

  it('stores items, state and summary as envelopes with no plaintext; ids, status and metadata stay clear', async () => {
    const r = ref();
    await store.appendRun({ ...r, runId: 'run-1', format: 'test', items: [{ role: 'user', content: SECRET }, 'two'], metadata: { channel: 'web' } });
    const h = await store.getSession(r);
    await store.updateSession({ ...r, expectedVersion: h!.version, state: { plan: SECRET }, summary: `summary: ${SECRET}` });
    const [hk, dk] = layout.session(r.agentId, r.sessionId);
    const header = await raw.hgetall(hk);
    const data = await raw.hgetall(dk);
    const blob = data.s1 as string;
    const [runId, meta, ...items] = lines(blob);
    expect(runId).toBe('run-1');
    expect(JSON.parse(meta as string)).toMatchObject({ status: 'completed', metadata: { channel: 'web' } });
    expect(items).toHaveLength(2);
    for (const item of items) expect(Object.keys(JSON.parse(item))).toEqual(['$as_enc']);
    expect(Object.keys(JSON.parse(header.state as string))).toEqual(['$as_enc']);
    expect((header.summary as string).startsWith('as_enc:v1:default:')).toBe(true);
    expect(JSON.stringify({ header, data })).not.toContain('launch code');
    expect((await store.listRuns({ ...r, limit: 10 }))[0]!.items).toEqual([{ role: 'user', content: SECRET }, 'two']);
    expect((await store.getSession(r))!.state).toEqual({ plan: SECRET });
  });

  it("a run's items copied into another session fail to decrypt with a typed error; the source still reads", async () => {
    const a = ref();
    const b = ref();
    await store.appendRun({ ...a, runId: 'run-a', format: 'test', items: [{ content: SECRET }] });
    await store.appendRun({ ...b, runId: 'run-b', format: 'test', items: [{ content: 'harmless' }] });
    const da = layout.session(a.agentId, a.sessionId)[1];
    const db = layout.session(b.agentId, b.sessionId)[1];
    const src = lines((await raw.hget(da, 's1')) as string);
    const dst = lines((await raw.hget(db, 's1')) as string);
    await raw.hset(db, 's1', [dst[0], dst[1], ...src.slice(2)].join('\n'));
    await rejectsInternal(store.listRuns({ ...b, limit: 10 }));
    await rejectsInternal(store.readHistory({ ...b, limit: 10 }));
    await rejectsInternal(store.popItem(b));
    expect((await store.listRuns({ ...a, limit: 10 }))[0]!.items).toEqual([{ content: SECRET }]);
  });

  it('items moved to another run of the same session, or reordered, fail to decrypt', async () => {
    const r = ref();
    await store.appendRun({ ...r, runId: 'one', format: 'test', items: ['a', 'b'] });
    await store.appendRun({ ...r, runId: 'two', format: 'test', items: ['c', 'd'] });
    const d = layout.session(r.agentId, r.sessionId)[1];
    const one = lines((await raw.hget(d, 's1')) as string);
    const two = lines((await raw.hget(d, 's2')) as string);
    await raw.hset(d, 's2', [two[0], two[1], ...one.slice(2)].join('\n'));
    await rejectsInternal(store.listRuns({ ...r, limit: 1 }));
    await raw.hset(d, 's1', [one[0], one[1], one[3], one[2]].join('\n'));
    await rejectsInternal(store.listRuns({ ...r, limit: 1, beforeSeq: 2 }));
  });

  it('state copied from another session, or a clear state written behind the store, is refused', async () => {
    const a = ref();
    const b = ref();
    await store.createSession({ ...a, state: { who: 'a' } });
    await store.createSession({ ...b, state: { who: 'b' } });
    const ha = layout.session(a.agentId, a.sessionId)[0];
    const hb = layout.session(b.agentId, b.sessionId)[0];
    await raw.hset(hb, 'state', (await raw.hget(ha, 'state')) as string);
    await rejectsInternal(store.getSession(b));
    await raw.hset(ha, 'state', '{"injected":true}');
    await rejectsInternal(store.getSession(a), /unencrypted/);
  });

  it('a wrong key fails with a typed error; a key ring reads runs sealed with the old key', async () => {
    const r = ref();
    await store.appendRun({ ...r, runId: 'old', format: 'test', items: [{ content: SECRET }] });
    const wrong = RedisStore.fromConnectionString(inject('redisUrl'), { prefix: tamperPrefix, encryption: randomBytes(32) });
    const ring = RedisStore.fromConnectionString(inject('redisUrl'), {
      prefix: tamperPrefix,
      encryption: { keys: { default: key, k2: randomBytes(32) }, current: 'k2' },
    });
    try {
      await rejectsInternal(wrong.listRuns({ ...r, limit: 10 }), /does not decrypt/);
      await ring.appendRun({ ...r, runId: 'new', format: 'test', items: [{ content: 'rotated' }] });
      expect((await ring.listRuns({ ...r, limit: 10 })).map((x) => x.items)).toEqual([[{ content: SECRET }], [{ content: 'rotated' }]]);
      await rejectsInternal(store.listRuns({ ...r, limit: 1 }), /key 'k2', which is not in the key ring/);
    } finally {
      await wrong.close();
      await ring.close();
    }
  });
});
