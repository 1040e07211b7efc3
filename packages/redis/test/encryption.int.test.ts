import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { reencryptSession, type EncryptionOption, type SessionStore } from '@agent-sessions/core';
import { runConformanceSuite } from '@agent-sessions/conformance';
import { KeyLayout, RedisStore } from '@agent-sessions/redis';
import { randomPrefix } from './helpers.js';
import { SECRET, rejectsInternal } from '../../../test/support/encryption.js';

// Encryption at rest on Redis: the whole conformance suite with encryption on, then what is
// really in the hashes, read and tampered with over a plain connection.

const key = randomBytes(32);
const prefix = randomPrefix('enc');

runConformanceSuite({
  name: 'redis (standalone, encrypted)',
  createStore: () => RedisStore.fromConnectionString(inject('redisUrl'), { prefix, encryption: key }),
  test: { describe, it, beforeAll, afterAll },
});

/** A stored run (`runId \n [meta \n ,item \n ,item]`, see codec.ts) as `[runId, meta, ...items]`, each JSON text. */
function lines(blob: string): string[] {
  const nl = blob.indexOf('\n');
  // Runs written before the array layout: `runId \n meta \n item \n item`.
  if (blob[nl + 1] !== '[') return blob.split('\n');
  return [blob.slice(0, nl), ...(JSON.parse(blob.slice(nl + 1)) as unknown[]).map((v) => JSON.stringify(v))];
}

