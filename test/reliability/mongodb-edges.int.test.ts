import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { MongoClient } from 'mongodb';
import { createStore, DEFAULT_TIMEOUT_MS, isAgentSessionsError } from '@agent-sessions/core';
import { DEFAULT_RUNS_COLLECTION, DEFAULT_SESSIONS_COLLECTION, MongoStore, type RunDoc } from '@agent-sessions/mongodb';
import { startFerretdb } from '../services/mongodb.js';
import { freePort } from '../services/util.js';
import { Tally } from './backends.js';

// Issue 14 on the MongoDB store: bounded TTLs, calls bounded in time, one bad record stays
// local, huge sessions deleted in batches, errors a user can act on.
const tally = new Tally('mongodb-edges');
afterAll(() => tally.print());

const url = inject('mongodbUrl');
const database = `edges_${randomBytes(4).toString('hex')}`;
const admin = new MongoClient(url, { monitorCommands: true });
const stores: MongoStore[] = [];
afterAll(async () => {
  for (const s of stores) await s.close();
  await admin.db(database).dropDatabase();
  await admin.close();
});
const open = (): MongoStore => {
  const s = new MongoStore({ client: admin, database });
  stores.push(s);
  return s;
};
let n = 0;
const ref = () => ({ agentId: `agent-${n++}`, sessionId: `s-${randomBytes(3).toString('hex')}` });
const key = (r: { agentId: string; sessionId: string }) => JSON.stringify([r.agentId, r.sessionId]);

describe('1. TTLs are bounded', () => {
  it('ttl: Number.MAX_SAFE_INTEGER is refused with invalid_input, and the session survives', async () => {
    const s = open();
    const r = ref();
    await s.appendRun({ ...r, format: 'plain', items: ['kept'], ttl: '1h' });
    for (const ttl of [Number.MAX_SAFE_INTEGER, 1e19, 8.7e15]) {
      tally.inputs += 1;
      await expect(s.appendRun({ ...r, format: 'plain', items: ['x'], ttl })).rejects.toMatchObject({ code: 'invalid_input' });
      await expect(s.createSession({ ...ref(), ttl })).rejects.toMatchObject({ code: 'invalid_input' });
    }
    const h = await s.getSession(r);
    expect(h?.lastSeq).toBe(1);
    expect(h?.expiresAt).toBeGreaterThan(Date.now());
    expect((await s.appendRun({ ...r, format: 'plain', items: ['next'] })).run.seq).toBe(2);
    // The largest TTL accepted (100 years) is stored as a valid date.
    const far = ref();
    const res = await s.appendRun({ ...far, format: 'plain', items: ['far'], ttl: '36500d' });
    expect(res.session.expiresAt).toBeGreaterThan(Date.now() + 99 * 365 * 86_400_000);
    expect((await s.listRuns({ ...far, limit: 5 })).map((x) => x.items)).toEqual([['far']]);
  });
});

describe('3. every call is bounded in time with the defaults', () => {
  it(`a paused server (SIGSTOP) fails calls with unavailable within ${DEFAULT_TIMEOUT_MS} ms, and the same store works after SIGCONT`, async () => {
    const ferret = await startFerretdb();
    const s = await createStore(ferret.url, { database: 'paused' });
    try {
      const r = ref();
      await s.appendRun({ ...r, format: 'plain', items: ['before'] });
      ferret.pause();
      tally.faults += 1;
      for (const call of [
        () => s.appendRun({ ...r, format: 'plain', items: ['during'] }),
        () => s.readHistory({ ...r, limit: 5 }),
        () => s.listSessions({ agentId: r.agentId }),
      ]) {
        const t0 = Date.now();
        const err = await call().then(
          () => null,
          (e: unknown) => e,
        );
        const took = Date.now() - t0;
        expect(isAgentSessionsError(err, 'unavailable'), String(err)).toBe(true);
        expect(took).toBeLessThan(DEFAULT_TIMEOUT_MS + 2000);
        console.log(`[mongodb-edges] paused server: ${String((err as Error).message).slice(0, 120)} after ${took} ms`);
      }
      ferret.resume();
      const t1 = Date.now();
      // The driver drops the connections the pause left hanging (socketTimeoutMS), then reconnects.
      let after: unknown;
      while (Date.now() - t1 < 30_000) {
        after = await s.appendRun({ ...r, runId: 'after', format: 'plain', items: ['after'] }).catch((e: unknown) => e);
        if (!(after instanceof Error)) break;
        await new Promise((res) => setTimeout(res, 250));
      }
      expect(after).not.toBeInstanceOf(Error);
      console.log(`[mongodb-edges] recovered ${Date.now() - t1} ms after SIGCONT`);
      const items = (await s.listRuns({ ...r, limit: 10 })).map((x) => x.items[0]);
      expect(items[0]).toBe('before');
      expect(items[items.length - 1]).toBe('after');
      // A write cut off by the pause may have landed: whole, and at most once.
      expect(items.filter((x) => x === 'during').length).toBeLessThanOrEqual(1);
    } finally {
      ferret.resume();
      await s.close();
      await ferret.destroy();
    }
  }, 90_000);
});

