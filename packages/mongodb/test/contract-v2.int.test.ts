import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LOCKS_COLLECTION,
  DEFAULT_RUNS_COLLECTION,
  DEFAULT_SESSIONS_COLLECTION,
  MongoStore,
  type HeaderDoc,
  type RunDoc,
} from '@agent-sessions/mongodb';
import { mongoFixture, randomDatabase } from './helpers.js';

// Contract v2 on the MongoDB store, read back from the documents: header fields carried by the
// run and applied by whoever commits it, one write per rename, metadata filters and a user's
// sessions from indexes, imports never visible halfway, headers from before these fields.
const { server, client, db, headers, runs, store, ref, key } = mongoFixture('v2', { maxPoolSize: 1, monitorCommands: true });
let n = 0;

/** The commands `fn` sends, by name, with their filters. */
async function sent(fn: () => Promise<unknown>): Promise<{ name: string; command: Record<string, unknown> }[]> {
  const out: { name: string; command: Record<string, unknown> }[] = [];
  const on = (e: { commandName: string; command: Record<string, unknown> }) => out.push({ name: e.commandName, command: e.command });
  client.on('commandStarted', on);
  try {
    await fn();
  } finally {
    client.off('commandStarted', on);
  }
  return out;
}

const importHeader = (t: number) => ({
  createdAt: t - 1000,
  updatedAt: t,
  expiresAt: null,
  ttlMs: null,
  metadata: { k: 'v' },
  state: {},
  summary: 'S',
  summarySeq: 1,
  title: 'T',
  preview: 'p',
  usage: { requests: 2, inputTokens: 3, outputTokens: 4, totalTokens: 7 },
});

