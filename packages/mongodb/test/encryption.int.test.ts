import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reencryptSession, type EncryptionOption, type SessionStore } from '@agent-sessions/core';
import { DEFAULT_RUNS_COLLECTION, DEFAULT_SESSIONS_COLLECTION, MongoStore, type HeaderDoc, type RunDoc } from '@agent-sessions/mongodb';
import { mongoServer, randomDatabase, runMongoConformance } from './helpers.js';
import { SECRET, rejectsInternal } from '../../../test/support/encryption.js';

// Encryption at rest on MongoDB: the whole conformance suite with encryption on, then what is
// really in the collections, read and tampered with through the driver.

const { url, server } = mongoServer();
const key = randomBytes(32);

runMongoConformance(`mongodb on ${server} (encrypted)`, 'enc', new MongoClient(url), (database) => MongoStore.fromConnectionString(url, { database, encryption: key }));

describe(`mongodb on ${server}: what encryption leaves in the collections`, () => {
  const tamperDb = randomDatabase('tamper');
  const client = new MongoClient(url);
  const headers = client.db(tamperDb).collection<HeaderDoc>(DEFAULT_SESSIONS_COLLECTION);
  const runs = client.db(tamperDb).collection<RunDoc>(DEFAULT_RUNS_COLLECTION);
  let store: SessionStore;

  beforeAll(async () => {
    store = new MongoStore({ client, database: tamperDb, encryption: key });
    await store.setup();
  });
  afterAll(async () => {
    await store.close();
    await client.db(tamperDb).dropDatabase();
    await client.close();
  });

  const ref = () => ({ agentId: 'agent', sessionId: `s-${randomBytes(4).toString('hex')}` });
  const headerId = (r: { agentId: string; sessionId: string }) => JSON.stringify([r.agentId, r.sessionId]);

  it('stores items, state and summary as envelopes with no plaintext; ids, status and metadata stay clear', async () => {
    const r = ref();
    await store.appendRun({ ...r, runId: 'run-1', format: 'test', items: [{ role: 'user', content: SECRET }, 'two'], metadata: { channel: 'web' } });
    const h = await store.getSession(r);
    await store.updateSession({ ...r, expectedVersion: h!.version, state: { plan: SECRET }, summary: `summary: ${SECRET}` });
    const doc = await runs.findOne({ agentId: r.agentId, sessionId: r.sessionId, runId: 'run-1' });
    const head = await headers.findOne({ _id: headerId(r) });
    expect(doc).toMatchObject({ runId: 'run-1', status: 'completed', seq: 1 });
    expect(JSON.parse(doc!.metadata as string)).toEqual({ channel: 'web' });
    expect(doc!.items).toHaveLength(2);
    for (const item of doc!.items) expect(Object.keys(JSON.parse(item))).toEqual(['$as_enc']);
    expect(Object.keys(JSON.parse(head!.state))).toEqual(['$as_enc']);
    expect(head!.summary!.startsWith('as_enc:v1:default:')).toBe(true);
    expect(JSON.stringify({ doc, head })).not.toContain('launch code');
    expect((await store.listRuns({ ...r, limit: 10 }))[0]!.items).toEqual([{ role: 'user', content: SECRET }, 'two']);
    expect((await store.getSession(r))!.state).toEqual({ plan: SECRET });
  });

  it("a run's items copied into another session fail to decrypt with a typed error; the source still reads", async () => {
    const a = ref();
    const b = ref();
    await store.appendRun({ ...a, runId: 'run-a', format: 'test', items: [{ content: SECRET }] });
    await store.appendRun({ ...b, runId: 'run-b', format: 'test', items: [{ content: 'harmless' }] });
    const src = await runs.findOne({ agentId: a.agentId, sessionId: a.sessionId, runId: 'run-a' });
    await runs.updateOne({ agentId: b.agentId, sessionId: b.sessionId, runId: 'run-b' }, { $set: { items: src!.items, n: src!.n } });
    await rejectsInternal(store.listRuns({ ...b, limit: 10 }));
    await rejectsInternal(store.readHistory({ ...b, limit: 10 }));
    expect((await store.listRuns({ ...a, limit: 10 }))[0]!.items).toEqual([{ content: SECRET }]);
  });

  it('items moved to another run of the same session, or reordered, fail to decrypt', async () => {
    const r = ref();
    await store.appendRun({ ...r, runId: 'one', format: 'test', items: ['a', 'b'] });
    await store.appendRun({ ...r, runId: 'two', format: 'test', items: ['c', 'd'] });
    const one = await runs.findOne({ agentId: r.agentId, sessionId: r.sessionId, runId: 'one' });
    await runs.updateOne({ agentId: r.agentId, sessionId: r.sessionId, runId: 'two' }, { $set: { items: one!.items } });
    await rejectsInternal(store.listRuns({ ...r, limit: 1 }));
    await runs.updateOne({ agentId: r.agentId, sessionId: r.sessionId, runId: 'one' }, { $set: { items: [one!.items[1]!, one!.items[0]!] } });
    await rejectsInternal(store.listRuns({ ...r, limit: 1, beforeSeq: 2 }));
  });

  it('state copied from another session, or a clear state written behind the store, is refused', async () => {
    const a = ref();
    const b = ref();
    await store.createSession({ ...a, state: { who: 'a' } });
    await store.createSession({ ...b, state: { who: 'b' } });
    const ha = await headers.findOne({ _id: headerId(a) });
    await headers.updateOne({ _id: headerId(b) }, { $set: { state: ha!.state } });
    await rejectsInternal(store.getSession(b));
    await headers.updateOne({ _id: headerId(a) }, { $set: { state: '{"injected":true}' } });
    await rejectsInternal(store.getSession(a), /unencrypted/);
  });

  it('a wrong key fails with a typed error; a key ring reads runs sealed with the old key', async () => {
    const r = ref();
    await store.appendRun({ ...r, runId: 'old', format: 'test', items: [{ content: SECRET }] });
    const wrong = new MongoStore({ client, database: tamperDb, encryption: randomBytes(32) });
    const ring = new MongoStore({ client, database: tamperDb, encryption: { keys: { default: key, k2: randomBytes(32) }, current: 'k2' } });
    await rejectsInternal(wrong.listRuns({ ...r, limit: 10 }), /does not decrypt/);
    await ring.appendRun({ ...r, runId: 'new', format: 'test', items: [{ content: 'rotated' }] });
    expect((await ring.listRuns({ ...r, limit: 10 })).map((x) => x.items)).toEqual([[{ content: SECRET }], [{ content: 'rotated' }]]);
    await rejectsInternal(store.listRuns({ ...r, limit: 1 }), /key 'k2', which is not in the key ring/);
  });
});

