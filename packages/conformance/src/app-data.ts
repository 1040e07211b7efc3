import assert from 'node:assert/strict';
import {
  countUserData,
  deleteUserData,
  exportSessionText,
  forkSession,
  importSession,
  iterateRuns,
} from '@agent-sessions/core';
import { part, ref, rid, items, rejectsWith, sleep, type ConformanceOptions } from './context.js';

/** What applications build on sessions: list headers, titles, whole transcripts, export/import, fork, erasure. */
export function appDataTests(options: ConformanceOptions): void {
  part(options, 'app data', ({ it, store, another }) => {
    it('the header carries title, preview, run count and usage totals, kept by each append', async () => {
      const r = ref();
      const a = await store().appendRun({
        ...r,
        format: 'plain',
        items: ['hi'],
        title: '  Trip   to Lisbon ',
        preview: 'hi',
        usage: { requests: 1, inputTokens: 10, outputTokens: 5, totalTokens: 15, model: 'x' },
      });
      assert.equal(a.session.title, 'Trip to Lisbon');
      assert.equal(a.session.preview, 'hi');
      assert.equal(a.session.runCount, 1);
      assert.deepEqual(a.session.usage, { requests: 1, inputTokens: 10, outputTokens: 5, totalTokens: 15 });
      const b = await store().appendRun({ ...r, format: 'plain', items: ['more'], title: 'Another title', preview: 'the latest', usage: { requests: 2, inputTokens: 1 } });
      assert.equal(b.session.title, 'Trip to Lisbon', 'the first title stays');
      assert.equal(b.session.preview, 'the latest');
      assert.equal(b.session.runCount, 2);
      assert.deepEqual(b.session.usage, { requests: 3, inputTokens: 11, outputTokens: 5, totalTokens: 15 });
      const c = await store().appendRun({ ...r, format: 'plain', items: ['no preview'] });
      assert.equal(c.session.preview, 'the latest', 'an append without a preview keeps the last one');
      const [listed] = (await store().listSessions({ agentId: r.agentId })).sessions;
      assert.equal(listed?.title, 'Trip to Lisbon');
      assert.equal(listed?.preview, 'the latest');
      assert.equal(listed?.runCount, 3);
      assert.deepEqual(listed?.usage, { requests: 3, inputTokens: 11, outputTokens: 5, totalTokens: 15 });
      const got = await store().getSession(r);
      assert.deepEqual(got?.usage, listed?.usage);
    });

    it('a retried append changes no header field', async () => {
      const r = ref();
      await store().appendRun({ ...r, runId: 'once', format: 'plain', items: ['a'], preview: 'a', usage: { totalTokens: 7 } });
      const again = await store().appendRun({ ...r, runId: 'once', format: 'plain', items: ['a'], preview: 'b', usage: { totalTokens: 7 } });
      assert.equal(again.created, false);
      const h = await store().getSession(r);
      assert.equal(h?.preview, 'a');
      assert.equal(h?.usage.totalTokens, 7);
      assert.equal(h?.runCount, 1);
    });

    it('titles and previews are bounded; a new session has null title and preview and zero usage', async () => {
      const r = ref();
      const created = await store().createSession(r);
      assert.equal(created.session.title, null);
      assert.equal(created.session.preview, null);
      assert.equal(created.session.runCount, 0);
      assert.deepEqual(created.session.usage, { requests: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0 });
      const res = await store().appendRun({ ...r, format: 'plain', items: ['x'], title: 't'.repeat(1000), preview: 'p'.repeat(5000) });
      assert.ok((res.session.title ?? '').length <= 200);
      assert.ok((res.session.preview ?? '').length <= 500);
      assert.ok(res.session.preview?.endsWith('…'));
    });

    it('renameSession sets the title in one call and null clears it; a rename of an absent session is not_found', async () => {
      const r = ref('u1');
      await store().appendRun({ ...r, format: 'plain', items: ['a'], title: 'first' });
      const renamed = await store().renameSession({ ...r, title: 'Renamed' });
      assert.equal(renamed.title, 'Renamed');
      assert.equal((await store().getSession(r))?.title, 'Renamed');
      const next = await store().appendRun({ ...r, format: 'plain', items: ['b'], title: 'ignored' });
      assert.equal(next.session.title, 'Renamed');
      const cleared = await store().renameSession({ ...r, title: null });
      assert.equal(cleared.title, null);
      await rejectsWith(() => store().renameSession({ ...r, userId: 'someone-else', title: 'x' }), 'not_found');
      await rejectsWith(() => store().renameSession({ ...ref(), title: 'x' }), 'not_found');
      assert.equal((await store().getSession(r))?.title, null);
    });

    it('touchSession moves a session to the top of its list', async () => {
      const agentId = rid('agent');
      await store().appendRun({ agentId, sessionId: 'older', format: 'plain', items: ['a'] });
      await sleep(5);
      await store().appendRun({ agentId, sessionId: 'newer', format: 'plain', items: ['a'] });
      await sleep(5);
      const before = await store().getSession({ agentId, sessionId: 'older' });
      const touched = await store().touchSession({ agentId, sessionId: 'older' });
      assert.ok(touched.updatedAt > (before?.updatedAt ?? 0));
      assert.ok(touched.version > (before?.version ?? 0));
      const page = await store().listSessions({ agentId });
      assert.deepEqual(page.sessions.map((s) => s.sessionId), ['older', 'newer']);
      await rejectsWith(() => store().touchSession({ agentId, sessionId: 'absent' }), 'not_found');
    });

    it('listSessions filters by metadata equality', async () => {
      const agentId = rid('agent');
      await store().appendRun({ agentId, sessionId: 's1', format: 'plain', items: ['a'], sessionMetadata: { project: 'alpha', n: 1 } });
      await store().appendRun({ agentId, sessionId: 's2', format: 'plain', items: ['a'], sessionMetadata: { project: 'beta', n: 1 } });
      await store().appendRun({ agentId, sessionId: 's3', format: 'plain', items: ['a'], sessionMetadata: { project: 'alpha', n: 2 } });
      await store().appendRun({ agentId, sessionId: 's4', format: 'plain', items: ['a'] });
      const alpha = await store().listSessions({ agentId, metadata: { project: 'alpha' } });
      assert.deepEqual(alpha.sessions.map((s) => s.sessionId).sort(), ['s1', 's3']);
      const both = await store().listSessions({ agentId, metadata: { project: 'alpha', n: 2 } });
      assert.deepEqual(both.sessions.map((s) => s.sessionId), ['s3']);
      const none = await store().listSessions({ agentId, metadata: { project: 'gamma' } });
      assert.deepEqual(none.sessions, []);
      // Paging through a filtered list sees each match once.
      const first = await store().listSessions({ agentId, metadata: { project: 'alpha' }, limit: 1 });
      assert.ok(first.nextCursor);
      const second = await store().listSessions({ agentId, metadata: { project: 'alpha' }, limit: 1, cursor: first.nextCursor });
      assert.deepEqual([...first.sessions, ...second.sessions].map((s) => s.sessionId).sort(), ['s1', 's3']);
      await rejectsWith(() => store().listSessions({ agentId, metadata: { project: { nested: 1 } as unknown as string } }), 'invalid_input');
    });

    it('updateSession records the seq a summary covers', async () => {
      const r = ref();
      const { session } = await store().appendRun({ ...r, format: 'plain', items: ['a'] });
      const up = await store().updateSession({ ...r, expectedVersion: session.version, summary: 'S', summarySeq: 1 });
      assert.equal(up.summarySeq, 1);
      const h = await store().readHistory({ ...r, limit: 1 });
      assert.equal(h.session?.summarySeq, 1);
      assert.equal(h.session?.summary, 'S');
      const cleared = await store().updateSession({ ...r, expectedVersion: up.version, summary: null });
      assert.equal(cleared.summarySeq, 0);
    });

    it('iterateRuns reads a whole session in bounded pages, oldest or newest first', async () => {
      const r = ref();
      for (let i = 0; i < 23; i++) await store().appendRun({ ...r, format: 'plain', items: [`r${i}`] });
      const asc: number[] = [];
      for await (const run of iterateRuns(store(), r, { order: 'asc', pageSize: 5 })) asc.push(run.seq);
      assert.deepEqual(asc, Array.from({ length: 23 }, (_, i) => i + 1));
      const desc: number[] = [];
      for await (const run of iterateRuns(store(), r, { pageSize: 4 })) desc.push(run.seq);
      assert.deepEqual(desc, Array.from({ length: 23 }, (_, i) => 23 - i));
    });

    it('a session exported and imported elsewhere comes back unchanged', async () => {
      const r = ref('owner-1');
      await store().appendRun({ ...r, format: 'plain', items: items(2), title: 'T', preview: 'p', usage: { totalTokens: 3 }, sessionMetadata: { k: 'v' }, metadata: { m: 1 } });
      await store().appendRun({ ...r, format: 'plain', items: ['failed'], status: 'failed' });
      await store().appendRun({ ...r, format: 'plain', items: ['waiting'], status: 'interrupted' });
      const h = await store().getSession(r);
      await store().updateSession({ ...r, expectedVersion: h?.version ?? 0, summary: 'sum', summarySeq: 2, state: { s: true } });
      const text = await exportSessionText(store(), r);
      const lines = text.trim().split('\n');
      assert.equal(lines.length, 4);
      const target = { agentId: rid('agent'), sessionId: rid('copy') };
      const imported = await importSession(await another(), text, target);
      const src = await store().getSession(r);
      assert.ok(src);
      for (const k of ['userId', 'createdAt', 'updatedAt', 'expiresAt', 'ttlMs', 'metadata', 'state', 'summary', 'summarySeq', 'lastSeq', 'title', 'preview', 'runCount', 'usage'] as const) {
        assert.deepEqual(imported[k], src[k], k);
      }
      const copied = await store().listRuns({ ...target, userId: 'owner-1', limit: 10 });
      const original = await store().listRuns({ ...r, limit: 10 });
      assert.deepEqual(copied, original);
      await rejectsWith(() => importSession(store(), text, target), 'conflict');
    });

    it('import refuses a newer format, a broken line or a seq gap, naming the line, and writes nothing', async () => {
      const r = ref();
      for (let i = 0; i < 3; i++) await store().appendRun({ ...r, format: 'plain', items: [`x${i}`] });
      const lines = (await exportSessionText(store(), r)).trim().split('\n');
      const target = { agentId: r.agentId, sessionId: rid('imp') };
      const newer = [lines[0]?.replace('"version":1', '"version":99'), ...lines.slice(1)].join('\n');
      const broken = [lines[0], lines[1], '{"run": {', lines[3]].join('\n');
      const gap = [lines[0], lines[1], lines[3]].join('\n');
      for (const [doc, line] of [[newer, 1], [broken, 3], [gap, 3]] as const) {
        try {
          await importSession(store(), doc, target);
          assert.fail('import succeeded');
        } catch (err) {
          assert.equal((err as { code?: string }).code, 'invalid_input');
          assert.match((err as Error).message, new RegExp(`line ${line}`));
        }
        assert.equal(await store().getSession(target), null);
      }
    });

    it('forkSession copies a session up to a seq under a new id and leaves the source alone', async () => {
      const r = ref('u-fork');
      for (let i = 1; i <= 5; i++) await store().appendRun({ ...r, format: 'plain', items: [`t${i}`] });
      const fork = await forkSession(store(), r, { throughSeq: 3 });
      assert.notEqual(fork.sessionId, r.sessionId);
      assert.equal(fork.userId, 'u-fork');
      assert.equal(fork.lastSeq, 3);
      const runs = await store().listRuns({ agentId: r.agentId, sessionId: fork.sessionId, limit: 10 });
      assert.deepEqual(runs.map((x) => x.items[0]), ['t1', 't2', 't3']);
      const next = await store().appendRun({ agentId: r.agentId, sessionId: fork.sessionId, userId: 'u-fork', format: 'plain', items: ['t4b'] });
      assert.equal(next.run.seq, 4);
      assert.equal((await store().getSession(r))?.lastSeq, 5);
    });

    it('a user\'s data is counted and erased across agents, page by page, and nobody else\'s', async () => {
      const user = rid('user');
      const agents = [rid('agent'), rid('agent')];
      for (const agentId of agents) {
        for (let i = 0; i < 3; i++) await store().appendRun({ agentId, sessionId: rid('s'), userId: user, format: 'plain', items: ['a'] });
      }
      const bystander = { agentId: agents[0] as string, sessionId: rid('other'), userId: rid('user') };
      await store().appendRun({ ...bystander, format: 'plain', items: ['keep'] });
      const unowned = { agentId: agents[0] as string, sessionId: rid('nobody') };
      await store().appendRun({ ...unowned, format: 'plain', items: ['keep'] });
      assert.deepEqual(await countUserData(store(), { userId: user, pageSize: 2 }), { sessions: 6, runs: 6 });
      assert.deepEqual(await countUserData(store(), { userId: user, agentId: agents[1] }), { sessions: 3, runs: 3 });
      const pages: number[] = [];
      const erased = await deleteUserData(store(), { userId: user, pageSize: 2, onProgress: (p) => pages.push(p.sessions) });
      assert.deepEqual(erased, { sessions: 6, runs: 6 });
      assert.ok(pages.length >= 3);
      assert.deepEqual(await countUserData(store(), { userId: user }), { sessions: 0, runs: 0 });
      assert.ok(await store().getSession(bystander));
      assert.ok(await store().getSession(unowned));
    });
  });
}
