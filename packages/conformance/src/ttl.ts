import assert from 'node:assert/strict';
import { part, ref, rid, rejectsWith, sleep, type ConformanceOptions } from './context.js';

/** Time to live: expired sessions vanish from every read, writes refresh, prune cleans up. */
export function ttlTests(options: ConformanceOptions): void {
  part(options, 'ttl', ({ it, store, options: o }) => {
    const ttl = o.ttlMs;

    it('a session with a TTL is invisible once it expires: get, runs and listing', async () => {
      const r = ref();
      const res = await store().appendRun({ ...r, format: 'plain', items: ['x'], ttl });
      assert.equal(res.session.ttlMs, ttl);
      assert.ok(res.session.expiresAt !== null && res.session.expiresAt >= res.session.updatedAt + ttl - 5);
      assert.ok(await store().getSession(r));
      await sleep(ttl + 250);
      assert.equal(await store().getSession(r), null);
      assert.deepEqual(await store().listRuns({ ...r, limit: 10 }), []);
      assert.deepEqual((await store().listSessions({ agentId: r.agentId })).sessions, []);
      assert.equal(await store().popItem(r), null);
      assert.equal(await store().deleteSession(r), false);
    });

    it('every write refreshes the TTL', async () => {
      const r = ref();
      await store().appendRun({ ...r, format: 'plain', items: ['a'], ttl: ttl * 2 });
      await sleep(ttl);
      await store().appendRun({ ...r, format: 'plain', items: ['b'] });
      await sleep(ttl + 250);
      const h = await store().getSession(r);
      assert.ok(h, 'the session expired although a write refreshed it');
      assert.equal(h.ttlMs, ttl * 2);
      assert.equal((await store().listRuns({ ...r, limit: 10 })).length, 2);
    });

    it('accepts TTLs as duration strings', async () => {
      const r = ref();
      const res = await store().appendRun({ ...r, format: 'plain', items: ['x'], ttl: '2h' });
      assert.equal(res.session.ttlMs, 7_200_000);
      const c = await store().createSession({ ...ref(), ttl: '30m' });
      assert.equal(c.session.ttlMs, 1_800_000);
    });

    it('ttl null makes a session that never expires', async () => {
      const r = ref();
      await store().appendRun({ ...r, format: 'plain', items: ['x'], ttl });
      const res = await store().appendRun({ ...r, format: 'plain', items: ['x'], ttl: null });
      assert.equal(res.session.expiresAt, null);
      assert.equal(res.session.ttlMs, null);
      await sleep(ttl + 250);
      assert.ok(await store().getSession(r));
    });

    it('appending to an expired session starts a new one at seq 1 without the old runs', async () => {
      const r = ref();
      await store().appendRun({ ...r, runId: 'old-1', format: 'plain', items: ['old'], ttl });
      await store().appendRun({ ...r, runId: 'old-2', format: 'plain', items: ['old'] });
      await sleep(ttl + 250);
      const res = await store().appendRun({ ...r, runId: 'old-1', format: 'plain', items: ['new'] });
      assert.equal(res.created, true);
      assert.equal(res.run.seq, 1);
      const runs = await store().listRuns({ ...r, limit: 10 });
      assert.deepEqual(runs.map((x) => x.items), [['new']]);
    });

    it('prune removes expired sessions and leaves live ones', async () => {
      const agentId = rid('agent');
      await store().appendRun({ agentId, sessionId: 'short', format: 'plain', items: ['a', 'b'], ttl });
      await store().appendRun({ agentId, sessionId: 'long', format: 'plain', items: ['c'] });
      await sleep(ttl + 250);
      const res = await store().prune({ agentId });
      if (!store().capabilities.nativeTtl) assert.equal(res.sessions, 1);
      assert.ok(res.sessions <= 1);
      const page = await store().listSessions({ agentId });
      assert.deepEqual(page.sessions.map((s) => s.sessionId), ['long']);
      assert.equal((await store().listRuns({ agentId, sessionId: 'long', limit: 5 })).length, 1);
    });

    it('prune with runsOlderThan removes old runs and keeps newer ones', async () => {
      const r = ref();
      await store().appendRun({ ...r, format: 'plain', items: ['old'] });
      await sleep(300);
      await store().appendRun({ ...r, format: 'plain', items: ['new'] });
      const res = await store().prune({ agentId: r.agentId, runsOlderThan: 150 });
      assert.equal(res.runs, 1);
      const runs = await store().listRuns({ ...r, limit: 10 });
      assert.deepEqual(runs.map((x) => x.items), [['new']]);
      assert.equal(runs[0]?.seq, 2);
    });

    it('an invalid TTL fails with invalid_input before anything is written', async () => {
      const r = ref();
      await rejectsWith(() => store().appendRun({ ...r, format: 'plain', items: ['x'], ttl: 'soon' }), 'invalid_input');
      await rejectsWith(() => store().appendRun({ ...r, format: 'plain', items: ['x'], ttl: -5 }), 'invalid_input');
      assert.equal(await store().getSession(r), null);
    });
  });
}