describe(`mongodb on ${server}: reencryptSession rewrites runs, title and preview in place`, () => {
  const rotDb = randomDatabase('rotate');
  const client = new MongoClient(url);
  const headers = client.db(rotDb).collection<HeaderDoc>(DEFAULT_SESSIONS_COLLECTION);
  const runs = client.db(rotDb).collection<RunDoc>(DEFAULT_RUNS_COLLECTION);
  const old = randomBytes(32);
  const next = randomBytes(32);
  const ring = { keys: { default: old, k2: next }, current: 'k2' };

  afterAll(async () => {
    await client.db(rotDb).dropDatabase();
    await client.close();
  });

  const ref = () => ({ agentId: 'agent', sessionId: `s-${randomBytes(4).toString('hex')}` });
  const headerId = (r: { agentId: string; sessionId: string }) => JSON.stringify([r.agentId, r.sessionId]);
  const kid = (sealed: string): string => sealed.split(':')[sealed.startsWith('as_enc:') ? 2 : 1] as string;
  const itemKeys = async (r: { agentId: string; sessionId: string }): Promise<string[]> => {
    const docs = await runs.find({ agentId: r.agentId, sessionId: r.sessionId }).sort({ seq: 1 }).toArray();
    return docs.flatMap((d) => d.items.map((t) => kid((JSON.parse(t) as { $as_enc: string }).$as_enc)));
  };

  for (const atomicUpdates of [true, false]) {
    const path = atomicUpdates ? 'compare-and-set path' : 'locked path';
    const open = (encryption: EncryptionOption) => new MongoStore({ client, database: rotDb, atomicUpdates, encryption });

    it(`${path}: after rotating keys and reencryptSession, every run, the title and the preview open with only the new key`, async () => {
      const before = open(old);
      const r = ref();
      for (let i = 0; i < 5; i++) {
        await before.appendRun({ ...r, format: 't', items: [`m${i}`, { n: i, secret: SECRET }], title: 'the title', preview: `preview ${i}` });
      }
      const after = open(ring);
      const h0 = await headers.findOne({ _id: headerId(r) });
      const result = await reencryptSession(after, r, { pageSize: 2 });
      expect(result).toMatchObject({ found: true, headerRewritten: true, runsChecked: 5, runsOnOtherKeys: 5, runsRewritten: 5, runsSkipped: 0, headerFieldsOnOtherKeys: [] });
      expect(new Set(await itemKeys(r))).toEqual(new Set(['k2']));
      const h1 = await headers.findOne({ _id: headerId(r) });
      expect(kid(h1!.title as string)).toBe('k2');
      expect(kid(h1!.preview as string)).toBe('k2');
      // Rewritten in place: no version bump, no newer updatedAt.
      expect({ version: h1!.version, updatedAt: h1!.updatedAt, lastSeq: h1!.lastSeq }).toEqual({ version: h0!.version, updatedAt: h0!.updatedAt, lastSeq: 5 });
      const onlyNew = open({ keys: { k2: next }, current: 'k2' });
      expect(await onlyNew.getSession(r)).toMatchObject({ title: 'the title', preview: 'preview 4', lastSeq: 5 });
      const history = await onlyNew.readHistory({ ...r, limit: 10 });
      expect(history.runs.map((x) => x.items)).toEqual([0, 1, 2, 3, 4].map((i) => [`m${i}`, { n: i, secret: SECRET }]));
      expect(await reencryptSession(after, r)).toMatchObject({ headerRewritten: false, runsOnOtherKeys: 0, runsRewritten: 0 });
      await rejectsInternal(before.listRuns({ ...r, limit: 1 }), /key 'k2', which is not in the key ring/);
    });

    it(`${path}: a pop racing the rewrite of its run is not undone`, async () => {
      const before = open(old);
      const r = ref();
      await before.appendRun({ ...r, format: 't', items: ['x1', 'x2', 'x3'] });
      let raced = 0;
      class Racing extends MongoStore {
        protected override async doRewriteRun(input: Parameters<MongoStore['doRewriteRun']>[0]): Promise<boolean> {
          // Another writer (another store object) pops between the read and the write of the first attempt.
          if (raced++ === 0) expect(await before.popItem(r)).toMatchObject({ item: 'x3' });
          return super.doRewriteRun(input);
        }
      }
      const racing = new Racing({ client, database: rotDb, atomicUpdates, encryption: ring });
      expect(await reencryptSession(racing, r)).toMatchObject({ runsOnOtherKeys: 1, runsRewritten: 1, runsSkipped: 0 });
      expect(raced).toBe(2);
      expect((await racing.listRuns({ ...r, limit: 5 }))[0]!.items).toEqual(['x1', 'x2']);
      expect(await itemKeys(r)).toEqual(['k2', 'k2']);
    });

    it(`${path}: a pop recorded but not finished is finished first, and the rewrite keeps it`, async () => {
      const before = open(old);
      const r = ref();
      await before.appendRun({ ...r, format: 't', items: ['y1', 'y2'] });
      // A pop whose writer died after recording its intent: readers already hide y2.
      const h = await headers.findOne({ _id: headerId(r) });
      await headers.updateOne({ _id: headerId(r) }, { $set: { pop: { id: 'dead', runId: (await runs.findOne({ agentId: r.agentId, sessionId: r.sessionId }))!.runId, seq: 1, n: 2 }, version: h!.version + 1 } });
      const after = open(ring);
      expect(await reencryptSession(after, r)).toMatchObject({ runsOnOtherKeys: 1, runsRewritten: 1, runsSkipped: 0 });
      expect((await after.listRuns({ ...r, limit: 5 }))[0]!.items).toEqual(['y1']);
      expect(await itemKeys(r)).toEqual(['k2']);
      expect((await headers.findOne({ _id: headerId(r) }))!.pop).toBeNull();
    });

    it(`${path}: doRewriteRun is a compare-and-set: a changed, moved or foreign run is refused; version and expiry stay`, async () => {
      const store = new MongoStore({ client, database: rotDb, atomicUpdates, ttl: '1h' });
      const r = ref();
      await store.appendRun({ ...r, runId: 'r1', format: 't', items: ['a', { b: 1 }], userId: 'u1' });
      await store.appendRun({ ...r, runId: 'r2', format: 't', items: ['c'], userId: 'u1' });
      const h0 = await headers.findOne({ _id: headerId(r) });
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
      const h1 = await headers.findOne({ _id: headerId(r) });
      expect({ version: h1!.version, updatedAt: h1!.updatedAt, expiresAt: h1!.expiresAt }).toEqual({ version: h0!.version, updatedAt: h0!.updatedAt, expiresAt: h0!.expiresAt });
      expect(await store.getSession(r)).toMatchObject({ title: 'T', preview: 'P' });
    });
  }
});
