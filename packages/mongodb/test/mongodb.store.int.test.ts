import { afterAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { createStore, isAgentSessionsError } from '@agent-sessions/core';
import {
  DEFAULT_LOCKS_COLLECTION,
  MongoStore,
  NEVER,
  databaseFromUrl,
  type HeaderDoc,
  type RunDoc,
} from '@agent-sessions/mongodb';
import { startFerretdb } from '../../../test/services/mongodb.js';
import type { MongoContext } from '../src/context.js';
import { withLock, type LockDoc } from '../src/locks.js';
import { mongoFixture, randomDatabase } from './helpers.js';

const { url, server, database, client, db, headers, runs, stores, store, ref, key } = mongoFixture('store');

describe(`MongoStore on ${server}`, () => {
  it('keeps one small header document and one document per run', async () => {
    const s = store();
    const r = { ...ref(), userId: 'u1' };
    for (let i = 0; i < 3; i++) await s.appendRun({ ...r, format: 'plain', items: [`m${i}`, { role: 'x' }] });
    const h = await headers.findOne({ _id: key(r) });
    expect(h).toMatchObject({ agentId: r.agentId, sessionId: r.sessionId, userId: 'u1', version: 3, lastSeq: 3 });
    const docs = await runs.find({ agentId: r.agentId }).sort({ seq: 1 }).toArray();
    expect(docs.map((d) => d.seq)).toEqual([1, 2, 3]);
    expect(docs.every((d) => d.gen === h?.gen && d.n === 2)).toBe(true);
    expect(docs[0]?.items).toEqual(['"m0"', '{"role":"x"}']);
  });

  it('creates the indexes the README lists', async () => {
    await store().setup();
    const names = (c: typeof headers | typeof runs) => c.listIndexes().toArray();
    const h = await names(headers);
    const r = await names(runs);
    expect(h.map((i) => i.name)).toEqual(expect.arrayContaining(['agent_updated', 'agent_user_updated']));
    expect(r.find((i) => i.name === 'session_seq')).toMatchObject({ unique: true, key: { agentId: 1, sessionId: 1, seq: 1 } });
    expect(r.find((i) => i.name === 'session_run_id')).toMatchObject({ unique: true, key: { agentId: 1, sessionId: 1, runId: 1 } });
  });

  it('the unique index refuses a second run at a taken sequence number', async () => {
    const s = store();
    const r = ref();
    await s.appendRun({ ...r, format: 'plain', items: ['a'] });
    const [doc] = await runs.find({ agentId: r.agentId }).toArray();
    const { _id, ...copy } = doc as RunDoc & { _id: unknown };
    await expect(runs.insertOne({ ...copy, runId: 'other' })).rejects.toMatchObject({ code: 11000 });
  });

  it('ids and item keys that look like operators are stored as plain values', async () => {
    const s = store();
    const agentId = ref().agentId;
    const ids = ['{"$gt": ""}', '$gt', '$where', 'a.b', '$'];
    for (const sessionId of ids) {
      await s.appendRun({ agentId, sessionId, format: 'plain', items: [{ $gt: '', 'a.b': { $set: 1 } }] });
    }
    const stored = await headers.find({ agentId }).toArray();
    expect(stored.map((h) => h.sessionId).sort()).toEqual([...ids].sort());
    for (const sessionId of ids) {
      const [run] = await s.listRuns({ agentId, sessionId, limit: 1 });
      expect(run?.items).toEqual([{ $gt: '', 'a.b': { $set: 1 } }]);
    }
    // A session id that is an operator document as text matches nothing else.
    expect(await s.getSession({ agentId, sessionId: '{"$ne": ""}' })).toBeNull();
  });

  it('reports what the server supports, as found by trying', async () => {
    const s = store();
    await s.setup();
    const ttl = (await runs.listIndexes().toArray()).some((i) => i.expireAfterSeconds === 0);
    expect(s.serverFeatures.ttlIndex).toBe(ttl);
    expect(s.capabilities.nativeTtl).toBe(ttl);
    if (server.startsWith('ferretdb')) expect(s.serverFeatures).toEqual({ ttlIndex: false, atomicUpdates: false });
    if (server.startsWith('mongod')) expect(s.serverFeatures).toEqual({ ttlIndex: true, atomicUpdates: true });
  });

  it('ttlIndex: true fails setup on a server without TTL indexes, and works where they exist', async () => {
    const probe = store();
    await probe.setup();
    const strictDb = randomDatabase('strict');
    const strict = store({ database: strictDb, ttlIndex: true });
    if (probe.serverFeatures.ttlIndex) await expect(strict.setup()).resolves.toBeUndefined();
    else await expect(strict.setup()).rejects.toSatisfy((e: unknown) => isAgentSessionsError(e));
    await client.db(strictDb).dropDatabase();
  });

  it('runs never expire before their session, and never when it does not', async () => {
    const s = store();
    const r = ref();
    await s.appendRun({ ...r, format: 'plain', items: ['a'], ttl: 60_000 });
    await s.appendRun({ ...r, format: 'plain', items: ['b'] });
    const h = (await headers.findOne({ _id: key(r) })) as HeaderDoc;
    const docs = await runs.find({ agentId: r.agentId }).toArray();
    for (const d of docs) expect(d.expiresAt.getTime()).toBeGreaterThanOrEqual(h.expiresAt?.getTime() ?? Infinity);
    await s.appendRun({ ...r, format: 'plain', items: ['c'], ttl: null });
    for (const d of await runs.find({ agentId: r.agentId }).toArray()) expect(d.expiresAt).toEqual(NEVER);
  });

  for (const atomicUpdates of [false, true]) {
    describe(atomicUpdates ? 'on the compare-and-set path' : 'on the locked path', () => {
      // One connection makes each command run alone, so conditional updates are atomic even on
      // FerretDB (see mongodb-cas.conformance.test.ts).
      const single = new MongoClient(url, { maxPoolSize: 1 });
      afterAll(() => single.close());
      const make = () => store({ client: single, atomicUpdates });

      it('a run left by a writer that died before its commit is committed by the next writer', async () => {
        const s = make();
        const r = ref();
        await s.appendRun({ ...r, runId: 'r1', format: 'plain', items: ['one'] });
        const h = (await headers.findOne({ _id: key(r) })) as HeaderDoc;
        const [first] = await runs.find({ agentId: r.agentId }).toArray();
        const { _id, ...base } = first as RunDoc & { _id: unknown };
        // Appended on the header's current slot (what a live writer would have read), never committed.
        await runs.insertOne({ ...base, runId: 'orphan', seq: 2, base: h.slot ?? 0, items: ['"two"'] });
        expect((await s.getSession(r))?.lastSeq).toBe(1); // not committed: invisible
        const res = await s.appendRun({ ...r, runId: 'r3', format: 'plain', items: ['three'] });
        expect(res.run.seq).toBe(3);
        expect((await s.listRuns({ ...r, limit: 10 })).map((x) => [x.runId, x.seq])).toEqual([
          ['r1', 1],
          ['orphan', 2],
          ['r3', 3],
        ]);
        // And a retry of the dead writer's run finds it stored.
        const retry = await s.appendRun({ ...r, runId: 'orphan', format: 'plain', items: ['two'] });
        expect(retry).toMatchObject({ created: false, run: { seq: 2, items: ['two'] } });
      });

      it('a run that lost its chance to be committed is removed and its place reused', async () => {
        const s = make();
        const r = ref();
        await s.appendRun({ ...r, format: 'plain', items: ['one'] });
        await s.appendRun({ ...r, format: 'plain', items: ['two'] });
        const h = (await headers.findOne({ _id: key(r) })) as HeaderDoc;
        const [first] = await runs.find({ agentId: r.agentId, seq: 1 }).toArray();
        const { _id, ...base } = first as RunDoc & { _id: unknown };
        // Appended on a slot the header has moved past: never committable.
        await runs.insertOne({ ...base, runId: 'stale', seq: 3, base: (h.slot ?? 0) - 1 });
        const res = await s.appendRun({ ...r, runId: 'fresh', format: 'plain', items: ['three'] });
        expect(res.run.seq).toBe(3);
        expect(await runs.countDocuments({ agentId: r.agentId, runId: 'stale' })).toBe(0);
      });

      it('a pop that stopped halfway is hidden from readers and finished by the next writer', async () => {
        const s = make();
        const r = ref();
        await s.appendRun({ ...r, runId: 'a', format: 'plain', items: ['a1'] });
        await s.appendRun({ ...r, runId: 'b', format: 'plain', items: ['b1', 'b2'] });
        const h = (await headers.findOne({ _id: key(r) })) as HeaderDoc;
        // The intent is recorded, the run not yet touched: as if the popper died here.
        await headers.updateOne(
          { _id: key(r) },
          { $set: { pop: { id: 'x', runId: 'b', seq: 2, n: 2 }, version: h.version + 1 } },
        );
        expect((await s.listRuns({ ...r, limit: 5 })).map((x) => x.items)).toEqual([['a1'], ['b1']]);
        expect(await s.popItem(r)).toEqual({ item: 'b1', runId: 'b', seq: 2 });
        expect((await s.listRuns({ ...r, limit: 5 })).map((x) => x.items)).toEqual([['a1']]);
        expect((await s.getSession(r))?.lastSeq).toBe(1);
        expect((await s.appendRun({ ...r, format: 'plain', items: ['c'] })).run.seq).toBe(2);
      });
    });
  }

  it('a lock left by a writer that died is broken after its lease', async () => {
    const s = store({ atomicUpdates: false, lockLeaseMs: 200, contentionTimeoutMs: 2000 });
    const r = ref();
    await db.collection(DEFAULT_LOCKS_COLLECTION).insertOne({ _id: key(r) as never, token: 'dead', expiresAt: new Date(Date.now() + 200) });
    const res = await s.appendRun({ ...r, format: 'plain', items: ['x'] });
    expect(res.run.seq).toBe(1);
    // A live lock is waited for, then the call fails with conflict.
    const held = store({ atomicUpdates: false, lockLeaseMs: 60_000, contentionTimeoutMs: 300 });
    await db.collection(DEFAULT_LOCKS_COLLECTION).insertOne({ _id: key(r) as never, token: 'alive', expiresAt: new Date(Date.now() + 60_000) });
    await expect(held.appendRun({ ...r, format: 'plain', items: ['y'] })).rejects.toMatchObject({ code: 'conflict' });
    await db.collection(DEFAULT_LOCKS_COLLECTION).deleteOne({ _id: key(r) as never });
  });

  it('a live holder renews its lease: a slow writer keeps its lock past the lease but not past its call bound, and the default lease is short', async () => {
    const locks = db.collection<LockDoc>(DEFAULT_LOCKS_COLLECTION);
    const lockCtx = (budgetMs: number, maxTimeMS = 10_000) =>
      ({ name: 'mongodb', locks, lockLeaseMs: 300, maxTimeMS, contention: { attempts: 1e9, budgetMs, baseDelayMs: 1, maxDelayMs: 20 }, lostRace: () => {} }) as unknown as MongoContext;
    const lockKey = `renew:${key(ref())}`;
    let releaseHolder!: () => void;
    const holding = new Promise<void>((resolve) => (releaseHolder = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const holder = withLock(lockCtx(1000), lockKey, async () => {
      entered();
      await holding;
      return 'held';
    });
    await inside;
    // Four leases long: without renewal the waiter would break the lock after 300 ms and overlap.
    await expect(withLock(lockCtx(1200), lockKey, async () => 'overlapped')).rejects.toMatchObject({ code: 'conflict' });
    releaseHolder();
    expect(await holder).toBe('held');
    expect(await withLock(lockCtx(1000), lockKey, async () => 'next')).toBe('next');
    expect(await locks.findOne({ _id: lockKey })).toBeNull();
    // A holder still running past its call's time bound (the caller was already told
    // `unavailable`) stops renewing: its lock lapses one lease later and the next writer gets in.
    let releaseZombie!: () => void;
    const zombieHolding = new Promise<void>((resolve) => (releaseZombie = resolve));
    let zombieIn!: () => void;
    const zombieInside = new Promise<void>((resolve) => (zombieIn = resolve));
    const zombieKey = `zombie:${key(ref())}`;
    const zombie = withLock(lockCtx(1000, 400), zombieKey, async () => {
      zombieIn();
      await zombieHolding;
    });
    await zombieInside;
    const waited = Date.now();
    expect(await withLock(lockCtx(5000), zombieKey, async () => 'next writer')).toBe('next writer');
    expect(Date.now() - waited).toBeLessThan(3000);
    releaseZombie();
    await zombie;
    // The default lease: a writer behind one that died waits at most about this long.
    const s = store({ atomicUpdates: false });
    const r = ref();
    await locks.insertOne({ _id: key(r), token: 'dead', expiresAt: new Date(Date.now() + 3000) });
    const started = Date.now();
    expect((await s.appendRun({ ...r, format: 'plain', items: ['after a dead writer'] })).run.seq).toBe(1);
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it('fromConnectionString takes the database from the options, else the URL, else agent_sessions', () => {
    expect(databaseFromUrl('mongodb://h:1,h:2/app?replicaSet=rs')).toBe('app');
    expect(databaseFromUrl('mongodb+srv://u:p@cluster.example/my%20db')).toBe('my db');
    expect(databaseFromUrl('mongodb://127.0.0.1:27017/')).toBeUndefined();
    expect(databaseFromUrl('mongodb://127.0.0.1:27017')).toBeUndefined();
  });

  it('createStore from core loads this package for mongodb:// URLs', async () => {
    const s = await createStore(url, { database });
    stores.push(s);
    expect(s.name).toBe('mongodb');
    const r = ref();
    await s.appendRun({ ...r, format: 'plain', items: ['via createStore'] });
    expect((await store().listRuns({ ...r, limit: 1 }))[0]?.items).toEqual(['via createStore']);
  });
});

describe('an outage', () => {
  it('fails fast with unavailable while the server is down, and the same store works once it is back', async () => {
    const ferret = await startFerretdb();
    const s = MongoStore.fromConnectionString(ferret.url, { database: 'outage' });
    try {
      const r = ref();
      await s.appendRun({ ...r, format: 'plain', items: ['before'] });
      await ferret.stop();
      const t0 = Date.now();
      await expect(s.appendRun({ ...r, format: 'plain', items: ['during'] })).rejects.toMatchObject({ code: 'unavailable' });
      await expect(s.listRuns({ ...r, limit: 5 })).rejects.toMatchObject({ code: 'unavailable' });
      expect(Date.now() - t0).toBeLessThan(10_000);
      await ferret.restart();
      await s.appendRun({ ...r, format: 'plain', items: ['after'] });
      expect((await s.listRuns({ ...r, limit: 5 })).map((x) => x.items)).toEqual([['before'], ['after']]);
    } finally {
      await s.close();
      await ferret.destroy();
    }
  }, 60_000);
});