/** The stored form of `[runId, meta, ...items]` (the inverse of `lines`). */
function joinRun(parts: string[]): string {
  return `${parts[0]}\n[${parts.slice(1).join('\n,')}]`;
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
    expect(blob.startsWith('run-1\n[{')).toBe(true);
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
    await raw.hset(db, 's1', joinRun([dst[0] as string, dst[1] as string, ...src.slice(2)]));
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
    await raw.hset(d, 's2', joinRun([two[0] as string, two[1] as string, ...one.slice(2)]));
    await rejectsInternal(store.listRuns({ ...r, limit: 1 }));
    await raw.hset(d, 's1', joinRun([one[0], one[1], one[3], one[2]] as string[]));
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

describe('redis: reencryptSession rewrites runs, title and preview in place', () => {
  const rotPrefix = randomPrefix('rotate');
  const layout = new KeyLayout(rotPrefix);
  const url = () => inject('redisUrl');
  const old = randomBytes(32);
  const next = randomBytes(32);
  const ring = { keys: { default: old, k2: next }, current: 'k2' };
  let raw: Redis;
  const opened: SessionStore[] = [];
  const open = (encryption: EncryptionOption): RedisStore => {
    const s = RedisStore.fromConnectionString(url(), { prefix: rotPrefix, encryption });
    opened.push(s);
    return s;
  };

  beforeAll(() => {
    raw = new Redis(url());
  });
  afterAll(async () => {
    for (const s of opened) await s.close();
    raw.disconnect();
  });

  const ref = () => ({ agentId: 'agent', sessionId: `s-${randomBytes(4).toString('hex')}` });
  const kid = (sealed: string): string => sealed.split(':')[sealed.startsWith('as_enc:') ? 2 : 1] as string;
  const itemKeys = async (r: { agentId: string; sessionId: string }): Promise<string[]> => {
    const data = await raw.hgetall(layout.session(r.agentId, r.sessionId)[1]);
    return Object.entries(data)
      .filter(([f]) => f.startsWith('s'))
      .flatMap(([, blob]) => lines(blob).slice(2).map((t) => kid((JSON.parse(t) as { $as_enc: string }).$as_enc)));
  };

  it('a run stored in the older layout (one JSON text per line, no array) is rewritten in that layout', async () => {
    const before = open(old);
    const r = ref();
    await before.appendRun({ ...r, format: 't', items: ['a', { secret: SECRET }] });
    await before.appendRun({ ...r, format: 't', items: ['b'] });
    const d = layout.session(r.agentId, r.sessionId)[1];
    await raw.hset(d, 's1', lines((await raw.hget(d, 's1')) as string).join('\n'));
    const result = await reencryptSession(open(ring), r);
    expect(result).toMatchObject({ runsChecked: 2, runsRewritten: 2, runsSkipped: 0 });
    const [one, two] = [(await raw.hget(d, 's1')) as string, (await raw.hget(d, 's2')) as string];
    expect(one.split('\n')[1]?.startsWith('{')).toBe(true);
    expect(two.split('\n')[1]?.startsWith('[{')).toBe(true);
    expect(new Set(await itemKeys(r))).toEqual(new Set(['k2']));
    const onlyNew = open({ keys: { k2: next }, current: 'k2' });
    expect((await onlyNew.listRuns({ ...r, limit: 10 })).map((x) => x.items)).toEqual([['a', { secret: SECRET }], ['b']]);
  });

  it('after rotating keys and reencryptSession, every run, the title and the preview open with only the new key', async () => {
    const before = open(old);
    const r = ref();
    for (let i = 0; i < 5; i++) {
      await before.appendRun({ ...r, format: 't', items: [`m${i}`, { n: i, secret: SECRET }], title: 'the title', preview: `preview ${i}` });
    }
    const after = open(ring);
    const [hk] = layout.session(r.agentId, r.sessionId);
    const versionBefore = await raw.hget(hk, 'version');
    const updatedBefore = await raw.hget(hk, 'updatedAt');
    const result = await reencryptSession(after, r, { pageSize: 2 });
    expect(result).toMatchObject({ found: true, headerRewritten: true, runsChecked: 5, runsOnOtherKeys: 5, runsRewritten: 5, runsSkipped: 0, headerFieldsOnOtherKeys: [] });
    expect(new Set(await itemKeys(r))).toEqual(new Set(['k2']));
    expect(kid((await raw.hget(hk, 'title')) as string)).toBe('k2');
    expect(kid((await raw.hget(hk, 'preview')) as string)).toBe('k2');
    // The header copy window loads read (field 'h' of the data hash) was rewritten with them.
    const copied = JSON.parse((await raw.hget(layout.session(r.agentId, r.sessionId)[1], 'h')) as string) as unknown[];
    expect([copied[12], copied[13]]).toEqual([await raw.hget(hk, 'title'), await raw.hget(hk, 'preview')]);
    // Rewritten in place: no version bump, no newer updatedAt.
    expect(await raw.hget(hk, 'version')).toBe(versionBefore);
    expect(await raw.hget(hk, 'updatedAt')).toBe(updatedBefore);
    const onlyNew = open({ keys: { k2: next }, current: 'k2' });
    expect(await onlyNew.getSession(r)).toMatchObject({ title: 'the title', preview: 'preview 4', lastSeq: 5 });
    const history = await onlyNew.readHistory({ ...r, limit: 10 });
    expect(history.runs.map((x) => x.items)).toEqual([0, 1, 2, 3, 4].map((i) => [`m${i}`, { n: i, secret: SECRET }]));
    expect(await reencryptSession(after, r)).toMatchObject({ headerRewritten: false, runsOnOtherKeys: 0, runsRewritten: 0 });
    await rejectsInternal(before.listRuns({ ...r, limit: 1 }), /key 'k2', which is not in the key ring/);
  });

  it('a pop racing the rewrite of its run is not undone', async () => {
    const before = open(old);
    const r = ref();
    await before.appendRun({ ...r, format: 't', items: ['x1', 'x2', 'x3'] });
    const client = new Redis(url());
    let raced = 0;
    class Racing extends RedisStore {
      protected override async doRewriteRun(input: Parameters<RedisStore['doRewriteRun']>[0]): Promise<boolean> {
        // Another writer pops between the read and the script of the first attempt.
        if (raced++ === 0) expect(await before.popItem(r)).toMatchObject({ item: 'x3' });
        return super.doRewriteRun(input);
      }
    }
    const racing = new Racing({ client, prefix: rotPrefix, encryption: ring });
    try {
      expect(await reencryptSession(racing, r)).toMatchObject({ runsOnOtherKeys: 1, runsRewritten: 1, runsSkipped: 0 });
      expect(raced).toBe(2);
      expect((await racing.listRuns({ ...r, limit: 5 }))[0]!.items).toEqual(['x1', 'x2']);
      expect(await itemKeys(r)).toEqual(['k2', 'k2']);
    } finally {
      client.disconnect();
    }
  });

  it('the rewrite scripts are compare-and-sets: a changed, moved or foreign run is refused; TTL, version and indexes stay', async () => {
    const store = RedisStore.fromConnectionString(url(), { prefix: rotPrefix, ttl: '1h' });
    opened.push(store);
    const r = ref();
    await store.appendRun({ ...r, runId: 'r1', format: 't', items: ['a', { b: 1 }], userId: 'u1' });
    await store.appendRun({ ...r, runId: 'r2', format: 't', items: ['c'], userId: 'u1' });
    const keys = layout.session(r.agentId, r.sessionId);
    const ttlBefore = await raw.pttl(keys[1]);
    const h0 = await raw.hgetall(keys[0]);
    const access = (store as unknown as Record<symbol, () => { rewriteRun(i: object): Promise<boolean>; rewriteText(i: object): Promise<boolean> }>)[
      Symbol.for('@agent-sessions/core/rewrite-access')
    ]!();
    const base = { ...r, userId: 'u1', now: Date.now() };
    const run = (o: object) => access.rewriteRun({ ...base, runId: 'r1', seq: 1, expected: ['a', { b: 1 }], items: ['A', { B: 1 }], ...o });
    expect(await run({ expected: ['a', { b: 2 }] })).toBe(false);
    expect(await run({ expected: ['a'] })).toBe(false);
    expect(await run({ seq: 2 })).toBe(false);
    expect(await run({ seq: 3 })).toBe(false);
    expect(await run({ runId: 'r2' })).toBe(false);
    expect(await run({ userId: 'u2' })).toBe(false);
    expect(await run({ sessionId: 'absent' })).toBe(false);
    expect(await run({})).toBe(true);
    expect(await run({})).toBe(false);
    expect((await store.listRuns({ ...r, limit: 5 })).map((x) => x.items)).toEqual([['A', { B: 1 }], ['c']]);
    expect(await access.rewriteText({ ...base, expected: { title: 'x', preview: null }, title: 'T', preview: null })).toBe(false);
    expect(await access.rewriteText({ ...base, expected: { title: null, preview: null }, title: 'T', preview: 'P' })).toBe(true);
    expect(await access.rewriteText({ ...base, expected: { title: 'T', preview: 'P' }, title: null, preview: 'Q' })).toBe(true);
    const h1 = await raw.hgetall(keys[0]);
    expect({ version: h1.version, updatedAt: h1.updatedAt, expiresAt: h1.expiresAt }).toEqual({ version: h0.version, updatedAt: h0.updatedAt, expiresAt: h0.expiresAt });
    expect(h1.title).toBeUndefined();
    expect(h1.preview).toBe('Q');
    const ttlAfter = await raw.pttl(keys[1]);
    expect(ttlAfter).toBeGreaterThan(0);
    expect(ttlAfter).toBeLessThanOrEqual(ttlBefore);
  });
});