describe('7. one bad record stays local', () => {
  it('a malformed header or run fails only the calls that read it, with an error naming agent, session and seq', async () => {
    const s = open();
    const agentId = `agent-bad-${n++}`;
    const good = { agentId, sessionId: 'good' };
    const badHeader = { agentId, sessionId: 'bad-header' };
    const badRun = { agentId, sessionId: 'bad-run' };
    for (const r of [good, badHeader, badRun]) {
      await s.appendRun({ ...r, format: 'plain', items: ['a'] });
      await s.appendRun({ ...r, format: 'plain', items: ['b'] });
    }
    const db = admin.db(database);
    await db.collection(DEFAULT_SESSIONS_COLLECTION).updateOne({ _id: key(badHeader) as never }, { $set: { metadata: '{not json' } });
    await db.collection<RunDoc>(DEFAULT_RUNS_COLLECTION).updateOne({ agentId, sessionId: 'bad-run', seq: 2 }, { $set: { items: ['{broken'] } });
    tally.faults += 2;

    await expect(s.getSession(badHeader)).rejects.toSatisfy(
      (e: unknown) => isAgentSessionsError(e) && /bad-header/.test(e.message) && e.message.includes(agentId),
    );
    await expect(s.listRuns({ ...badRun, limit: 5 })).rejects.toSatisfy(
      (e: unknown) => isAgentSessionsError(e) && /bad-run/.test(e.message) && e.message.includes(agentId) && /seq 2/.test(e.message),
    );
    // Older runs of that session, the other sessions and the agent's listing still read.
    expect((await s.listRuns({ ...badRun, limit: 1, beforeSeq: 2 })).map((x) => x.items)).toEqual([['a']]);
    expect((await s.readHistory({ ...good, limit: 5 })).runs).toHaveLength(2);
    const page = await s.listSessions({ agentId });
    expect(page.sessions.map((x) => x.sessionId).sort()).toEqual(['bad-run', 'good']);
    // Pages stay whole around it: one per page, every readable session listed once.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const p = await s.listSessions({ agentId, limit: 1, cursor });
      seen.push(...p.sessions.map((x) => x.sessionId));
      cursor = p.nextCursor ?? undefined;
    } while (cursor);
    expect(seen.sort()).toEqual(['bad-run', 'good']);
  });
});

describe('9. work proportional to what is touched', () => {
  it('deleting a huge session removes its runs in bounded batches', async () => {
    const s = open();
    const r = ref();
    await s.appendRun({ ...r, runId: 'r1', format: 'plain', items: ['first'] });
    const db = admin.db(database);
    const [first] = await db.collection<RunDoc>(DEFAULT_RUNS_COLLECTION).find({ agentId: r.agentId }).toArray();
    const { _id, ...base } = first as RunDoc & { _id: unknown };
    const total = 5000;
    const docs = Array.from({ length: total - 1 }, (_, i) => ({ ...base, runId: `r${i + 2}`, seq: i + 2 }));
    for (let i = 0; i < docs.length; i += 1000) await db.collection(DEFAULT_RUNS_COLLECTION).insertMany(docs.slice(i, i + 1000));
    await db.collection(DEFAULT_SESSIONS_COLLECTION).updateOne({ _id: key(r) as never }, { $set: { lastSeq: total } });

    const deletes: { n: number; ms: number }[] = [];
    const started = new Map<number, number>();
    const onStart = (e: { requestId: number; commandName: string; command: { deletes?: { q: { _id?: { $in?: unknown[] } } }[] } }) => {
      if (e.commandName === 'delete') started.set(e.requestId, e.command.deletes?.[0]?.q._id?.$in?.length ?? -1);
    };
    const onDone = (e: { requestId: number; duration: number }) => {
      const size = started.get(e.requestId);
      if (size !== undefined) deletes.push({ n: size, ms: e.duration });
    };
    admin.on('commandStarted', onStart);
    admin.on('commandSucceeded', onDone);
    try {
      expect(await s.deleteSession(r)).toBe(true);
    } finally {
      admin.off('commandStarted', onStart);
      admin.off('commandSucceeded', onDone);
    }
    // Gone at once for every reader; what the call's budget left, prune() finishes (also in batches).
    expect(await s.getSession(r)).toBeNull();
    expect((await s.listSessions({ agentId: r.agentId })).sessions).toEqual([]);
    const left = await db.collection(DEFAULT_RUNS_COLLECTION).countDocuments({ agentId: r.agentId });
    admin.on('commandStarted', onStart);
    admin.on('commandSucceeded', onDone);
    try {
      await s.prune({ agentId: r.agentId });
    } finally {
      admin.off('commandStarted', onStart);
      admin.off('commandSucceeded', onDone);
    }
    expect(await db.collection(DEFAULT_RUNS_COLLECTION).countDocuments({ agentId: r.agentId })).toBe(0);
    expect(await db.collection(DEFAULT_SESSIONS_COLLECTION).countDocuments({ agentId: r.agentId })).toBe(0);
    const batches = deletes.filter((d) => d.n > 0);
    expect(batches.length).toBeGreaterThanOrEqual(total / 500);
    expect(Math.max(...batches.map((d) => d.n))).toBeLessThanOrEqual(500);
    console.log(
      `[mongodb-edges] deleted ${total} runs (${left} left by deleteSession's budget for prune) in ${batches.length} batches of <= 500, longest delete command ${Math.max(...batches.map((d) => d.ms)).toFixed(1)} ms`,
    );
  }, 120_000);
});

