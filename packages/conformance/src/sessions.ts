import assert from 'node:assert/strict';
import { part, ref, rejectsWith, items, type ConformanceOptions } from './context.js';

/** Session headers: creation on first use, optimistic updates, delete. */
export function sessionTests(options: ConformanceOptions): void {
  part(options, 'sessions', ({ it, store }) => {
    it('getSession returns null for a session that does not exist', async () => {
      assert.equal(await store().getSession(ref()), null);
    });

    it('appendRun creates the session on first use, at version 1 and lastSeq 1', async () => {
      const r = ref('user-1');
      const res = await store().appendRun({ ...r, format: 'plain', items: items(2), sessionMetadata: { topic: 'x' } });
      assert.equal(res.created, true);
      assert.equal(res.session.version, 1);
      assert.equal(res.session.lastSeq, 1);
      const h = await store().getSession(r);
      assert.ok(h);
      assert.equal(h.agentId, r.agentId);
      assert.equal(h.sessionId, r.sessionId);
      assert.equal(h.userId, 'user-1');
      assert.equal(h.lastSeq, 1);
      assert.equal(h.version, 1);
      assert.deepEqual(h.metadata, { topic: 'x' });
      assert.deepEqual(h.state, {});
      assert.equal(h.summary, null);
      assert.ok(h.createdAt <= h.updatedAt);
      assert.equal(h.expiresAt, null);
      assert.equal(h.ttlMs, null);
    });

    it('sessionMetadata applies only when the append creates the session', async () => {
      const r = ref();
      await store().appendRun({ ...r, format: 'plain', items: ['x'], sessionMetadata: { a: 1 } });
      await store().appendRun({ ...r, format: 'plain', items: ['x'], sessionMetadata: { a: 2 } });
      assert.deepEqual((await store().getSession(r))?.metadata, { a: 1 });
    });

    it('every append bumps version and lastSeq and never moves updatedAt back', async () => {
      const r = ref();
      const a = await store().appendRun({ ...r, format: 'plain', items: items(1) });
      const b = await store().appendRun({ ...r, format: 'plain', items: items(1) });
      assert.equal(b.session.version, a.session.version + 1);
      assert.equal(b.session.lastSeq, 2);
      assert.ok(b.session.updatedAt >= a.session.updatedAt);
      assert.equal(b.session.createdAt, a.session.createdAt);
    });

    it('createSession creates an empty session, then returns the existing one', async () => {
      const r = ref();
      const first = await store().createSession({ ...r, metadata: { k: 'v' }, state: { step: 1 } });
      assert.equal(first.created, true);
      assert.equal(first.session.lastSeq, 0);
      assert.equal(first.session.version, 1);
      const second = await store().createSession({ ...r, metadata: { k: 'other' } });
      assert.equal(second.created, false);
      assert.deepEqual(second.session.metadata, { k: 'v' });
      assert.deepEqual(second.session.state, { step: 1 });
      const run = await store().appendRun({ ...r, format: 'plain', items: items(1) });
      assert.equal(run.run.seq, 1);
    });

    it('updateSession replaces metadata, state and summary and bumps the version', async () => {
      const r = ref();
      const { session } = await store().appendRun({ ...r, format: 'plain', items: items(1) });
      const next = await store().updateSession({
        ...r,
        expectedVersion: session.version,
        metadata: { m: true },
        state: { counter: 2, nested: { a: [1, 2] } },
        summary: 'they talked about cats',
      });
      assert.equal(next.version, session.version + 1);
      const h = await store().getSession(r);
      assert.deepEqual(h?.metadata, { m: true });
      assert.deepEqual(h?.state, { counter: 2, nested: { a: [1, 2] } });
      assert.equal(h?.summary, 'they talked about cats');
      assert.equal(h?.lastSeq, 1);
      const partial = await store().updateSession({ ...r, expectedVersion: next.version, summary: null });
      assert.equal(partial.summary, null);
      assert.deepEqual(partial.metadata, { m: true });
    });

    it('updateSession with a stale version fails with conflict and changes nothing', async () => {
      const r = ref();
      const { session } = await store().appendRun({ ...r, format: 'plain', items: items(1) });
      await store().updateSession({ ...r, expectedVersion: session.version, state: { v: 1 } });
      await rejectsWith(() => store().updateSession({ ...r, expectedVersion: session.version, state: { v: 2 } }), 'conflict');
      assert.deepEqual((await store().getSession(r))?.state, { v: 1 });
    });

    it('an append in between makes an earlier version stale', async () => {
      const r = ref();
      const { session } = await store().appendRun({ ...r, format: 'plain', items: items(1) });
      await store().appendRun({ ...r, format: 'plain', items: items(1) });
      await rejectsWith(() => store().updateSession({ ...r, expectedVersion: session.version, state: {} }), 'conflict');
    });

    it('of two concurrent updates with the same version exactly one wins', async () => {
      const r = ref();
      const { session } = await store().appendRun({ ...r, format: 'plain', items: items(1) });
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          store().updateSession({ ...r, expectedVersion: session.version, state: { writer: i } }),
        ),
      );
      const won = results.filter((x) => x.status === 'fulfilled');
      assert.equal(won.length, 1);
      for (const x of results) {
        if (x.status === 'rejected') assert.equal((x.reason as { code?: string }).code, 'conflict');
      }
    });

    it('updateSession on a missing session fails with not_found', async () => {
      await rejectsWith(() => store().updateSession({ ...ref(), expectedVersion: 1, state: {} }), 'not_found');
    });

    it('deleteSession removes the session and all its runs, and returns false the second time', async () => {
      const r = ref();
      await store().appendRun({ ...r, format: 'plain', items: items(2) });
      await store().appendRun({ ...r, format: 'plain', items: items(2) });
      assert.equal(await store().deleteSession(r), true);
      assert.equal(await store().getSession(r), null);
      assert.deepEqual(await store().listRuns({ ...r, limit: 10 }), []);
      assert.equal(await store().deleteSession(r), false);
    });

    it('appending after deleteSession starts a new session at seq 1', async () => {
      const r = ref();
      await store().appendRun({ ...r, runId: 'run-a', format: 'plain', items: items(1) });
      await store().appendRun({ ...r, format: 'plain', items: items(1) });
      await store().deleteSession(r);
      const res = await store().appendRun({ ...r, runId: 'run-a', format: 'plain', items: items(1) });
      assert.equal(res.created, true);
      assert.equal(res.run.seq, 1);
      assert.equal((await store().listRuns({ ...r, limit: 10 })).length, 1);
    });

  });
}