describe(`contract v2 on ${server}`, () => {
  for (const atomicUpdates of [true, false]) {
    describe(atomicUpdates ? 'compare-and-set path' : 'locked path', () => {
      it('title, preview and usage ride on the run: a run committed by the next writer brings its own', async () => {
        const s = store({ atomicUpdates });
        const r = ref();
        await s.appendRun({ ...r, runId: 'r1', format: 'plain', items: ['one'], usage: { totalTokens: 1 } });
        const h = (await headers.findOne({ _id: key(r) })) as HeaderDoc;
        const [first] = await runs.find({ agentId: r.agentId }).toArray();
        const { _id, ...base } = first as RunDoc & { _id: unknown };
        // A writer that died between its insert and its commit, carrying a title and usage.
        await runs.insertOne({
          ...base,
          runId: 'orphan',
          seq: 2,
          base: h.slot ?? 0,
          items: ['"two"'],
          header: { title: 'From the orphan', preview: 'two', usage: { requests: 1, totalTokens: 10 } },
        });
        const res = await s.appendRun({ ...r, runId: 'r3', format: 'plain', items: ['three'], title: 'Too late', usage: { totalTokens: 100 } });
        expect(res.run.seq).toBe(3);
        expect(res.session).toMatchObject({ title: 'From the orphan', preview: 'two', runCount: 3 });
        expect(res.session.usage).toEqual({ requests: 1, inputTokens: 0, outputTokens: 0, totalTokens: 111 });
        // A retry of the orphan's run id changes nothing.
        const again = await s.appendRun({ ...r, runId: 'orphan', format: 'plain', items: ['two'], preview: 'x', usage: { totalTokens: 5 } });
        expect(again.created).toBe(false);
        expect((await s.getSession(r))?.usage.totalTokens).toBe(111);
      });

      it(`renameSession is ${atomicUpdates ? 'one findAndModify' : 'one findAndModify inside the lock'}; a TTL adds one $max write`, async () => {
        const s = store({ atomicUpdates });
        const r = ref();
        await s.appendRun({ ...r, format: 'plain', items: ['a'] });
        const cmds = await sent(() => s.renameSession({ ...r, title: 'New' }));
        const names = cmds.map((c) => c.name);
        expect(names.filter((x) => x !== 'insert' && x !== 'delete')).toEqual(['findAndModify']);
        if (!atomicUpdates) expect(names).toEqual(['insert', 'findAndModify', 'delete']); // the lock
        const t = ref();
        await s.appendRun({ ...t, format: 'plain', items: ['a'], ttl: '1h' });
        const before = (await headers.findOne({ _id: key(t) }))?.expiresAt?.getTime() ?? 0;
        await new Promise((res) => setTimeout(res, 5));
        const touched = await s.touchSession(t);
        expect(touched.expiresAt ?? 0).toBeGreaterThan(before);
        expect((await headers.findOne({ _id: key(t) }))?.expiresAt?.getTime()).toBe(touched.expiresAt);
      });
    });
  }

  it('listSessions({ metadata }) asks the server for the tags ($all), which an index covers', async () => {
    const s = store();
    const agentId = ref().agentId;
    await s.appendRun({ agentId, sessionId: 'a', format: 'plain', items: ['x'], sessionMetadata: { project: 'p1', 'a.b': true, $x: 1, deep: { k: 1 } } });
    await s.appendRun({ agentId, sessionId: 'b', format: 'plain', items: ['x'], sessionMetadata: { project: 'p2' } });
    let page: Awaited<ReturnType<MongoStore['listSessions']>> | undefined;
    const cmds = await sent(async () => {
      page = await s.listSessions({ agentId, metadata: { project: 'p1', 'a.b': true, $x: 1 } });
    });
    expect(page?.sessions.map((x) => x.sessionId)).toEqual(['a']);
    const find = cmds.find((c) => c.name === 'find');
    expect((find?.command.filter as { tags?: unknown }).tags).toEqual({ $all: ['["project","p1"]', '["a.b",true]', '["$x",1]'] });
    const idx = await headers.listIndexes().toArray();
    expect(idx.find((i) => i.name === 'agent_tags_updated')?.key).toEqual({ agentId: 1, tags: 1, updatedAt: -1, sessionId: -1 });
    expect(idx.find((i) => i.name === 'user_agent_session')?.key).toEqual({ userId: 1, agentId: 1, sessionId: 1 });
    // An updateSession that changes metadata changes what the filter finds.
    const h = await s.getSession({ agentId, sessionId: 'b' });
    await s.updateSession({ agentId, sessionId: 'b', expectedVersion: h?.version ?? 0, metadata: { project: 'p1' } });
    expect((await s.listSessions({ agentId, metadata: { project: 'p1' } })).sessions.map((x) => x.sessionId).sort()).toEqual(['a', 'b']);
  });

  it('listUserSessions pages a user\'s live sessions by (agentId, sessionId), skipping expired and foreign ones', async () => {
    const s = store();
    const user = `user-${n++}`;
    const [a1, a2] = [`ua-${n++}`, `ub-${n++}`];
    for (const [agentId, sessionId] of [[a2, 's2'], [a1, 's3'], [a1, 's1'], [a2, 's1']] as const) {
      await s.appendRun({ agentId, sessionId, userId: user, format: 'plain', items: ['x'] });
    }
    await s.appendRun({ agentId: a1, sessionId: 's2', userId: 'someone-else', format: 'plain', items: ['x'] });
    await s.appendRun({ agentId: a1, sessionId: 'gone', userId: user, format: 'plain', items: ['x'], ttl: 1 });
    await new Promise((res) => setTimeout(res, 5));
    const seen: string[] = [];
    let after: { agentId: string; sessionId: string } | null = null;
    for (;;) {
      const page = await s.listUserSessions({ userId: user, limit: 1, after });
      if (page.length === 0) break;
      for (const h of page) seen.push(`${h.agentId}/${h.sessionId}`);
      const last = page[page.length - 1] as { agentId: string; sessionId: string };
      after = { agentId: last.agentId, sessionId: last.sessionId };
    }
    expect(seen).toEqual([`${a1}/s1`, `${a1}/s3`, `${a2}/s1`, `${a2}/s2`]);
    expect((await s.listUserSessions({ userId: user, agentId: a2, limit: 10, after: { agentId: a2, sessionId: 's1' } })).map((h) => h.sessionId)).toEqual(['s2']);
  });

  it('an import is never visible halfway: appends wait for a live claim, an abandoned one is replaced and pruned', async () => {
    const s = store({ contentionTimeoutMs: 300 });
    const r = ref();
    const now = Date.now();
    // A claim as restoreSession leaves it while its runs are going in (its writer still alive).
    const claim: HeaderDoc = {
      _id: key(r),
      agentId: r.agentId,
      sessionId: r.sessionId,
      userId: null,
      gen: 'import-gen',
      createdAt: now,
      updatedAt: now,
      expiresAt: new Date(now + 60_000),
      ttlMs: null,
      runsExpireAt: new Date(now + 60_000),
      metadata: '{}',
      state: '{}',
      summary: null,
      importing: true,
      version: 0,
      slot: 0,
      lastSeq: 2,
      pop: null,
    };
    await headers.insertOne(claim);
    await runs.insertOne({ agentId: r.agentId, sessionId: r.sessionId, gen: 'import-gen', runId: 'i1', seq: 1, base: 0, createdAt: now, status: 'completed', format: 'plain', items: ['"imported"'], n: 1, usage: null, metadata: null, expiresAt: new Date(now + 60_000) });
    expect(await s.getSession(r)).toBeNull();
    expect((await s.readHistory({ ...r, limit: 5 })).session).toBeNull();
    await expect(s.appendRun({ ...r, format: 'plain', items: ['racing'] })).rejects.toMatchObject({ code: 'conflict' });
    // Another import of the same id is refused while the claim lives.
    await expect(s.restoreSession({ ...r, header: importHeader(now), runs: [] })).rejects.toMatchObject({ code: 'conflict' });
    expect(await runs.countDocuments({ agentId: r.agentId, gen: { $ne: 'import-gen' } })).toBe(0);
    // The importer died: after its lease, prune removes the claim and its runs.
    await headers.updateOne({ _id: key(r) }, { $set: { expiresAt: new Date(now - 1) } });
    expect(await s.prune({ agentId: r.agentId })).toEqual({ sessions: 1, runs: 1 });
    // An append after an abandoned claim's lease replaces it and starts at seq 1.
    await headers.insertOne({ ...claim, expiresAt: new Date(now - 1) });
    expect((await s.appendRun({ ...r, format: 'plain', items: ['fresh'] })).run.seq).toBe(1);
  });

  it('restoreSession replaces an expired session, runs first and header last, and refuses a live one', async () => {
    const s = store();
    const r = { ...ref(), userId: 'owner' };
    for (let i = 0; i < 3; i++) await s.appendRun({ ...r, format: 'plain', items: [`old${i}`], ttl: 1 });
    await new Promise((res) => setTimeout(res, 5));
    const t = Date.now();
    const run = (seq: number) => ({ runId: `new${seq}`, seq, createdAt: t, status: 'completed' as const, format: 'plain', items: [`new${seq}`], usage: null, metadata: null });
    const header = importHeader(t);
    const restored = await s.restoreSession({ ...r, header, runs: [run(1), run(2)] });
    expect(restored).toMatchObject({ version: 1, lastSeq: 2, runCount: 2, title: 'T', summarySeq: 1, usage: header.usage });
    expect((await s.listRuns({ ...r, limit: 10 })).map((x) => x.items[0])).toEqual(['new1', 'new2']);
    // The expired incarnation's third run is dead: it never shows, and the next append takes seq 3.
    expect((await s.appendRun({ ...r, format: 'plain', items: ['next'] })).run.seq).toBe(3);
    expect((await s.listSessions({ agentId: r.agentId, metadata: { k: 'v' } })).sessions).toHaveLength(1);
    await expect(s.restoreSession({ ...r, header, runs: [run(1)] })).rejects.toMatchObject({ code: 'conflict' });
    expect((await headers.findOne({ _id: key(r) }))?.importing).toBeUndefined();
  });

  it('headers written before title, preview, usage, summarySeq, tags and slot existed still work', async () => {
    const legacyDb = randomDatabase('legacy');
    const ldb = client.db(legacyDb);
    const r = ref();
    const now = Date.now();
    // As the first version of this store wrote them: no slot, no v2 fields, no tags marker.
    await ldb.collection(DEFAULT_SESSIONS_COLLECTION).insertOne({
      _id: key(r) as never,
      agentId: r.agentId,
      sessionId: r.sessionId,
      userId: null,
      gen: 'old-gen',
      createdAt: now,
      updatedAt: now,
      expiresAt: null,
      ttlMs: null,
      runsExpireAt: new Date(Date.UTC(9999, 11, 31)),
      metadata: '{"team":"blue"}',
      state: '{}',
      summary: null,
      version: 1,
      lastSeq: 1,
      pop: null,
    });
    await ldb.collection(DEFAULT_RUNS_COLLECTION).insertOne({ agentId: r.agentId, sessionId: r.sessionId, gen: 'old-gen', runId: 'r1', seq: 1, base: 0, createdAt: now, status: 'completed', format: 'plain', items: ['"legacy"'], n: 1, usage: null, metadata: null, expiresAt: new Date(Date.UTC(9999, 11, 31)) });
    const s = store({ database: legacyDb });
    try {
      const h = await s.getSession(r);
      expect(h).toMatchObject({ title: null, preview: null, summarySeq: 0, runCount: 1, usage: { requests: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0 } });
      // setup backfilled the tags, so a metadata filter finds the old session.
      expect((await s.listSessions({ agentId: r.agentId, metadata: { team: 'blue' } })).sessions).toHaveLength(1);
      expect(await ldb.collection(DEFAULT_LOCKS_COLLECTION).countDocuments({ _id: 'schema:tags' as never })).toBe(1);
      // Appends commit on the slot-less header (slot 0), and set the new fields.
      const res = await s.appendRun({ ...r, format: 'plain', items: ['new'], title: 'Now titled', usage: { totalTokens: 3 } });
      expect(res.session).toMatchObject({ lastSeq: 2, title: 'Now titled', usage: { totalTokens: 3 } });
      const popped = await s.popItem(r);
      expect(popped).toMatchObject({ item: 'new', seq: 2 });
      expect((await s.appendRun({ ...r, format: 'plain', items: ['again'] })).run.seq).toBe(2);
      expect((await s.listRuns({ ...r, limit: 5 })).map((x) => x.items[0])).toEqual(['legacy', 'again']);
      const up = await s.updateSession({ ...r, expectedVersion: (await s.getSession(r))?.version ?? 0, summary: 'sum', summarySeq: 2 });
      expect(up.summarySeq).toBe(2);
    } finally {
      await ldb.dropDatabase();
    }
  });
});
