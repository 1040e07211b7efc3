import assert from 'node:assert/strict';
import type { SessionStore } from '@agent-sessions/core/store';
import { part, ref, rid, rejectsWith, type ConformanceOptions } from './context.js';

/** Scoping: agents never meet, and naming another user behaves as if the session did not exist. */
export function isolationTests(options: ConformanceOptions): void {
  part(options, 'isolation', ({ it, store }) => {
    const owned = async (s: SessionStore) => {
      const r = { agentId: rid('agent'), sessionId: rid('sess'), userId: 'alice' };
      await s.appendRun({ ...r, format: 'plain', items: ['secret'] });
      return r;
    };

    it('two agents\' sessions with the same id never meet', async () => {
      const sessionId = 'test';
      const a = { agentId: rid('agent'), sessionId };
      const b = { agentId: rid('agent'), sessionId };
      await store().appendRun({ ...a, format: 'plain', items: ['from a'] });
      assert.equal(await store().getSession(b), null);
      assert.deepEqual(await store().listRuns({ ...b, limit: 5 }), []);
      const res = await store().appendRun({ ...b, format: 'plain', items: ['from b'] });
      assert.equal(res.run.seq, 1);
      assert.equal(await store().deleteSession(b), true);
      assert.deepEqual((await store().listRuns({ ...a, limit: 5 }))[0]?.items, ['from a']);
    });

    it('another user cannot read the session or its runs', async () => {
      const r = await owned(store());
      assert.equal(await store().getSession({ ...r, userId: 'mallory' }), null);
      assert.deepEqual(await store().listRuns({ ...r, userId: 'mallory', limit: 10 }), []);
    });

    it('another user cannot list the session', async () => {
      const r = await owned(store());
      assert.deepEqual((await store().listSessions({ agentId: r.agentId, userId: 'mallory' })).sessions, []);
    });

    it('another user cannot append to the session, and nothing is written', async () => {
      const r = await owned(store());
      await rejectsWith(() => store().appendRun({ ...r, userId: 'mallory', format: 'plain', items: ['x'] }), 'not_found');
      const runs = await store().listRuns({ ...r, limit: 10 });
      assert.deepEqual(runs.map((x) => x.items), [['secret']]);
      assert.equal((await store().getSession(r))?.version, 1);
    });

    it('another user cannot update the session', async () => {
      const r = await owned(store());
      await rejectsWith(() => store().updateSession({ ...r, userId: 'mallory', expectedVersion: 1, state: { x: 1 } }), 'not_found');
      assert.deepEqual((await store().getSession(r))?.state, {});
    });

    it('another user cannot delete the session or pop its items', async () => {
      const r = await owned(store());
      assert.equal(await store().deleteSession({ ...r, userId: 'mallory' }), false);
      assert.equal(await store().popItem({ ...r, userId: 'mallory' }), null);
      assert.equal((await store().listRuns({ ...r, limit: 10 }))[0]?.items.length, 1);
    });

    it('another agent cannot read, append to, update or delete the session', async () => {
      const r = await owned(store());
      const other = { ...r, agentId: rid('agent') };
      assert.equal(await store().getSession(other), null);
      assert.deepEqual((await store().listSessions({ agentId: other.agentId })).sessions, []);
      await rejectsWith(() => store().updateSession({ ...other, expectedVersion: 1, state: {} }), 'not_found');
      assert.equal(await store().deleteSession(other), false);
      const res = await store().appendRun({ ...other, format: 'plain', items: ['mine'] });
      assert.equal(res.run.seq, 1);
      assert.deepEqual((await store().listRuns({ ...r, limit: 10 })).map((x) => x.items), [['secret']]);
    });

    it('a user cannot claim a session that belongs to no user', async () => {
      const r = ref();
      await store().appendRun({ ...r, format: 'plain', items: ['shared'] });
      assert.equal(await store().getSession({ ...r, userId: 'alice' }), null);
      await rejectsWith(() => store().appendRun({ ...r, userId: 'alice', format: 'plain', items: ['x'] }), 'not_found');
    });

    it('a call that names no user (a trusted server) reaches a user\'s session', async () => {
      const r = await owned(store());
      const { userId: _drop, ...noUser } = r;
      assert.equal((await store().getSession(noUser))?.userId, 'alice');
      assert.equal((await store().listRuns({ ...noUser, limit: 1 })).length, 1);
    });

    it('ids that look like key patterns or share prefixes never collide', async () => {
      const agentId = rid('agent');
      const ids = ['a', 'a:b', 'a:*', '*', '{a}', 'a}', 'a b', 'a\\', '%', 'ä', 'a/b', '$a', 'a.b', "a'--"];
      for (const sessionId of ids) await store().appendRun({ agentId, sessionId, format: 'plain', items: [sessionId] });
      for (const sessionId of ids) {
        const runs = await store().listRuns({ agentId, sessionId, limit: 5 });
        assert.deepEqual(runs.map((x) => x.items), [[sessionId]], `session '${sessionId}'`);
      }
      assert.equal((await store().listSessions({ agentId, limit: 100 })).sessions.length, ids.length);
      await store().deleteSession({ agentId, sessionId: '*' });
      assert.equal((await store().listSessions({ agentId, limit: 100 })).sessions.length, ids.length - 1);
      assert.equal((await store().listRuns({ agentId, sessionId: 'a', limit: 5 })).length, 1);
    });
  });
}
