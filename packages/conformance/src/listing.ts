import assert from 'node:assert/strict';
import type { SessionHeader } from '@agent-sessions/core/store';
import { part, ref, rid, rejectsWith, sleep, type ConformanceOptions } from './context.js';

function sortedNewestFirst(list: SessionHeader[]): boolean {
  for (let i = 1; i < list.length; i++) {
    const a = list[i - 1] as SessionHeader;
    const b = list[i] as SessionHeader;
    if (a.updatedAt < b.updatedAt) return false;
    if (a.updatedAt === b.updatedAt && a.sessionId <= b.sessionId) return false;
  }
  return true;
}

/** Listing sessions: by agent and user, newest first, keyset pages, time filters. */
export function listingTests(options: ConformanceOptions): void {
  part(options, 'listing', ({ it, store }) => {
    it('listSessions lists an agent\'s sessions newest first', async () => {
      const agentId = rid('agent');
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const sessionId = rid('s');
        ids.push(sessionId);
        await store().appendRun({ agentId, sessionId, format: 'plain', items: ['x'] });
      }
      const page = await store().listSessions({ agentId });
      assert.equal(page.sessions.length, 5);
      assert.equal(page.nextCursor, null);
      assert.ok(sortedNewestFirst(page.sessions));
      assert.deepEqual(new Set(page.sessions.map((s) => s.sessionId)), new Set(ids));
    });

    it('a session moves to the front when it is written to', async () => {
      const agentId = rid('agent');
      await store().appendRun({ agentId, sessionId: 'old', format: 'plain', items: ['x'] });
      await sleep(5);
      await store().appendRun({ agentId, sessionId: 'new', format: 'plain', items: ['x'] });
      await sleep(5);
      await store().appendRun({ agentId, sessionId: 'old', format: 'plain', items: ['x'] });
      const page = await store().listSessions({ agentId });
      assert.deepEqual(page.sessions.map((s) => s.sessionId), ['old', 'new']);
    });

    it('listing by user returns only that user\'s sessions', async () => {
      const agentId = rid('agent');
      await store().appendRun({ agentId, sessionId: 'a1', userId: 'alice', format: 'plain', items: ['x'] });
      await store().appendRun({ agentId, sessionId: 'a2', userId: 'alice', format: 'plain', items: ['x'] });
      await store().appendRun({ agentId, sessionId: 'b1', userId: 'bob', format: 'plain', items: ['x'] });
      await store().appendRun({ agentId, sessionId: 'n1', format: 'plain', items: ['x'] });
      const alice = await store().listSessions({ agentId, userId: 'alice' });
      assert.deepEqual(alice.sessions.map((s) => s.sessionId).sort(), ['a1', 'a2']);
      const bob = await store().listSessions({ agentId, userId: 'bob' });
      assert.deepEqual(bob.sessions.map((s) => s.sessionId), ['b1']);
      assert.deepEqual((await store().listSessions({ agentId, userId: 'carol' })).sessions, []);
      assert.equal((await store().listSessions({ agentId })).sessions.length, 4);
    });

    it('keyset pages visit every session exactly once, in order', async () => {
      const agentId = rid('agent');
      for (let i = 0; i < 7; i++) await store().appendRun({ agentId, sessionId: `s${i}`, format: 'plain', items: ['x'] });
      const seen: SessionHeader[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await store().listSessions({ agentId, limit: 3, cursor });
        assert.ok(page.sessions.length <= 3);
        seen.push(...page.sessions);
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor && pages < 10);
      assert.equal(pages, 3);
      assert.equal(seen.length, 7);
      assert.equal(new Set(seen.map((s) => s.sessionId)).size, 7);
      assert.ok(sortedNewestFirst(seen));
    });

    it('updatedAfter and updatedBefore filter by update time', async () => {
      const agentId = rid('agent');
      await store().appendRun({ agentId, sessionId: 'early', format: 'plain', items: ['x'] });
      await sleep(20);
      const mid = Date.now();
      await sleep(20);
      await store().appendRun({ agentId, sessionId: 'late', format: 'plain', items: ['x'] });
      const after = await store().listSessions({ agentId, updatedAfter: mid });
      assert.deepEqual(after.sessions.map((s) => s.sessionId), ['late']);
      const before = await store().listSessions({ agentId, updatedBefore: mid });
      assert.deepEqual(before.sessions.map((s) => s.sessionId), ['early']);
    });

    it('deleted sessions and other agents\' sessions never appear', async () => {
      const agentId = rid('agent');
      await store().appendRun({ agentId, sessionId: 'keep', format: 'plain', items: ['x'] });
      await store().appendRun({ agentId, sessionId: 'gone', format: 'plain', items: ['x'] });
      await store().appendRun({ ...ref(), format: 'plain', items: ['x'] });
      await store().deleteSession({ agentId, sessionId: 'gone' });
      const page = await store().listSessions({ agentId });
      assert.deepEqual(page.sessions.map((s) => s.sessionId), ['keep']);
    });

    it('a cursor this library did not issue fails with invalid_input', async () => {
      await rejectsWith(() => store().listSessions({ agentId: rid('agent'), cursor: 'not-a-cursor' }), 'invalid_input');
    });

    it('an agent with no sessions lists an empty page', async () => {
      const page = await store().listSessions({ agentId: rid('agent') });
      assert.deepEqual(page, { sessions: [], nextCursor: null });
    });
  });
}
