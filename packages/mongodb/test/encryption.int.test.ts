import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAgentSessionsError, type SessionStore } from '@agent-sessions/core';
import { runConformanceSuite } from '@agent-sessions/conformance';
import { DEFAULT_RUNS_COLLECTION, DEFAULT_SESSIONS_COLLECTION, MongoStore, type HeaderDoc, type RunDoc } from '@agent-sessions/mongodb';
import { emptyCollections, mongoServer, randomDatabase } from './helpers.js';

// Encryption at rest on MongoDB: the whole conformance suite with encryption on, then what is
// really in the collections, read and tampered with through the driver.

const { url, server } = mongoServer();
const key = randomBytes(32);
const database = randomDatabase('enc');
const admin = new MongoClient(url);

runConformanceSuite({
  name: `mongodb on ${server} (encrypted)`,
  createStore: () => MongoStore.fromConnectionString(url, { database, encryption: key }),
  destroyStore: async (store) => {
    await store.close();
    await emptyCollections(admin.db(database));
  },
  test: { describe, it, beforeAll, afterAll },
});

afterAll(async () => {
  await admin.db(database).dropDatabase();
  await admin.close();
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