describe('9b. an append to a huge expired session stays bounded', () => {
  it('the old runs are not all deleted inline: a time-boxed step, then collisions and prune() take the rest', async () => {
    const s = open();
    const r = ref();
    await s.appendRun({ ...r, runId: 'r1', format: 'plain', items: ['old'], ttl: '1h' });
    const db = admin.db(database);
    const runsColl = db.collection<RunDoc>(DEFAULT_RUNS_COLLECTION);
    const [first] = await runsColl.find({ agentId: r.agentId }).toArray();
    const { _id, ...base } = first as RunDoc & { _id: unknown };
    const total = 3000;
    // Expired: the session and (as after twice its TTL) its runs. (One updateMany over 3000 runs
    // takes FerretDB minutes, so the runs are written expired.)
    const past = new Date(Date.now() - 1000);
    const docs = Array.from({ length: total - 1 }, (_, i) => ({ ...base, runId: `r${i + 2}`, seq: i + 2, expiresAt: past }));
    for (let i = 0; i < docs.length; i += 1000) await runsColl.insertMany(docs.slice(i, i + 1000));
    await runsColl.updateOne({ agentId: r.agentId, seq: 1 }, { $set: { expiresAt: past } });
    await db.collection(DEFAULT_SESSIONS_COLLECTION).updateOne({ _id: key(r) as never }, { $set: { lastSeq: total, expiresAt: past } });

    let deleted = 0;
    const onDone = (e: { commandName: string; reply?: { n?: number } }) => {
      if (e.commandName === 'delete') deleted += e.reply?.n ?? 0;
    };
    admin.on('commandSucceeded', onDone);
    const t0 = Date.now();
    let res: Awaited<ReturnType<MongoStore['appendRun']>>;
    try {
      res = await s.appendRun({ ...r, format: 'plain', items: ['new life'] });
    } finally {
      admin.off('commandSucceeded', onDone);
    }
    const took = Date.now() - t0;
    expect(res.run.seq).toBe(1);
    expect(deleted).toBeLessThan(total);
    const gen = (await db.collection<{ gen: string }>(DEFAULT_SESSIONS_COLLECTION).findOne({ _id: key(r) as never }))?.gen;
    const left = await runsColl.countDocuments({ agentId: r.agentId, gen: { $ne: gen } });
    expect(left).toBeGreaterThan(0);
    // The new incarnation reads alone and keeps growing past the old runs' places.
    for (let i = 2; i <= 4; i++) expect((await s.appendRun({ ...r, format: 'plain', items: [`n${i}`] })).run.seq).toBe(i);
    expect((await s.listRuns({ ...r, limit: 10 })).map((x) => x.items[0])).toEqual(['new life', 'n2', 'n3', 'n4']);
    // prune() removes the rest (runs past their own expiry), in bounded batches.
    await s.prune({ agentId: r.agentId });
    expect(await runsColl.countDocuments({ agentId: r.agentId })).toBe(4);
    console.log(`[mongodb-edges] append to an expired session of ${total} runs: ${took} ms, ${deleted} old runs deleted inline, ${left} left to collisions and prune()`);
  }, 120_000);
});

describe('11. errors a user can act on', () => {
  it('malformed URLs are invalid_input naming the scheme, never a raw MongoParseError', async () => {
    for (const bad of ['mongodb://', 'mongodb://:@@:x', 'mongodb://127.0.0.1:27017/a.b', 'mongodb://127.0.0.1:27017/db?bogusOption=1', 'mongodb+srv://h:1/']) {
      tally.inputs += 1;
      const err = await createStore(bad).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isAgentSessionsError(err, 'invalid_input'), `${bad}: ${String(err)}`).toBe(true);
      expect((err as Error).message).toMatch(/mongodb(\+srv)?:\/\/|mongodb: database/);
    }
    await expect(createStore(url, { database: 'has.dot' })).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it('a server that refuses connections: unavailable, naming host, port and cause', async () => {
    const port = await freePort();
    const s = await createStore(`mongodb://127.0.0.1:${port}/x`);
    try {
      const err = await s.getSession(ref()).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isAgentSessionsError(err, 'unavailable'), String(err)).toBe(true);
      expect((err as Error).message).toContain(`127.0.0.1:${port}`);
      expect((err as Error).message).toMatch(/ECONNREFUSED/);
    } finally {
      await s.close();
    }
  });
});
